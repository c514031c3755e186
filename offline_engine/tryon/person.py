"""The person in a try-on's model image: where the face is, how the body sits, its silhouette.

The face (``vision/face_detection.py``, ``vision/face_landmarks.py``) gives the unit everything
is measured in, one face width, and the chin the body hangs from. The selfie segmenter, run on a
square from just above the chin down to the image's bottom, gives the person's silhouette; its
width across the shoulders, the waist and the hips scales the average build of
``avatar/body.py``, so the same ``Figure`` that draws the engine's avatars says where this
person's shoulders, arms and hips are. An avatar made by this engine is measured back almost
exactly; a photo of someone else standing upright, arms down, comes out close.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace

import cv2
import numpy as np
from PIL import Image, ImageOps

from ..avatar.analysis import MIN_FACE_PX, light_side, skin_tone
from ..avatar.body import NEUTRAL, Figure
from ..avatar.compose import NECK_LENGTH, body_skin
from ..errors import RuntimeFailure
from ..vision.face_detection import detect_faces
from ..vision.face_landmarks import face_geometry
from ..vision.networks import SELFIE_SEGMENTER, run
from ..vision.person_segmentation import INPUT_SIZE as SEGMENT_SIZE

LUMA = np.array([0.299, 0.587, 0.114], np.float32)
WORK_MAX_SIDE = 2048  # bigger model images are fitted at this size and scaled back at the end

UNREADABLE_MESSAGE = "The model image could not be read as an image (JPEG, PNG or WebP expected)."
NO_PERSON_MESSAGE = (
    "No person was found in the model image. Use a photo of one person facing the camera, "
    "with the face and upper body visible."
)


@dataclass(frozen=True)
class Person:
    rgb: np.ndarray  # the working image, uint8 RGB
    size: tuple[int, int]  # (width, height) of the model image as sent: the output's size
    figure: Figure  # shoulders, arms, torso widths, in working pixels
    silhouette: np.ndarray  # person probability 0..1 over the working image, float32
    head: np.ndarray  # 0..1 where the head and neck must stay on top of any garment
    near_body: np.ndarray  # 0..1: the silhouette grown by a few pixels (what a garment may cover)
    light: float  # -1 (key light from the image's left) .. 1
    skin: np.ndarray  # float32 RGB of bare arms and shoulders, as the avatars draw them
    arms: dict  # side (-1 the image's left, 1) -> shoulder joint, elbow, wrist (x, y)

    def arm_axis(self, side: int) -> tuple[np.ndarray, ...]:
        """Where one arm hangs: the figure's arm moved onto the silhouette's."""
        return self.arms[side]


def decode_model_image(data: bytes) -> tuple[np.ndarray, tuple[int, int]]:
    """Upright RGB (at most WORK_MAX_SIDE) and the image's own size; ImageLoadError if unusable."""
    try:
        image = Image.open(io.BytesIO(data))
        ImageOps.exif_transpose(image, in_place=True)  # no copy of the whole image
        size = image.size
        if image.mode in ("RGBA", "LA", "PA") or (
            image.mode == "P" and "transparency" in image.info
        ):
            flat = Image.new("RGBA", image.size, (255, 255, 255, 255))
            image = Image.alpha_composite(flat, image.convert("RGBA"))
        image = image.convert("RGB")
    except Exception as exc:  # Pillow raises many types for broken files; all mean the same.
        raise RuntimeFailure("ImageLoadError", UNREADABLE_MESSAGE) from exc
    if min(size) < 32:
        raise RuntimeFailure("ImageLoadError", "The model image is empty or too small to use.")
    image.thumbnail((WORK_MAX_SIDE, WORK_MAX_SIDE), Image.Resampling.LANCZOS)
    return np.ascontiguousarray(np.asarray(image)), size


