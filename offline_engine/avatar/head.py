"""The real head and hair, cut from the selfie and placed on the canvas.

The head is kept pixel for pixel: inside the cut-out the canvas receives the selfie's own pixels,
only scaled (and turned upright when the head is tilted by more than a few degrees), with no
colour change, no grain and no blur. What this module decides is the alpha around them:

- the person mask from the segmenter, sharpened along the photo's own edges by a guided filter
  (the mask is soft at 256 pixels; hair edges follow the image instead);
- a cut under the chin: the head, hair and ears are kept down to the jaw line, the real neck
  only as a column that fades out where the drawn neck takes over;
- a rounded crown where the photo cuts the top of the head off (a tight selfie): the photo's
  edge row is drawn on upwards (hair streaks) and rounded off like a skull;
- colour decontamination at the edge: half-transparent hair pixels carry the old background's
  colour; it is taken out so no halo of the old room shows on the studio backdrop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ..imaging import blur, smoothstep, warp_region
from ..vision.person_segmentation import INPUT_SIZE as SEGMENT_SIZE
from .analysis import FRAME_HALF_WIDTH, FRAME_SIDE, Analysis

LUMA = np.array([0.299, 0.587, 0.114], np.float32)


@dataclass(frozen=True)
class Placement:
    """How the selfie maps into the canvas.

    Unrotated heads (``angle == 0``): canvas[y0:y0+h, x0:x0+w] is
    ``cv2.resize(selfie[crop], (w, h), INTER_AREA or INTER_CUBIC)``, exactly.
    """

    angle: float
    crop: tuple[int, int, int, int]  # x0, y0, x1, y1 in the working image (unrotated only)
    origin: tuple[int, int]  # the patch's top-left in the canvas
    size: tuple[int, int]  # the patch's (w, h)
    scale: float  # canvas pixels per selfie pixel
    patch_to_image: np.ndarray  # 2x3 affine: patch pixels to working-image pixels


@dataclass
class HeadLayer:
    rgb: np.ndarray  # float32 patch, the selfie's pixels (decontaminated only at the edge)
    alpha: np.ndarray  # float32 0..1
    placement: Placement
    neck_colour: np.ndarray | None  # the real neck's colour just under the chin, if visible
    grain: float  # noise sigma of the placed face, 0..255 units
    crown_y: float  # canvas y of the top of the hair


def _interp(scale: float) -> int:
    return cv2.INTER_AREA if scale < 1.0 else cv2.INTER_CUBIC


def place(a: Analysis, unit: float, anchor: tuple[float, float]) -> tuple[np.ndarray, Placement]:
    """The head's patch of the selfie at ``unit`` canvas pixels per face width.

    ``anchor`` is the canvas point for the frame's origin (the middle of the face).
    """
    f = a.frame
    scale = unit / f.face_px
    side = FRAME_SIDE * unit
    ox = anchor[0] - FRAME_HALF_WIDTH * unit
    oy = anchor[1] + f.top * unit
    if f.angle == 0.0:
        # Integer crop, plain resize: the face's pixels are exactly a scaled copy of the selfie.
        sx0 = math.floor(f.anchor[0] + (ox - anchor[0]) / scale)
        sy0 = math.floor(f.anchor[1] + (oy - anchor[1]) / scale)
        sx1 = math.ceil(sx0 + side / scale)
        sy1 = math.ceil(sy0 + side / scale)
        w, h = round((sx1 - sx0) * scale), round((sy1 - sy0) * scale)
        x0 = round(anchor[0] + (sx0 - f.anchor[0]) * scale)
        y0 = round(anchor[1] + (sy0 - f.anchor[1]) * scale)
        ih, iw = a.rgb.shape[:2]
        pads = (max(0, -sy0), max(0, sy1 - ih), max(0, -sx0), max(0, sx1 - iw))
        crop = a.rgb[max(0, sy0) : min(ih, sy1), max(0, sx0) : min(iw, sx1)]
        if any(pads):  # the edge row repeated: hair streaks (a mirror would show the forehead)
            crop = cv2.copyMakeBorder(crop, *pads, cv2.BORDER_REPLICATE)
        patch = cv2.resize(crop, (w, h), interpolation=_interp(scale))
        kx, ky = (sx1 - sx0) / w, (sy1 - sy0) / h
        m = np.array([[kx, 0.0, sx0 + 0.5 * kx - 0.5], [0.0, ky, sy0 + 0.5 * ky - 0.5]])
        placement = Placement(0.0, (sx0, sy0, sx1, sy1), (x0, y0), (w, h), scale, m)
        return patch, placement
    n = round(side)
    x0, y0 = round(ox), round(oy)
    # Patch pixel (px, py) is canvas (x0 + px, y0 + py); frame coordinates from there.
    r = f.rotation() * f.face_px / unit
    m = np.hstack([r, (f.anchor + r @ np.array([x0 - anchor[0], y0 - anchor[1]]))[:, None]])
    patch = warp_region(
        a.rgb, m, (n, n), border=cv2.BORDER_REPLICATE, interpolation=cv2.INTER_CUBIC
    )
    return patch, Placement(f.angle, (0, 0, 0, 0), (x0, y0), (n, n), scale, m)


def _frame_sampler(a: Analysis, placement: Placement) -> np.ndarray:
    """2x3 affine from patch pixels to the segmentation frame's pixels."""
    to_image = np.vstack([a.frame.frame_to_image(SEGMENT_SIZE), [0, 0, 1]])
    patch_to_image = np.vstack([placement.patch_to_image, [0, 0, 1]])
    return (np.linalg.inv(to_image) @ patch_to_image)[:2]


