"""The face-to-model image: the real head from the selfie on a drawn studio upper body.

Deliberately simple (a later issue replaces it with segmentation and landmarks): decode the
selfie, find the largest face with OpenCV's Haar cascade, cut a soft egg-shaped crop of the
expanded face box (hair included), and place it top centre on a studio backdrop above a plain,
shaded upper body in a fitted top. The canvas is laid out in units of its width, so other aspect
ratios extend it downward. Same inputs and seed give the same bytes; the seed picks the top's
colour, neckline and small proportions.
"""

from __future__ import annotations

import hashlib
import io
import math
import random
import threading
from collections import OrderedDict
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageOps

from .errors import RuntimeFailure

# Output sizes at "1k" (about one megapixel, exact ratios); "2k" and "4k" scale them up.
BASE_SIZES = {
    "1:1": (1024, 1024),
    "4:5": (912, 1140),
    "3:4": (888, 1184),
    "2:3": (832, 1248),
    "9:16": (756, 1344),
}
RESOLUTION_SCALE = {"1k": 1, "2k": 2, "4k": 4}
MIN_FACE_PX = 64
DETECT_MAX_SIDE = 400  # the cascade runs on a downscaled copy: fast and still finds selfies
WORK_MAX_SIDE = 2048  # bigger inputs are shrunk first; the head never needs more pixels
SUPERSAMPLE = 2  # silhouettes are drawn at 2x and reduced: anti-aliased edges for free
WORK_SCALE = 2  # the body is shaded at 1/2 size: smooth shading needs no more

NO_FACE_MESSAGE = (
    "No face was found in the image. Use a photo where your face is clearly visible "
    "and facing the camera."
)

# Tops and trousers a catalogue shoot would use; the seed picks one.
TOP_COLOURS = [
    (38, 52, 84),  # navy
    (58, 60, 66),  # charcoal
    (232, 229, 222),  # off-white
    (148, 149, 152),  # heather grey
    (32, 32, 35),  # black
    (92, 98, 66),  # olive
    (112, 38, 50),  # burgundy
    (176, 140, 98),  # camel
    (112, 138, 168),  # dusty blue
    (138, 154, 128),  # sage
    (170, 92, 68),  # terracotta
    (44, 78, 62),  # forest
]
TROUSER_COLOURS = [(46, 56, 78), (36, 36, 40), (190, 176, 150), (88, 90, 96)]
NECKLINES = ("crew", "scoop", "v")


@dataclass(frozen=True)
class RenderOptions:
    aspect_ratio: str = "2:3"
    seed: int = 42
    prompt: str = ""
    output_format: str = "jpeg"
    resolution: str = "1k"
    num_images: int = 1


@dataclass(frozen=True)
class Face:
    """The largest face box in the working image, in its pixels."""

    x: int
    y: int
    w: int
    h: int


def output_size(aspect_ratio: str, resolution: str) -> tuple[int, int]:
    w, h = BASE_SIZES[aspect_ratio]
    k = RESOLUTION_SCALE[resolution]
    return w * k, h * k


# --- decoding and detection -------------------------------------------------------------------


def decode_image(data: bytes) -> np.ndarray:
    """RGB uint8 array of the image, upright per EXIF; raises ImageLoadError if unreadable."""
    try:
        image = Image.open(io.BytesIO(data))
        # For JPEGs, decode straight at a reduced scale: a 12 MP selfie loads 3x faster.
        image.draft("RGB", (WORK_MAX_SIDE, WORK_MAX_SIDE))
        image = ImageOps.exif_transpose(image)
        if image.mode in ("RGBA", "LA", "PA") or (
            image.mode == "P" and "transparency" in image.info
        ):
            rgba = image.convert("RGBA")
            flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            image = Image.alpha_composite(flat, rgba)
        rgb = np.asarray(image.convert("RGB"))
    except Exception as exc:  # Pillow raises many types for broken files; all mean the same.
        raise RuntimeFailure(
            "ImageLoadError",
            "The face image could not be read as an image (JPEG, PNG or WebP expected).",
        ) from exc
    if rgb.ndim != 3 or min(rgb.shape[:2]) < 8:
        raise RuntimeFailure("ImageLoadError", "The face image is empty or too small to use.")
    longest = max(rgb.shape[:2])
    if longest > WORK_MAX_SIDE:
        k = WORK_MAX_SIDE / longest
        size = (round(rgb.shape[1] * k), round(rgb.shape[0] * k))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(rgb)