def body_silhouette(rgb: np.ndarray, chin: np.ndarray, unit: float) -> np.ndarray:
    """Person probability over the whole image from one segmenter run on the body's square.

    The square starts a face width above the chin and reaches the image's bottom (or six face
    widths, whichever is more), centred on the chin: the shoulders and torso fill the model's
    input, as they do in the selfies it was trained on.
    """
    h, w = rgb.shape[:2]
    top = chin[1] - unit
    side = max(h - top, 6.0 * unit)
    left = chin[0] - side / 2
    k = side / SEGMENT_SIZE
    to_image = np.array([[k, 0.0, left], [0.0, k, top]])
    crop = cv2.warpAffine(
        rgb,
        to_image,
        (SEGMENT_SIZE, SEGMENT_SIZE),
        flags=cv2.INTER_AREA | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )
    outputs = run(SELFIE_SEGMENTER, cv2.dnn.blobFromImage(crop.astype(np.float32) / 255.0))
    (mask,) = outputs.values()
    mask = np.clip(mask.reshape(SEGMENT_SIZE, SEGMENT_SIZE), 0.0, 1.0).astype(np.float32)
    full = cv2.warpAffine(mask, to_image, (w, h), flags=cv2.INTER_LINEAR)
    full[: max(0, int(top))] = 0.0  # above the square the segmenter said nothing
    return full


def _width_at(silhouette: np.ndarray, y: float, cx: float) -> float | None:
    """Width of the run of person pixels through (cx, y), or None when it leaves the image."""
    h, w = silhouette.shape
    row = int(round(y))
    if not 0 <= row < h or not 0 <= int(cx) < w:
        return None
    inside = silhouette[row] > 0.5
    if not inside[int(cx)]:
        return None
    outside = np.flatnonzero(~inside)
    left, right = outside[outside < cx], outside[outside > cx]
    if not left.size or not right.size:
        return None  # cut by the image's edge: not a measure of the body
    return float(right[0] - left[-1] - 1)


def _inside_arm(arm: tuple[np.ndarray, ...], arm_half: float, y: float, cx: float) -> float:
    """Distance from the body's middle to the inner edge of an arm at height ``y``."""
    joint, elbow, wrist = arm
    x = float(np.interp(y, [joint[1], elbow[1], wrist[1]], [joint[0], elbow[0], wrist[0]]))
    return abs(x - cx) - 0.7 * arm_half


def _measured(expected: float, width: float | None, low: float, high: float) -> float:
    if width is None:
        return expected
    return float(np.clip(width / 2.0, expected * low, expected * high))


def find_person(data: bytes) -> Person:
    """Analyse a model image; ImageLoadError (unreadable) or PoseError (no person found)."""
    rgb, size = decode_model_image(data)
    scale = rgb.shape[1] / size[0]
    faces = detect_faces(rgb)
    if not faces or faces[0].w / scale < MIN_FACE_PX / 2:
        raise RuntimeFailure("PoseError", NO_PERSON_MESSAGE)
    geometry = face_geometry(rgb, faces[0])
    unit = max(geometry.width, 1.0)
    chin = geometry.chin
    silhouette = body_silhouette(rgb, chin, unit)
    cx = float(chin[0])
    notch = float(chin[1]) + NECK_LENGTH * unit
    average = Figure(NEUTRAL, cx=cx, unit=unit, chin=float(chin[1]), notch=notch, neck_top_x=cx)

    # Scale the average build to the silhouette: the shoulders (arms included, they hang right
    # under the deltoids) set the frame; the waist and hips are taken where the arms leave a gap.
    shoulders = _width_at(silhouette, average.y(0.5), cx)
    k = (
        1.0
        if shoulders is None
        else float(np.clip(shoulders / (2 * NEUTRAL.shoulder * unit), 0.8, 1.35))
    )
    build = replace(
        NEUTRAL,
        shoulder=NEUTRAL.shoulder * k,
        chest=NEUTRAL.chest * k,
        arm=NEUTRAL.arm * k,
        neck=NEUTRAL.neck * min(k, 1.1),
    )
    # Where the arms hang, then the waist and the hips between them: a run of person pixels
    # that reaches an arm is the torso and the arm run together and is cut at the arm.
    scaled = Figure(build, cx=cx, unit=unit, chin=float(chin[1]), notch=notch, neck_top_x=cx)
    skin = body_skin(skin_tone(rgb, geometry), None)
    hands = (rgb, skin)
    arms = {side: _arm_on_silhouette(silhouette, scaled, side, hands) for side in (-1, 1)}
    widths = {}
    for name, level in (("waist", Figure.WAIST), ("hip", Figure.HIP)):
        y = scaled.y(level)
        width = _width_at(silhouette, y, cx)
        if width is not None:
            room = min(_inside_arm(arms[side], build.arm * unit, y, cx) for side in (-1, 1))
            width = min(width, 2 * room)
        expected = getattr(NEUTRAL, name) * k * unit
        widths[name] = _measured(expected, width, 0.85, 1.5) / unit
    build = replace(build, **widths)
    figure = Figure(build, cx=cx, unit=unit, chin=float(chin[1]), notch=notch, neck_top_x=cx)
    # Wide hips push the forearms out (as the avatars draw them): look for the arms again where
    # this build says they hang, or an arm the segmenter lost stays guessed inside the body.
    arms = _mirrored_where_lost(
        {side: _arm_on_silhouette(silhouette, figure, side, hands) for side in (-1, 1)}, figure
    )
    return Person(
        rgb=rgb,
        size=size,
        figure=figure,
        silhouette=silhouette,
        head=head_mask(silhouette, figure),
        near_body=grown(silhouette, 0.08 * unit),
        light=light_side(rgb, geometry),
        skin=skin,
        arms=arms,
    )