def guided_filter(guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """He et al.'s guided filter (grey guide): ``src`` smoothed, but with ``guide``'s edges."""
    k = (2 * radius + 1, 2 * radius + 1)

    def box(x: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(x, -1, k, borderType=cv2.BORDER_REFLECT)

    mean_i, mean_p = box(guide), box(src)
    cov = box(guide * src) - mean_i * mean_p
    var = box(guide * guide) - mean_i * mean_i
    a = cov / (var + eps)
    b = mean_p - a * mean_i
    return box(a) * guide + box(b)


def _grain(rgb: np.ndarray, a: Analysis, placement: Placement, unit: float) -> float:
    """The photo's noise as it shows in the placed face (what the drawn body must match)."""
    g = a.geometry
    inv = cv2.invertAffineTransform(placement.patch_to_image)
    centre = inv[:, :2] @ ((g.right_cheek + g.left_cheek) / 2) + inv[:, 2]
    r = max(4, round(unit * 0.22))
    x, y = round(centre[0]), round(centre[1])
    h, w = rgb.shape[:2]
    region = rgb[max(0, y - r) : min(h, y + r), max(0, x - r) : min(w, x + r)]
    if region.size < 64:
        return 1.5
    gray = region.astype(np.float32) @ LUMA
    residual = gray - cv2.GaussianBlur(gray, (0, 0), 1.2)
    sigma = float(np.median(np.abs(residual - np.median(residual))) * 1.4826)
    return max(0.6, min(6.0, sigma * 1.25))  # the residual holds ~80% of white noise


def cut_out(a: Analysis, unit: float, anchor: tuple[float, float], neck_half: float) -> HeadLayer:
    """The head layer: the selfie's pixels and the alpha that cuts head and hair out.

    ``neck_half`` is the drawn neck's half width in face widths; the real neck column kept
    under the chin is a little narrower, so its edges never show beside the drawn one.
    """
    patch, placement = place(a, unit, anchor)
    h, w = patch.shape[:2]
    # Person probability on the patch grid (a constant 0 outside the frame).
    person = cv2.warpAffine(
        a.person,
        _frame_sampler(a, placement),
        (w, h),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0.0,
    )
    rgbf = patch.astype(np.float32)
    guide = (rgbf @ LUMA) / 255.0
    radius = max(2, round(unit * 0.035))
    refined = np.clip(guided_filter(guide, person, radius, 2e-3), 0.0, 1.0)
    alpha = smoothstep(0.18, 0.82, refined)
    # Decontaminate against the segmenter's edge only: the cuts below are ours, not the photo's.
    rgbf = _decontaminate(rgbf, alpha, unit)

    # Frame coordinates of every patch pixel, in face widths (upright).
    x0, y0 = placement.origin
    us = (np.arange(w, dtype=np.float32) + x0 - anchor[0]) / unit
    vs = (np.arange(h, dtype=np.float32) + y0 - anchor[1]) / unit
    lm = a.landmarks
    chin_v, eye_v = float(lm.chin[1]), float(lm.eye_mid[1])
    neck_u = float((lm.right_jaw[0] + lm.left_jaw[0]) / 4 + lm.chin[0] / 2)
    # Below the eyes only what is near the face stays (ears, hair framing it), not a collar or
    # the shoulders the segmenter also calls "person".
    margin = 0.32 - 0.2 * smoothstep(eye_v, chin_v, vs)[:, None]  # ears up high, less lower
    near_face = 1.0 - smoothstep(
        margin - 0.05, margin, _outside(lm.oval, anchor, (x0, y0), (w, h), unit)
    )
    below_eyes = smoothstep(eye_v + 0.05, eye_v + 0.4, vs)[:, None]
    inside = _outside(lm.oval, anchor, (x0, y0), (w, h), unit) <= 0.0
    # Colour likeness maps are smooth: work them out at half size.
    half = cv2.resize(rgbf, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    half_person = cv2.resize(person, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    hair = _hair_like(
        half, half_person, us[::2][: w // 2], vs[::2][: h // 2], float(lm.forehead[1]), unit / 2
    )
    skin_like = _skin_like(half, a.skin, unit / 2)
    hair = cv2.resize(hair, (w, h), interpolation=cv2.INTER_LINEAR)
    skin_like = cv2.resize(skin_like, (w, h), interpolation=cv2.INTER_LINEAR)
    # Beside the face, below the eyes: hair or skin (ears), not a collar or a headset.
    looks_right = np.maximum(np.maximum(hair, skin_like), inside.astype(np.float32))
    head_keep = np.maximum(1.0 - below_eyes, near_face * looks_right)
    # Under the jaw only a neck column stays, of skin only, fading into the drawn neck.
    above_chin = 1.0 - smoothstep(chin_v - 0.10, chin_v + 0.04, vs)[:, None]
    edge = neck_half - 0.07
    column = 1.0 - smoothstep(edge - 0.04, edge, np.abs(us - neck_u))
    fade = 1.0 - smoothstep(chin_v + 0.08, chin_v + 0.36, vs)
    neck_keep = column[None, :] * fade[:, None] * skin_like
    alpha *= np.maximum(head_keep * above_chin, neck_keep)

    # Where the frame leaves the photo: keep only a rounded crown over the mirrored pixels.
    valid = _valid_mask(a, placement, (w, h))
    if valid.min() < 0.999:
        half_w = _head_half_width(alpha, vs, eye_v - 0.35)
        cu, cv = 0.0, eye_v + 0.05
        ry = max(0.4, cv - (eye_v - 1.05))
        d = np.hypot((us[None, :] - cu) / half_w, (vs[:, None] - cv) / ry)
        cap = 1.0 - smoothstep(0.96, 1.04, d)
        alpha = alpha * valid + alpha * cap * (1.0 - valid)

    neck_colour = _neck_colour(rgbf, person, us, vs, chin_v, neck_u, a.skin)
    rows = np.flatnonzero(alpha.max(axis=1) > 0.5)
    crown_y = y0 + (float(rows[0]) if rows.size else 0.0)
    grain = _grain(patch, a, placement, unit)
    return HeadLayer(rgbf, alpha.astype(np.float32), placement, neck_colour, grain, crown_y)


def _outside(oval, anchor, origin, size, unit) -> np.ndarray:
    """Distance (face widths) of each patch pixel outside the face outline; 0 inside."""
    w, h = size
    pts = np.round((oval * unit + np.array(anchor)) - np.array(origin)).astype(np.int32)
    inside = np.zeros((h, w), np.uint8)
    cv2.fillPoly(inside, [pts], 255)
    return cv2.distanceTransform(255 - inside, cv2.DIST_L2, 3) / unit


def _hair_like(rgbf, person, us, vs, forehead_v, unit) -> np.ndarray:
    """How much each pixel looks like the hair above the forehead (its colour spread), smoothed.

    Returns ones when no hair is seen there (a bald head, a tight crop): then nothing is cut
    for not looking like hair.
    """
    rows = (vs > forehead_v - 0.3) & (vs < forehead_v - 0.06)
    cols = np.abs(us) < 0.3
    if not rows.any() or not cols.any():
        return np.ones(rgbf.shape[:2], np.float32)
    sample = rgbf[rows][:, cols].reshape(-1, 3)[person[rows][:, cols].reshape(-1) > 0.8]
    if len(sample) < 50:
        return np.ones(rgbf.shape[:2], np.float32)
    centre = np.median(sample, axis=0)
    spread = np.median(np.abs(sample - centre), axis=0) * 1.4826
    d = np.sqrt((((rgbf - centre) / (spread * 2.5 + 12.0)) ** 2).sum(axis=2) / 3.0)
    like = 1.0 - smoothstep(1.0, 1.6, d)
    return cv2.GaussianBlur(like.astype(np.float32), (0, 0), max(1.0, unit * 0.015))


def _skin_like(rgbf: np.ndarray, skin: np.ndarray, unit: float) -> np.ndarray:
    """How much each pixel looks like the cheeks' skin (hue and brightness), smoothed."""
    total = np.maximum(rgbf.sum(axis=2, keepdims=True), 1.0)
    ref = skin / max(float(skin.sum()), 1.0)
    hue = np.abs(rgbf / total - ref).sum(axis=2)
    level = (rgbf @ LUMA) / max(float(skin @ LUMA), 1.0)
    like = (1.0 - smoothstep(0.05, 0.11, hue)) * smoothstep(0.3, 0.55, level)
    like = like * (1.0 - smoothstep(1.5, 1.9, level))
    return cv2.GaussianBlur(like.astype(np.float32), (0, 0), max(1.0, unit * 0.035))


def _valid_mask(a: Analysis, placement: Placement, size: tuple[int, int]) -> np.ndarray:
    h, w = a.rgb.shape[:2]
    # Sample a small copy: the border region only needs to be right to a pixel or two.
    k = min(1.0, 256 / max(h, w))
    small = np.ones((max(1, round(h * k)), max(1, round(w * k))), np.float32)
    m = placement.patch_to_image * k
    valid = cv2.warpAffine(
        small, m, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderValue=0.0
    )
    return smoothstep(0.5, 1.0, valid)


def _head_half_width(alpha: np.ndarray, vs: np.ndarray, v: float) -> float:
    """Half the head's width (face widths) at frame height ``v``, from the alpha."""
    row = int(np.clip(np.searchsorted(vs, v), 0, len(vs) - 1))
    cols = np.flatnonzero(alpha[row] > 0.5)
    if cols.size < 2:
        return 0.62
    span = (cols[-1] - cols[0]) * float(vs[1] - vs[0])  # pixels to face widths
    return max(0.5, min(1.2, span / 2))


def _neck_colour(rgbf, person, us, vs, chin_v, neck_u, skin) -> np.ndarray | None:
    rows = (vs > chin_v + 0.12) & (vs < chin_v + 0.32)
    cols = np.abs(us - neck_u) < 0.16
    if not rows.any() or not cols.any():
        return None
    region = rgbf[rows][:, cols].reshape(-1, 3)
    sure = person[rows][:, cols].reshape(-1) > 0.8
    region = region[sure]
    if len(region) < 30:
        return None
    # Skin-like only: the same hue as the cheeks (a collar or a scarf is not neck).
    chroma = region / np.maximum(region.sum(axis=1, keepdims=True), 1.0)
    ref = skin / max(float(skin.sum()), 1.0)
    level = (region @ LUMA) / max(float(skin @ LUMA), 1.0)
    close = (np.abs(chroma - ref).sum(axis=1) < 0.045) & (level > 0.5)
    if close.sum() < 30:
        return None
    return np.median(region[close], axis=0)


def _decontaminate(rgbf: np.ndarray, alpha: np.ndarray, unit: float) -> np.ndarray:
    """Take the old background's colour out of half-transparent edge pixels.

    An edge pixel is I = a F + (1 - a) B. B, the background nearby, is estimated by averaging
    the pixels the mask calls background; F = (I - (1 - a) B) / a. Fully opaque pixels (the face,
    the hair's body) are left exactly as they were.
    """
    edge = (alpha > 0.01) & (alpha < 0.99)
    rows = np.flatnonzero(edge.any(axis=1))
    if rows.size == 0:
        return rgbf
    cols = np.flatnonzero(edge.any(axis=0))
    # Work only around the edge, with a margin for the blurs' reach.
    sigma = max(2.0, unit * 0.08)
    pad = int(3 * sigma)
    r0, r1 = max(0, rows[0] - pad), min(alpha.shape[0], rows[-1] + 1 + pad)
    c0, c1 = max(0, cols[0] - pad), min(alpha.shape[1], cols[-1] + 1 + pad)
    out = rgbf.copy()
    out[r0:r1, c0:c1] = _unmix(rgbf[r0:r1, c0:c1], alpha[r0:r1, c0:c1], edge[r0:r1, c0:c1], sigma)
    return out


def _unmix(rgbf: np.ndarray, alpha: np.ndarray, edge: np.ndarray, sigma: float) -> np.ndarray:
    back = 1.0 - alpha
    bg = (
        blur(rgbf * back[..., None], sigma)[edge]
        / np.maximum(blur(back, sigma)[edge], 1e-3)[:, None]
    )
    fg = (
        blur(rgbf * alpha[..., None], sigma)[edge]
        / np.maximum(blur(alpha, sigma)[edge], 1e-3)[:, None]
    )
    a = np.maximum(alpha[edge], 0.05)[:, None]
    pixels = rgbf[edge]
    pure = np.clip((pixels - (1.0 - a) * bg) / a, 0.0, 255.0)
    # Faint pixels carry little of the foreground: lean on the nearby foreground colour there.
    trust = smoothstep(0.05, 0.5, a)
    out = rgbf.copy()
    out[edge] = pure * trust + fg * (1.0 - trust)
    return out