_cascades = threading.local()  # CascadeClassifier is not safe to share between threads


def _cascade() -> cv2.CascadeClassifier:
    cascade = getattr(_cascades, "face", None)
    if cascade is None:
        path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
        cascade = cv2.CascadeClassifier(path)
        if cascade.empty():
            raise RuntimeError(f"Haar cascade missing at {path}")
        _cascades.face = cascade
    return cascade


def find_face(rgb: np.ndarray) -> Face:
    """The largest face; raises InputValidationError when none is found or it is too small."""
    h, w = rgb.shape[:2]
    k = min(1.0, DETECT_MAX_SIDE / max(h, w))
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if k < 1.0:
        gray = cv2.resize(gray, (round(w * k), round(h * k)), interpolation=cv2.INTER_AREA)
    gray = cv2.equalizeHist(gray)
    found = _cascade().detectMultiScale(gray, scaleFactor=1.12, minNeighbors=5, minSize=(24, 24))
    if len(found) == 0:
        raise RuntimeFailure("InputValidationError", NO_FACE_MESSAGE)
    fx, fy, fw, fh = max(found, key=lambda box: int(box[2]) * int(box[3]))
    face = Face(round(fx / k), round(fy / k), round(fw / k), round(fh / k))
    if face.w < MIN_FACE_PX:
        raise RuntimeFailure(
            "InputValidationError",
            f"The face in the image is too small ({face.w} px wide; at least {MIN_FACE_PX} px "
            "is needed). Use a closer photo or a higher-resolution image.",
        )
    return face


# --- what we take from the selfie -------------------------------------------------------------


@dataclass
class HeadSource:
    rgb: np.ndarray
    face: Face
    skin: np.ndarray  # float32 RGB of the cheeks
    light: float  # -1 (light from image left) .. 1 (from the right)
    grain: float  # noise sigma of the photo, in 0..255 units


def analyse_head(rgb: np.ndarray, face: Face) -> HeadSource:
    f = face
    # Cheeks: below the eyes and beside the nose, where skin is least shadowed.
    patches = []
    for x0, x1 in ((0.18, 0.38), (0.62, 0.82)):
        patch = rgb[
            f.y + int(0.52 * f.h) : f.y + int(0.72 * f.h), f.x + int(x0 * f.w) : f.x + int(x1 * f.w)
        ]
        patches.append(patch.reshape(-1, 3))
    pixels = np.concatenate(patches).astype(np.float32)
    luma = pixels @ np.array([0.299, 0.587, 0.114], np.float32)
    # Drop the darkest third: stubble, shadows and stray hair would darken the body.
    keep = pixels[luma >= np.percentile(luma, 33)]
    skin = np.median(keep if len(keep) else pixels, axis=0)

    face_gray = cv2.cvtColor(rgb[f.y : f.y + f.h, f.x : f.x + f.w], cv2.COLOR_RGB2GRAY)
    face_gray = face_gray.astype(np.float32)
    half = f.w // 2
    diff = float(face_gray[:, half:].mean() - face_gray[:, :half].mean())
    light = max(-1.0, min(1.0, diff / 25.0))
    residual = face_gray - cv2.GaussianBlur(face_gray, (0, 0), 1.5)
    grain = float(np.median(np.abs(residual - np.median(residual))) * 1.4826)
    return HeadSource(rgb, face, skin, light, max(0.8, min(6.0, grain)))


# --- the drawn body ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BodyShape:
    shoulder: float  # half widths, in canvas widths
    chest: float
    waist: float
    hip: float
    neck: float