def _arm_on_silhouette(
    silhouette: np.ndarray, fig: Figure, side: int, hands: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, ...]:
    """Shoulder joint, elbow and wrist of one arm, moved onto the arm the silhouette shows.

    The figure places the arms from the build; the silhouette's outer edge at the elbow and the
    wrist says where they hang. An arm seen apart from the body is trusted; an edge running on
    into the body only when it is close to the guess (the segmenter may have lost a thin arm
    and be showing the hip); else a wrist is looked for over the hand below it (``hands``: the
    image and the skin colour); otherwise the figure's guess stands.
    """
    joint, elbow, wrist = fig.arm_axis(side)
    h, w = silhouette.shape
    u, r = fig.unit, fig.build.arm
    moved = []
    for point, half in ((elbow, 0.78 * r * u), (wrist, 0.55 * r * u)):
        row = int(round(point[1]))
        found = None
        if 0 <= row < h:
            inside = silhouette[row] > 0.5
            x0, x1 = max(0, int(point[0] - 0.8 * u)), min(w, int(point[0] + 0.8 * u))
            hits = np.flatnonzero(inside[x0:x1])
            if hits.size:
                edge = x0 + (hits[-1] + 1 if side > 0 else hits[0])
                between = inside[min(edge, int(fig.cx)) : max(edge, int(fig.cx))]
                apart = not between.all()  # a gap between the arm and the body's middle
                centre = edge - side * half
                if apart or abs(centre - point[0]) < 0.25 * u:
                    found = np.array([centre, point[1]])
        if found is None and point is wrist:
            found = _wrist_over_hand(hands, fig, side, wrist)
        moved.append(point if found is None else found)
    return joint, moved[0], moved[1]


def _wrist_over_hand(hands, fig: Figure, side: int, wrist: np.ndarray) -> np.ndarray | None:
    """The wrist found from the hand hanging under it, or None: the outermost run of skin a
    hand's width across, a little below the figure's wrist, from there outwards. For an arm the
    silhouette runs into the body at the wrist (a light sleeve by a light backdrop beside wide
    hips): its edge there may be the hip's, the hand's colour is its own."""
    rgb, skin = hands
    u = fig.unit
    h, w = rgb.shape[:2]
    y0, y1 = int(wrist[1] + 0.15 * u), int(wrist[1] + 0.35 * u)
    ends = sorted((wrist[0] - side * 0.3 * u, wrist[0] + side * 1.0 * u))
    x0, x1 = max(0, int(ends[0])), min(w, int(ends[1]))
    if y0 < 0 or y1 > h or x1 - x0 < 4:
        return None
    like = skin_likeness(rgb[y0:y1, x0:x1].astype(np.float32), skin).mean(axis=0) > 0.5
    runs = np.flatnonzero(np.diff(np.r_[0, like.astype(np.int8), 0])).reshape(-1, 2)
    widths = runs[:, 1] - runs[:, 0]
    runs = runs[(widths > 0.15 * u) & (widths < 0.7 * u)]
    if not len(runs):
        return None
    start, stop = runs[-1] if side > 0 else runs[0]
    return np.array([x0 + (start + stop) / 2, wrist[1]])


