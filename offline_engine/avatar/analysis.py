"""What the renderer learns from a selfie: the face, its geometry, the head's cut-out, the light.

``analyse(data)`` decodes the image, chooses the one human face to use (``face_choice.py``: the
detector's candidates checked with the face mesh, the main face of a group, or a refusal),
fixes the head's frame (an upright square around the head, in units of the face's width) and
segments that frame (``vision/person_segmentation.py``), keeping only the main face's person
(``main_person.py``). It also takes what the drawn body must match: skin tone, the side the
light comes from, and a build hint from the face's proportions. Errors a person can act on
(unreadable image; no face, not a human face, too small, cut off, no main face) are raised as
``RuntimeFailure`` with the protocol's error names.

Everything here depends only on the image bytes, so the renderer caches it per selfie: retries,
other aspect ratios and ``num_images`` variants reuse one analysis."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageOps

from ..errors import RuntimeFailure
from ..vision.face_landmarks import FaceGeometry
from ..vision.person_segmentation import INPUT_SIZE as SEGMENT_SIZE
from ..vision.person_segmentation import segment
from .face_choice import MIN_FACE_PX, NO_FACE_MESSAGE, ChosenFace, choose_face
from .main_person import main_person_only

__all__ = ["MIN_FACE_PX", "NO_FACE_MESSAGE", "analyse", "choose_face", "decode", "find_face"]
WORK_MAX_SIDE = 2048  # bigger inputs are shrunk first; the head never needs more pixels
# JPEGs decode straight at 1/2, 1/4 or 1/8 scale, each side at least this: a 12 MP selfie at a
# quarter (1000x750), where its face, a third of the frame, is still twice what a 1k avatar
# shows of it; every later step then works on a quarter of the pixels (12 ms less than a half).
DRAFT_SIZE = 720
TILT_IGNORED = math.radians(5.0)  # a head tilted less than this is kept as shot, unrotated

# The head's frame, in face widths around the middle of the face: room for big hair above and
# the neck below, as seen upright.
FRAME_HALF_WIDTH = 1.7
FRAME_ABOVE_EYES = 1.55
FRAME_SIDE = 3.4
TURNED_WIDTH_PER_HEIGHT = 0.8  # the least face width per face height taken as the unit

UNREADABLE_MESSAGE = "The face image could not be read as an image (JPEG, PNG or WebP expected)."

LUMA = np.array([0.299, 0.587, 0.114], np.float32)


@dataclass(frozen=True)
class Face:
    """The chosen face box in the working image, in its pixels."""

    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class Decoded:
    rgb: np.ndarray  # upright RGB uint8, longest side at most WORK_MAX_SIDE
    scale: float  # working pixels per original pixel (1.0 when not shrunk)


@dataclass(frozen=True)
class HeadFrame:
    """An upright square around the head, in face widths, and how it sits in the photo.

    Frame coordinates (u, v) are in face widths from ``anchor`` (the middle of the face, between
    the cheekbones), u to the right, v down, after undoing ``angle`` (the head's tilt, or 0 for a
    nearly level head). The square spans u in [-FRAME_HALF_WIDTH, FRAME_HALF_WIDTH] and v in
    [top, top + FRAME_SIDE].
    """

    anchor: np.ndarray  # image pixels
    angle: float  # radians; the photo is turned by -angle to make the head upright
    face_px: float  # the face width in image pixels
    top: float

    def rotation(self) -> np.ndarray:
        c, s = math.cos(self.angle), math.sin(self.angle)
        return np.array([[c, -s], [s, c]])

    def to_frame(self, points: np.ndarray) -> np.ndarray:
        """Image pixels to frame coordinates."""
        return (np.asarray(points, np.float64) - self.anchor) @ self.rotation() / self.face_px

    def frame_to_image(self, size: int) -> np.ndarray:
        """2x3 affine from the pixels of a ``size``-pixel square of the frame to image pixels."""
        r = self.rotation() * self.face_px
        linear = r * (FRAME_SIDE / size)
        offset = self.anchor + r @ np.array([-FRAME_HALF_WIDTH, self.top])
        return np.hstack([linear, offset[:, None]])


@dataclass(frozen=True)
class Landmarks:
    """The face's named places in frame coordinates (face widths, upright)."""

    eye_mid: np.ndarray
    chin: np.ndarray
    forehead: np.ndarray
    right_jaw: np.ndarray
    left_jaw: np.ndarray
    oval: np.ndarray


@dataclass(frozen=True)
class Analysis:
    rgb: np.ndarray  # the working image
    scale: float  # working pixels per original pixel
    face: Face
    geometry: FaceGeometry  # in working-image pixels
    frame: HeadFrame
    landmarks: Landmarks  # in frame coordinates
    person: np.ndarray  # person probability over the frame, SEGMENT_SIZE square
    skin: np.ndarray  # float32 RGB of the lit cheeks
    light: float  # -1 (light from the image's left) .. 1 (from its right)
    build_hint: float  # -1 slender .. 1 broad, from the face's proportions


# --- decoding ------------------------------------------------------------------------------------