def body_shape(prompt: str, rng: random.Random) -> BodyShape:
    shoulder, chest, waist, hip, neck = 0.325, 0.235, 0.205, 0.235, 0.074
    words = prompt.lower()
    # Prompt words nudge the build a little; they never change anything else.
    if "athletic" in words:
        shoulder, chest, waist = shoulder * 1.07, chest * 1.04, waist * 0.97
        neck *= 1.06
    if "curvy" in words:
        chest, waist, hip = chest * 1.05, waist * 1.10, hip * 1.14
    if "slender" in words:
        shoulder, chest, waist, hip = shoulder * 0.93, chest * 0.93, waist * 0.90, hip * 0.92
        neck *= 0.95
    j = 1.0 + rng.uniform(-0.015, 0.015)
    return BodyShape(shoulder * j, chest * j, waist * j, hip * j, neck)


def _contour(keys: list[tuple[float, float]], ys: np.ndarray) -> np.ndarray:
    """x at each y along keypoints (y ascending), cosine-eased so curves have no corners."""
    key_y = np.array([k[1] for k in keys])
    key_x = np.array([k[0] for k in keys])
    i = np.clip(np.searchsorted(key_y, ys, side="right") - 1, 0, len(keys) - 2)
    t = np.clip((ys - key_y[i]) / np.maximum(key_y[i + 1] - key_y[i], 1e-6), 0.0, 1.0)
    t = (1 - np.cos(math.pi * t)) / 2
    return key_x[i] + (key_x[i + 1] - key_x[i]) * t


@dataclass
class Layout:
    """Vertical landmarks, in canvas widths from the top."""

    face_top: float = 0.19
    face_w: float = 0.25
    chin: float = 0.465
    neck_base: float = 0.545
    shoulder: float = 0.615

    @property
    def armpit(self) -> float:
        return self.shoulder + 0.15

    @property
    def chest(self) -> float:
        return self.shoulder + 0.33

    @property
    def waist(self) -> float:
        return self.shoulder + 0.72

    @property
    def belt(self) -> float:
        return self.shoulder + 0.97

    @property
    def hip(self) -> float:
        return self.shoulder + 1.08

    @property
    def cuff(self) -> float:
        return self.shoulder + 0.95


class _Pen:
    """Draws in canvas-width units onto a supersampled L-mode mask."""

    def __init__(self, width: int, height: int) -> None:
        self.k = width * SUPERSAMPLE
        self.cx = 0.5
        self.image = Image.new("L", (width * SUPERSAMPLE, height * SUPERSAMPLE), 0)
        self.draw = ImageDraw.Draw(self.image)

    def _pt(self, x: float, y: float) -> tuple[float, float]:
        return ((self.cx + x) * self.k, y * self.k)

    def polygon(self, points: list[tuple[float, float]], fill: int = 255) -> None:
        self.draw.polygon([self._pt(x, y) for x, y in points], fill=fill)

    def ellipse(self, x: float, y: float, rx: float, ry: float, fill: int = 255) -> None:
        (x0, y0), (x1, y1) = self._pt(x - rx, y - ry), self._pt(x + rx, y + ry)
        self.draw.ellipse([x0, y0, x1, y1], fill=fill)

    def mask(self) -> np.ndarray:
        return np.asarray(self.image.reduce(SUPERSAMPLE), dtype=np.float32) / 255.0