def skin_likeness(rgb: np.ndarray, skin: np.ndarray) -> np.ndarray:
    """0..1: how much a pixel is the body's skin colour at some brightness (hue compared)."""
    total = np.maximum(rgb.sum(axis=2, keepdims=True), 1.0)
    ref = skin / max(float(skin.sum()), 1.0)
    hue = np.abs(rgb / total - ref).sum(axis=2)
    level = (rgb @ LUMA) / max(float(skin @ LUMA), 1.0)
    like = np.clip((0.07 - hue) / 0.03, 0.0, 1.0) * np.clip((level - 0.3) / 0.15, 0.0, 1.0)
    return like.astype(np.float32)


def _mirrored_where_lost(arms: dict, fig: Figure) -> dict:
    """An elbow or wrist the silhouette did not show (a light sleeve on a light backdrop), taken
    as the mirror image of the other arm's when that one was seen: people stand for a try-on
    with both arms hanging alike."""
    out = {side: list(points) for side, points in arms.items()}
    for k in (1, 2):  # elbow, wrist
        seen = {}
        for side in (-1, 1):
            guess = fig.arm_axis(side)[k]
            seen[side] = not np.allclose(arms[side][k], guess)
        for side in (-1, 1):
            if seen[-side] and not seen[side]:
                other = arms[-side][k]
                out[side][k] = np.array([2 * fig.cx - other[0], other[1]])
    return {side: tuple(points) for side, points in out.items()}


def grown(silhouette: np.ndarray, radius: float) -> np.ndarray:
    """The silhouette grown by ``radius`` pixels, with a crisp edge; worked out at half size."""
    h, w = silhouette.shape
    small = cv2.resize(silhouette, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)
    size = max(3, round(radius) | 1)  # a diameter, at half size
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    small = cv2.dilate(small, kernel)
    near = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    # A garment cut along this edge must look cut, not smeared into the backdrop.
    return np.clip((near - 0.45) / 0.1, 0.0, 1.0).astype(np.float32)


def head_mask(silhouette: np.ndarray, fig: Figure) -> np.ndarray:
    """Where the head, hair and neck are: the person above the chin, the neck column below it.

    A garment is laid under this: its collar may sit round the neck, never over the face.
    """
    h, w = silhouette.shape
    u = fig.unit
    mask = np.zeros((h, w), np.float32)
    rows = min(h, max(0, int(fig.notch + u)))  # nothing of the head lies lower
    ys = np.arange(rows, dtype=np.float32)[:, None] + 0.5
    xs = np.arange(w, dtype=np.float32)[None, :] + 0.5
    above_chin = np.clip((fig.chin + 0.05 * u - ys) / (0.04 * u), 0.0, 1.0)
    neck_half = (fig.build.neck + 0.02) * u
    in_column = np.clip((neck_half - np.abs(xs - fig.neck_top_x)) / (0.03 * u), 0.0, 1.0)
    # The neck runs down to just above the notch; the collar covers its base.
    neck_rows = np.clip((fig.notch - 0.12 * u - ys) / (0.06 * u), 0.0, 1.0)
    neck_rows = neck_rows * (ys > fig.chin - 0.6 * u)  # not above the head: a hood shows there
    person = np.clip((silhouette[:rows] - 0.3) / 0.4, 0.0, 1.0)
    mask[:rows] = np.maximum(above_chin * person, in_column * neck_rows)
    return mask