def decode(data: bytes) -> Decoded:
    """The upright RGB image; raises ImageLoadError if it cannot be read."""
    try:
        image = Image.open(io.BytesIO(data))
        original = image.size
        # For JPEGs, decode straight at a reduced scale: a 12 MP selfie loads 3x faster.
        image.draft("RGB", (DRAFT_SIZE, DRAFT_SIZE))
        scale = image.size[0] / original[0]
        ImageOps.exif_transpose(image, in_place=True)  # a copy would cost 7 ms at 12 MP
        if image.mode in ("RGBA", "LA", "PA") or (
            image.mode == "P" and "transparency" in image.info
        ):
            rgba = image.convert("RGBA")
            flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            image = Image.alpha_composite(flat, rgba)
        rgb = np.asarray(image.convert("RGB"))
    except Exception as exc:  # Pillow raises many types for broken files; all mean the same.
        raise RuntimeFailure("ImageLoadError", UNREADABLE_MESSAGE) from exc
    if rgb.ndim != 3 or min(rgb.shape[:2]) < 8:
        raise RuntimeFailure("ImageLoadError", "The face image is empty or too small to use.")
    longest = max(rgb.shape[:2])
    if longest > WORK_MAX_SIDE:
        k = WORK_MAX_SIDE / longest
        size = (round(rgb.shape[1] * k), round(rgb.shape[0] * k))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        scale *= k
    return Decoded(np.ascontiguousarray(rgb), scale)


def decode_image(data: bytes) -> np.ndarray:
    return decode(data).rgb


# --- the face ------------------------------------------------------------------------------------


def find_face(rgb: np.ndarray, scale: float = 1.0) -> Face:
    """The main face's box; InputValidationError when there is none to use."""
    d = choose_face(rgb, scale).detection
    return Face(round(d.x), round(d.y), round(d.w), round(d.h))


def head_frame(geometry: FaceGeometry) -> HeadFrame:
    angle = geometry.roll if abs(geometry.roll) > TILT_IGNORED else 0.0
    # A face turned aside looks narrower across but not shorter: measure it by its height
    # then (an average face is 0.86 as wide as it is high), or a turned head comes out too big.
    face_px = max(geometry.width, TURNED_WIDTH_PER_HEIGHT * geometry.height, 1.0)
    partial = HeadFrame(geometry.centre, angle, face_px, 0.0)
    eye_v = float(partial.to_frame(geometry.eye_mid)[1])
    return HeadFrame(geometry.centre, angle, face_px, eye_v - FRAME_ABOVE_EYES)


# --- what the body must match --------------------------------------------------------------------


def _patch(rgb: np.ndarray, centre: np.ndarray, radius: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    r = max(2, round(radius))
    x, y = round(centre[0]), round(centre[1])
    return rgb[max(0, y - r) : min(h, y + r + 1), max(0, x - r) : min(w, x + r + 1)]


def skin_tone(rgb: np.ndarray, g: FaceGeometry) -> np.ndarray:
    """Median colour of the cheeks, ignoring their darkest third (stubble, shadow, stray hair)."""
    pixels = np.concatenate(
        [_patch(rgb, c, g.width * 0.07).reshape(-1, 3) for c in (g.right_cheek, g.left_cheek)]
    ).astype(np.float32)
    luma = pixels @ LUMA
    keep = pixels[luma >= np.percentile(luma, 33)]
    return np.median(keep if len(keep) else pixels, axis=0)


def light_side(rgb: np.ndarray, g: FaceGeometry) -> float:
    """Where the key light is: compare the two cheeks' brightness (image left vs right)."""
    left = _patch(rgb, g.right_cheek, g.width * 0.12).astype(np.float32) @ LUMA
    right = _patch(rgb, g.left_cheek, g.width * 0.12).astype(np.float32) @ LUMA
    if left.size == 0 or right.size == 0:
        return 0.0
    diff = float(np.median(right) - np.median(left))
    return max(-1.0, min(1.0, diff / 30.0))


def build_from_face(g: FaceGeometry) -> float:
    """-1 (slender) .. 1 (broad) from the face: a wide face and a wide jaw go with a broad build.

    Width to height and jaw to cheekbone ratios are the two face measures that follow body mass
    in anthropometric studies; the neutral values are those of an average adult face.
    """
    if not g.from_mesh or g.height <= 0:
        return 0.0
    width_ratio = g.width / g.height
    jaw_ratio = g.jaw_width / g.width
    score = (width_ratio - 0.86) / 0.07 + (jaw_ratio - 0.80) / 0.05
    # A turned face looks narrower than it is: trust the measure less the more it is turned.
    trust = max(0.0, 1.0 - abs(g.turn) / 0.35)
    return max(-1.0, min(1.0, score / 2 * trust))


def analyse(data: bytes) -> Analysis:
    decoded = decode(data)
    rgb = decoded.rgb
    chosen: ChosenFace = choose_face(rgb, decoded.scale)
    detection, geometry = chosen.detection, chosen.geometry
    frame = head_frame(geometry)
    to_frame = frame.to_frame
    person = segment(rgb, frame.frame_to_image(SEGMENT_SIZE))
    origin = np.array([-FRAME_HALF_WIDTH, frame.top])

    def to_segment_pixels(points: np.ndarray) -> np.ndarray:
        return (to_frame(points) - origin) * (SEGMENT_SIZE / FRAME_SIDE)

    person = main_person_only(
        person,
        to_segment_pixels(geometry.oval),
        [to_segment_pixels(oval) for oval in chosen.others],
    )
    landmarks = Landmarks(
        eye_mid=to_frame(geometry.eye_mid),
        chin=to_frame(geometry.chin),
        forehead=to_frame(geometry.forehead),
        right_jaw=to_frame(geometry.right_jaw),
        left_jaw=to_frame(geometry.left_jaw),
        oval=to_frame(geometry.oval),
    )
    face = Face(round(detection.x), round(detection.y), round(detection.w), round(detection.h))
    return Analysis(
        rgb=rgb,
        scale=decoded.scale,
        face=face,
        geometry=geometry,
        frame=frame,
        landmarks=landmarks,
        person=person,
        skin=skin_tone(rgb, geometry),
        light=light_side(rgb, geometry),
        build_hint=build_from_face(geometry),
    )