def _mirror(side: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Left-side outline (top to bottom) to a closed symmetric polygon."""
    return side + [(-x, y) for x, y in reversed(side)]


def _torso_side(shape: BodyShape, lay: Layout, bottom: float) -> list[tuple[float, float]]:
    s = shape
    base_x = -(s.neck + 0.014)
    tip_x, tip_y = -(s.shoulder - 0.035), lay.shoulder - 0.01
    side = []
    for i in range(9):  # trapezius: steep off the neck, flattening towards the shoulder
        t = i / 8
        side.append(
            (
                base_x + (tip_x - base_x) * t,
                lay.neck_base + (tip_y - lay.neck_base) * (1 - (1 - t) ** 2),
            )
        )
    for i in range(1, 7):  # round over the deltoid
        a = math.pi / 2 + (math.pi / 2) * i / 6
        side.append(
            (
                -(s.shoulder - 0.035) + 0.035 * math.cos(a),
                lay.shoulder + 0.025 - 0.035 * math.sin(a),
            )
        )
    keys = [
        (-s.shoulder, lay.shoulder + 0.03),
        (-(s.chest + 0.012), lay.armpit),
        (-s.chest, lay.chest),
        (-s.waist, lay.waist),
        (-s.hip, lay.hip),
        (-s.hip, bottom),
    ]
    ys = np.linspace(keys[0][1], bottom, 48)
    side.extend(zip(_contour(keys, ys).tolist(), ys.tolist(), strict=True))
    return side


def _arm_edges(shape: BodyShape, lay: Layout) -> tuple[list, list]:
    """Outer and inner edge keypoints of the left arm (x, y), top to bottom."""
    s = shape.shoulder
    outer = [
        (-(s + 0.002), lay.shoulder + 0.07),
        (-(s - 0.008), lay.shoulder + 0.45),
        (-(s - 0.02), lay.cuff),
    ]
    inner = [
        (-(s - 0.105), lay.armpit),
        (-(s - 0.112), lay.shoulder + 0.45),
        (-(s - 0.122), lay.cuff),
    ]
    return outer, inner


@dataclass
class BodyMasks:
    skin: np.ndarray
    top: np.ndarray
    trousers: np.ndarray
    arms: np.ndarray
    hands: np.ndarray


def draw_body(width: int, height: int, shape: BodyShape, lay: Layout, neckline: str) -> BodyMasks:
    bottom = height / width + 0.05
    s = shape

    pen = _Pen(width, height)  # neck and the skin a neckline can reveal
    neck_keys = [
        (-s.neck, lay.chin - 0.08),
        (-(s.neck - 0.004), lay.neck_base - 0.06),
        (-(s.neck + 0.03), lay.neck_base + 0.01),
        (-0.17, lay.neck_base + 0.06),
        (-0.17, lay.neck_base + 0.24),
    ]
    ys = np.linspace(neck_keys[0][1], neck_keys[-1][1], 40)
    pen.polygon(_mirror(list(zip(_contour(neck_keys, ys).tolist(), ys.tolist(), strict=True))))
    skin = pen.mask()

    pen = _Pen(width, height)  # torso, with the neckline cut out
    pen.polygon(_mirror(_torso_side(s, lay, bottom)))
    nb = lay.neck_base
    if neckline == "crew":
        pen.ellipse(0, nb - 0.012, s.neck + 0.024, 0.045, fill=0)
    elif neckline == "scoop":
        pen.ellipse(0, nb - 0.01, s.neck + 0.05, 0.11, fill=0)
    else:
        # Both collar edges start outside the neck, so no point of fabric stands up beside it.
        top = nb - 0.03
        pen.polygon([(-(s.neck + 0.05), top), (s.neck + 0.05, top), (0, nb + 0.15)], fill=0)
    torso = pen.mask()

    pen = _Pen(width, height)  # sleeves: a tapered tube under a rounded deltoid cap
    hands_pen = _Pen(width, height)
    outer, inner = _arm_edges(s, lay)
    cap_x, cap_y, cap_rx, cap_ry = -(s.shoulder - 0.057), lay.shoulder + 0.07, 0.059, 0.08
    cap = [
        (cap_x + cap_rx * math.cos(a), cap_y + cap_ry * math.sin(a))
        for a in np.linspace(-math.pi / 6, -math.pi, 14)
    ]
    ys = np.linspace(cap_y, lay.cuff, 32)
    yi = np.linspace(cap[0][1], lay.cuff, 32)
    inner = [(cap[0][0], cap[0][1]), *inner]
    left = cap + list(zip(_contour(outer, ys).tolist(), ys.tolist(), strict=True))
    left += list(zip(_contour(inner, yi).tolist(), yi.tolist(), strict=True))[::-1]
    for sign in (-1, 1):
        pen.polygon(left if sign < 0 else [(-x, y) for x, y in left])
        hands_pen.ellipse(sign * -(s.shoulder - 0.072), lay.cuff + 0.065, 0.042, 0.078)
    arms = pen.mask()
    hands = hands_pen.mask() * (1.0 - arms)

    # The top ends at the belt line; below it the same silhouette is trousers.
    rows = (np.arange(height, dtype=np.float32) + 0.5) / width
    below = np.clip((rows - lay.belt) * width, 0.0, 1.0)[:, None]
    return BodyMasks(skin, torso * (1 - below), torso * below, arms, hands)


def _bbox(mask: np.ndarray, pad: int = 8) -> tuple[slice, slice] | None:
    """Rows and columns where ``mask`` is non-zero, padded; None when empty."""
    rows = np.flatnonzero(mask.max(axis=1) > 1e-3)
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask[rows[0] : rows[-1] + 1].max(axis=0) > 1e-3)
    h, w = mask.shape
    return (
        slice(max(0, rows[0] - pad), min(h, rows[-1] + 1 + pad)),
        slice(max(0, cols[0] - pad), min(w, cols[-1] + 1 + pad)),
    )


def _round_shade(mask: np.ndarray, radius: float, light: float) -> np.ndarray:
    """Brightness of a rounded form with this silhouette (a tube of ``radius`` px at its edges).

    The distance to the silhouette edge gives each pixel's surface normal; a soft key light from
    above, on the face's brighter side, then shades it. Works for any part, caps included.
    """
    binary = (mask > 0.5).astype(np.uint8)
    dist = cv2.distanceTransform(binary, cv2.DIST_L2, 5)
    t = np.minimum(dist / radius, 1.0)
    z = np.sqrt(1.0 - (1.0 - t) ** 2)  # facing the camera inside, turning away at the edge
    smooth = cv2.GaussianBlur(dist, (0, 0), 1.5)
    gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3)
    norm = np.sqrt(gx * gx + gy * gy) + 1e-6
    side = np.sqrt(np.maximum(0.0, 1.0 - z * z)) / norm  # outward normal is -gradient
    lx, ly, lz = 0.42 * light, -0.45, 0.80
    lambert = np.maximum(0.0, -gx * side * lx - gy * side * ly + z * lz)
    return 0.50 + 0.55 * lambert


def _blur(mask: np.ndarray, sigma: float) -> np.ndarray:
    """A wide Gaussian blur, done at quarter size: shadows need no detail."""
    h, w = mask.shape
    small = cv2.resize(mask, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), max(0.5, sigma / 4))
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _backdrop(width: int, height: int) -> np.ndarray:
    ys = (np.arange(height, dtype=np.float32) / width)[:, None]
    xs = (np.arange(width, dtype=np.float32) / width - 0.5)[None, :]
    top, bottom = np.array([233, 232, 230], np.float32), np.array([204, 203, 202], np.float32)
    t = np.clip(ys / max(height / width, 1.0), 0, 1)[..., None]
    glow = 0.05 * np.exp(-((xs / 0.55) ** 2 + ((ys - 0.45) / 0.7) ** 2))[..., None]
    return (top * (1 - t) + bottom * t) * (1 + glow)


def _head_patch(
    src: HeadSource, width: int, lay: Layout
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """The head crop scaled into the canvas: (rgb float32, alpha, x0, y0)."""
    f, rgb = src.face, src.rgb
    scale = lay.face_w * width / f.w
    fcx = f.x + f.w / 2
    # Source rectangle: the face box widened for hair and ears, lengthened for chin and neck.
    sx0, sx1 = math.floor(fcx - 1.0 * f.w), math.ceil(fcx + 1.0 * f.w)
    sy0, sy1 = math.floor(f.y - 0.78 * f.w), math.ceil(f.y + 1.5 * f.w)
    h, w = rgb.shape[:2]
    pads = (max(0, -sy0), max(0, sy1 - h), max(0, -sx0), max(0, sx1 - w))
    crop = rgb[max(0, sy0) : min(h, sy1), max(0, sx0) : min(w, sx1)]
    valid = np.ones(crop.shape[:2], np.float32)
    if any(pads):
        crop = cv2.copyMakeBorder(crop, *pads, cv2.BORDER_REPLICATE)
        valid = cv2.copyMakeBorder(valid, *pads, cv2.BORDER_CONSTANT, value=0.0)
    size = (max(1, round((sx1 - sx0) * scale)), max(1, round((sy1 - sy0) * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    patch = np.clip(cv2.resize(crop.astype(np.float32), size, interpolation=interp), 0, 255)
    valid = cv2.resize(valid, size, interpolation=cv2.INTER_LINEAR)

    x0 = round(width / 2 + (sx0 - fcx) * scale)
    y0 = round(lay.face_top * width + (sy0 - f.y) * scale)
    # A soft egg: round over the hair, narrowing to the jaw so little background shows.
    fw = lay.face_w * width
    yy, xx = np.mgrid[0 : size[1], 0 : size[0]].astype(np.float32)
    cx, cy = width / 2 - x0, lay.face_top * width + 0.45 * fw - y0
    dy = yy - cy
    below = np.clip(dy / (0.82 * fw), 0, 1)
    ry = np.where(dy < 0, 1.04 * fw, 0.82 * fw)
    rx = np.where(dy < 0, 0.80 * fw, 0.80 * fw - 0.54 * fw * below)
    d = np.sqrt(((xx - cx) / rx) ** 2 + (dy / ry) ** 2)
    alpha = np.clip((1.0 - d) / 0.14, 0, 1)
    alpha = alpha * alpha * (3 - 2 * alpha) * np.clip(valid, 0, 1)
    return patch, alpha, x0, y0


def _paste(canvas: np.ndarray, layer: np.ndarray, alpha: np.ndarray, x0: int, y0: int) -> None:
    """Alpha-blend ``layer`` into ``canvas`` at (x0, y0), clipped to the canvas."""
    H, W = canvas.shape[:2]
    h, w = alpha.shape
    cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(W, x0 + w), min(H, y0 + h)
    if cx0 >= cx1 or cy0 >= cy1:
        return
    a = alpha[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0, None]
    region = canvas[cy0:cy1, cx0:cx1]
    region += (layer[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0] - region) * a


def compose(src: HeadSource, width: int, height: int, seed: int, prompt: str) -> np.ndarray:
    """One avatar as an RGB uint8 array of ``width`` x ``height``."""
    rng = random.Random(seed)
    jitter = np.array([rng.uniform(0.94, 1.06) for _ in range(3)], np.float32)
    top_rgb = np.array(rng.choice(TOP_COLOURS), np.float32) * jitter
    trouser_rgb = np.array(rng.choice(TROUSER_COLOURS), np.float32)
    neckline = rng.choice(NECKLINES)
    shape = body_shape(prompt, rng)
    lay = Layout()

    # Backdrop and body are smooth: shade them at half size (4x less work), upscale after.
    ww, wh = width // WORK_SCALE, height // WORK_SCALE
    canvas = _backdrop(ww, wh)
    masks = draw_body(ww, wh, shape, lay, neckline)
    head_rgb, head_alpha, hx, hy = _head_patch(src, width, lay)
    torso = masks.top + masks.trousers
    body = np.maximum.reduce([masks.skin, torso, masks.arms, masks.hands])

    # A faint shadow on the backdrop, cast away from the light.
    shadow = np.roll(_blur(body, ww * 0.05), int((0.004 - src.light * 0.012) * ww), axis=1)
    canvas *= (1.0 - 0.10 * shadow)[..., None]

    # Contact shadows: the arms on the torso, the head on the neck and neckline.
    head_small = np.zeros((wh, ww, 1), np.float32)
    small_alpha = cv2.resize(
        head_alpha,
        (max(1, head_alpha.shape[1] // WORK_SCALE), max(1, head_alpha.shape[0] // WORK_SCALE)),
        interpolation=cv2.INTER_AREA,
    )
    _paste(
        head_small,
        np.ones((*small_alpha.shape, 1), np.float32),
        small_alpha,
        hx // WORK_SCALE,
        hy // WORK_SCALE,
    )
    head_shadow = _blur(np.roll(head_small[..., 0], int(ww * 0.025), axis=0), ww * 0.02)
    arm_shadow = _blur(masks.arms, ww * 0.012)

    skin = src.skin
    rows = (np.arange(wh, dtype=np.float32) + 0.5) / ww
    jaw = np.clip((rows - lay.chin + 0.03) / 0.09, 0, 1)
    jaw = (0.82 + 0.18 * jaw * jaw * (3 - 2 * jaw))[:, None]  # under the jaw, the head's shadow

    parts = [  # (mask, colour, tube radius in canvas widths, extra darkening)
        (masks.skin, skin, shape.neck * 1.1, jaw * (1.0 - 0.30 * head_shadow)),
        (torso, None, 0.11, (1.0 - 0.45 * arm_shadow) * (1.0 - 0.25 * head_shadow)),
        (masks.arms, top_rgb, 0.056, None),
        (masks.hands, skin, 0.04, None),
    ]
    for mask, colour, radius, darken in parts:
        box = _bbox(mask)
        if box is None:
            continue
        m = mask[box]
        shade = _round_shade(m, radius * ww, src.light)
        if darken is not None:
            shade *= np.broadcast_to(darken, mask.shape)[box]
        if colour is None:  # the torso: top above the belt line, trousers below
            split = (masks.top[box] / np.maximum(m, 1e-6))[..., None]
            colour = top_rgb * split + trouser_rgb * (1.0 - split)
        region = canvas[box]
        region += (colour * shade[..., None] - region) * m[..., None]

    canvas = cv2.resize(canvas, (width, height), interpolation=cv2.INTER_LINEAR)
    # Photo grain on the drawn parts, so they sit with the real head.
    box = _bbox(body)
    if box is not None:
        rows_full = slice(box[0].start * WORK_SCALE, min(height, box[0].stop * WORK_SCALE))
        weight = cv2.resize(body, (width, height), interpolation=cv2.INTER_LINEAR)[rows_full]
        noise = np.random.default_rng(seed).standard_normal(weight.shape, dtype=np.float32)
        canvas[rows_full] += (noise * (weight * src.grain))[..., None]

    _paste(canvas, head_rgb, head_alpha, hx, hy)
    return np.clip(canvas + 0.5, 0, 255).astype(np.uint8)


def encode(rgb: np.ndarray, output_format: str, size: tuple[int, int]) -> bytes:
    image = Image.fromarray(rgb)
    if image.size != size:
        image = image.resize(size, Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    if output_format == "png":
        # Level 1: five times faster than the default and only slightly larger.
        image.save(buffer, format="PNG", compress_level=1)
    else:
        image.save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


_analysed: OrderedDict[bytes, HeadSource] = OrderedDict()
_analysed_lock = threading.Lock()
ANALYSIS_CACHE_SIZE = 4  # retries and variants reuse a selfie; detection is half the work


def head_source(face_bytes: bytes) -> HeadSource:
    """Decode, detect and analyse a selfie, remembering the last few (pure and read-only)."""
    key = hashlib.blake2b(face_bytes, digest_size=16).digest()
    with _analysed_lock:
        if key in _analysed:
            _analysed.move_to_end(key)
            return _analysed[key]
    rgb = decode_image(face_bytes)
    source = analyse_head(rgb, find_face(rgb))
    with _analysed_lock:
        _analysed[key] = source
        while len(_analysed) > ANALYSIS_CACHE_SIZE:
            _analysed.popitem(last=False)
    return source


def render_avatars(face_bytes: bytes, options: RenderOptions) -> list[bytes]:
    """Encoded avatar images (``num_images`` variants, seeds seed, seed+1, ...)."""
    source = head_source(face_bytes)
    width, height = BASE_SIZES[options.aspect_ratio]
    size = output_size(options.aspect_ratio, options.resolution)
    images = []
    for i in range(options.num_images):
        seed = (options.seed + i) % 2**32
        rgb = compose(source, width, height, seed, options.prompt)
        images.append(encode(rgb, options.output_format, size))
    return images
