"""The garment out of its product photo: cut-out, body and sleeves, and what kind of garment it is.

A product photo shows one garment on a plain background: transparent (its alpha is used as it
is) or white-ish (every pixel close to the border's colour and connected to the border is
background, so white buttons, logos and collars inside the garment stay). The cut-out is then
measured: the body is the run of garment pixels around the middle, well below the shoulders;
what lies left or right of it is a sleeve. ``auto`` category is worked out from the shape: two
legs or a skirt's flare from a waistband are bottoms, a tall narrow shape is a one-piece,
anything else a top.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np
from PIL import Image, ImageOps

from ..errors import RuntimeFailure

WORK_MAX_SIDE = 800  # garment pixels are stretched onto a torso a few hundred pixels wide
BACKGROUND_TOLERANCE = 14  # levels per channel from the border's colour
MIN_GARMENT_FRACTION = 0.02  # of the image's area; less is an empty or unusable photo
MIN_SLEEVE_FRACTION = 0.01  # of the garment's pixels: less beside the body is no sleeve
ONE_PIECE_ASPECT = 1.35  # height / width above which a garment without legs is a dress
ONE_PIECE_SLEEVES_END = 0.4  # of a dress's height: sleeves hang from its bodice only
SLEEVE_BINS = 24  # steps along a sleeve at which its middle and width are measured
SLEEVE_CAP = 0.35  # of a sleeve's length: its top, which follows the arm's axis straight

UNREADABLE_MESSAGE = "The garment image could not be read as an image (JPEG, PNG or WebP expected)."
NO_GARMENT_MESSAGE = (
    "No garment was found in the garment image. Use a product photo of one garment on a plain "
    "white or transparent background."
)


@dataclass(frozen=True)
class SleeveShape:
    """One sleeve measured in the garment's pixels, for turning it to hang along an arm.

    ``root`` is where it leaves the body (its top, down to about the armpit), ``axis`` points
    from there to the sleeve's middle, ``normal`` across it. Along the axis, from ``along_lo``
    to ``length``, ``middles`` holds the middle of the sleeve at each of ``centres`` (a drawn
    sleeve may bend or taper to one side); ``width`` is across its lower half (what must fit
    round the arm), ``spread`` half of its widest.
    """

    root: np.ndarray
    axis: np.ndarray
    normal: np.ndarray
    along_lo: float
    length: float
    centres: np.ndarray
    middles: np.ndarray
    width: float
    spread: float


@dataclass(frozen=True)
class Garment:
    """The cut-out, cropped to the garment, and its measures in its own pixels."""

    rgb: np.ndarray  # float32 RGB, H x W x 3
    alpha: np.ndarray  # float32 0..1, H x W
    body_left: float  # the body's columns (sleeves lie outside them)
    body_right: float
    shoulder_y: float  # top of the body at its outer edges: where the shoulder seams end
    kind: str  # "tops" | "bottoms" | "one-pieces": what ``auto`` means for this garment

    @property
    def height(self) -> int:
        return self.alpha.shape[0]

    @property
    def width(self) -> int:
        return self.alpha.shape[1]

    @property
    def body_width(self) -> float:
        return self.body_right - self.body_left

    @cached_property
    def body_alpha(self) -> np.ndarray:
        return np.clip(self.alpha - self.sleeve(-1) - self.sleeve(1), 0.0, 1.0)

    def body_layer(self, whole: bool = False) -> np.ndarray:
        """uint8 RGBA of the body (or of the ``whole`` garment, for bottoms), for remapping."""
        return self._layer("whole" if whole else "body")

    def sleeve_layer(self, side: int) -> np.ndarray:
        return self._layer(side)

    def _layer(self, which) -> np.ndarray:
        # Made once per garment and kept: samples and other model images reuse them.
        layers = self.__dict__.setdefault("_layers", {})
        if which not in layers:
            alpha = {"whole": self.alpha, "body": self.body_alpha}.get(which)
            if alpha is None:
                alpha = self.sleeve(which)
            rgba = np.dstack([self.rgb, alpha * 255.0])
            layers[which] = np.ascontiguousarray(np.clip(rgba + 0.5, 0, 255).astype(np.uint8))
        return layers[which]

    def sleeve_shape(self, side: int) -> SleeveShape | None:
        shapes = self.__dict__.setdefault("_sleeves", {})
        if side not in shapes:
            shapes[side] = measure_sleeve(self, side)
        return shapes[side]

    def sleeve(self, side: int) -> np.ndarray:
        """Alpha of the sleeve on one side (-1 the image's left), zero over the body."""
        xs = np.arange(self.width, dtype=np.float32)[None, :] + 0.5
        # A soft cut a few pixels wide, so the sleeve's root blends into the body.
        edge = self.body_left if side < 0 else self.body_right
        outside = np.clip((edge - xs) * side / -3.0 + 0.5, 0.0, 1.0)
        if self.kind == "one-pieces":
            # Below the bodice, what lies outside the body's columns is the skirt's flare.
            ys = np.arange(self.height, dtype=np.float32)[:, None]
            outside = outside * (ys < ONE_PIECE_SLEEVES_END * self.height)
        return self.alpha * outside


def measure_sleeve(g: Garment, side: int) -> SleeveShape | None:
    """The sleeve on one side (-1 the image's left), or None for a sleeveless garment."""
    ys, xs = np.nonzero(g.sleeve(side) > 0.5)
    # A sliver beside the body (a strap's edge, a bodice wider at the top than where the body
    # was measured) is no sleeve: hung along the arm it would be a stray line of fabric.
    if len(xs) < max(30, MIN_SLEEVE_FRACTION * np.count_nonzero(g.alpha > 0.5)):
        return None
    # The root: the top of the sleeve's pixels along the body's edge, down to about where an
    # armpit is (a long sleeve may lie along the body much further down).
    edge = g.body_left if side < 0 else g.body_right
    near_root = np.abs(xs - edge) < 4
    root_ys = ys[near_root] if near_root.any() else ys
    root_length = min(float(root_ys.max() - root_ys.min()), 0.35 * g.body_width)
    root = np.array([edge, root_ys.min() + root_length / 2], np.float64)
    offsets = np.stack([xs, ys], axis=1).astype(np.float64) + 0.5 - root
    # Root to the sleeve's middle: a short, wide sleeve's principal axis would run along its
    # cuff instead.
    axis = offsets.mean(axis=0)
    axis = axis / max(float(np.linalg.norm(axis)), 1e-6)
    normal = np.array([-axis[1], axis[0]])
    along = offsets @ axis
    across = offsets @ normal
    along_lo, length = (float(v) for v in np.percentile(along, [0.5, 99]))
    bins = np.linspace(along_lo, length, SLEEVE_BINS + 1)
    which = np.clip(np.digitize(along, bins) - 1, 0, SLEEVE_BINS - 1)
    lo, hi = _binned_percentiles(across, which, SLEEVE_BINS, (3, 97))
    middles, widths = (lo + hi) / 2, hi - lo
    known = ~np.isnan(middles)
    if not known.any():
        return None
    centres = (bins[:-1] + bins[1:]) / 2
    middles = np.interp(centres, centres[known], middles[known])
    # The top of a drawn sleeve is the armhole seen flat, wide and lopsided: worn, the sleeve's
    # top sits straight over the shoulder, so it keeps the middle of the sleeve below it.
    cap_end = along_lo + SLEEVE_CAP * (length - along_lo)
    middles = np.where(centres < cap_end, np.interp(cap_end, centres, middles), middles)
    known_widths = widths[known]
    width = max(float(np.median(known_widths[len(known_widths) // 2 :])), 1.0)
    spread = float(np.nanmax(widths)) / 2 + 2
    return SleeveShape(
        root, axis, normal, along_lo, length, centres, middles.astype(np.float32), width, spread
    )


def _binned_percentiles(values, bins, count: int, qs: tuple[float, float]):
    """``np.percentile(values[bins == i], q)`` for each bin i and each q (linear, as NumPy's
    default), NaN for a bin of fewer than 4 values: one sort instead of one per bin."""
    order = np.lexsort((values, bins))
    ordered = values[order]
    sizes = np.bincount(bins, minlength=count)
    starts = np.cumsum(sizes) - sizes
    out = []
    for q in qs:
        position = (sizes - 1).clip(0) * (q / 100.0)
        below = np.floor(position).astype(int)
        above = np.minimum(below + 1, (sizes - 1).clip(0))
        last = len(ordered) - 1
        low = ordered[np.minimum(starts + below, last)]
        high = ordered[np.minimum(starts + above, last)]
        value = low + (high - low) * (position - below)
        out.append(np.where(sizes >= 4, value, np.nan))
    return out


def _decode_rgba(data: bytes) -> np.ndarray:
    try:
        image = Image.open(io.BytesIO(data))
        image.draft("RGB", (WORK_MAX_SIDE, WORK_MAX_SIDE))  # before anything loads it
        ImageOps.exif_transpose(image, in_place=True)  # no copy of the whole image
        rgba = image.convert("RGBA")
    except Exception as exc:  # Pillow raises many types for broken files; all mean the same.
        raise RuntimeFailure("ImageLoadError", UNREADABLE_MESSAGE) from exc
    if min(rgba.size) < 8:
        raise RuntimeFailure("ImageLoadError", "The garment image is empty or too small to use.")
    rgba.thumbnail((WORK_MAX_SIDE, WORK_MAX_SIDE), Image.Resampling.LANCZOS)
    return np.asarray(rgba)


def background_alpha(rgb: np.ndarray) -> np.ndarray:
    """Garment alpha (0..1) of a photo on a plain background: flood from the border."""
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    colour = np.median(border, axis=0)
    lower = np.clip(colour - BACKGROUND_TOLERANCE, 0, 255).astype(np.uint8)
    upper = np.clip(colour + BACKGROUND_TOLERANCE, 0, 255).astype(np.uint8)
    near = cv2.inRange(np.ascontiguousarray(rgb), lower, upper)  # 255 where background-like
    # Flood from a one-pixel frame of background colour round the image: every near pixel
    # that touches the border is reached, none inside the garment's outline.
    framed = cv2.copyMakeBorder(near, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=255)
    flood = np.zeros((framed.shape[0] + 2, framed.shape[1] + 2), np.uint8)
    cv2.floodFill(framed, flood, (0, 0), 128, flags=4)
    garment = (framed[1:-1, 1:-1] != 128).astype(np.float32)
    # Anti-alias the cut: the drawn edge pixels are a mix of garment and white.
    return cv2.GaussianBlur(garment, (0, 0), 0.7)


def _fill_colour(rgb: np.ndarray, alpha: np.ndarray, size: int) -> np.ndarray:
    """The garment's colour carried into its edge pixels and the slivers closed over.

    An edge pixel of a photo on white is part white; a closed sliver is all white. Both take
    the average colour of the solid garment pixels around them instead (normalised blur).
    """
    solid = (alpha > 0.95).astype(np.float32)
    h, w = solid.shape
    half = (max(1, w // 2), max(1, h // 2))  # a blurred colour needs no full resolution
    sigma = max(1.0, size / 4)
    weight = cv2.GaussianBlur(cv2.resize(solid, half, interpolation=cv2.INTER_AREA), (0, 0), sigma)
    premultiplied = cv2.resize(rgb * solid[..., None], half, interpolation=cv2.INTER_AREA)
    colour = cv2.GaussianBlur(premultiplied, (0, 0), sigma) / np.maximum(weight, 1e-4)[..., None]
    colour = cv2.resize(colour, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.where(solid[..., None] > 0, rgb, colour).astype(np.float32)


def _body_run(mask_row: np.ndarray, centre: int) -> tuple[int, int] | None:
    """The run of garment pixels around ``centre`` in one row (left, right exclusive)."""
    if not mask_row[centre]:
        return None
    outside = np.flatnonzero(~mask_row)
    left = outside[outside < centre]
    right = outside[outside > centre]
    return (int(left[-1]) + 1 if left.size else 0), (int(right[0]) if right.size else len(mask_row))


def _looks_like_a_skirt(solid: np.ndarray) -> bool:
    """A skirt: one band of cloth across its top (a waistband: no straps, no neckline) and never
    narrower further down, since it hangs from the waist and flares; a dress narrows at its
    waist, a top at its sleeves' end."""
    h = solid.shape[0]
    top = solid[int(h * 0.03)].astype(np.int8)
    if int(top[0]) + np.count_nonzero(np.diff(top) == 1) != 1:
        return False
    widths = [np.count_nonzero(solid[int(h * f)]) for f in np.linspace(0.05, 0.85, 17)]
    # Long sleeves hanging out from a top also widen it downwards, but only to the hands: its
    # widest row is well above the hem, a skirt's is at the hem.
    if int(np.argmax(widths)) < len(widths) - 2:
        return False
    slack = 0.02 * max(widths)
    return all(lower >= upper - slack for upper, lower in zip(widths, widths[1:], strict=False))


def _has_two_legs(solid: np.ndarray, centre: int) -> bool:
    """Bottoms: low down, the middle column is empty with garment on both sides."""
    h = solid.shape[0]
    rows = solid[int(h * 0.7) : int(h * 0.95)]
    if not rows.size:
        return False
    gap = ~rows[:, max(0, centre - 1) : centre + 2].any(axis=1)
    both = rows[:, :centre].any(axis=1) & rows[:, centre:].any(axis=1)
    return bool(np.mean(gap & both) > 0.8)


def cut_out(data: bytes) -> Garment:
    """The garment of a product photo; ImageLoadError or InputValidationError if unusable."""
    rgba = _decode_rgba(data)
    rgb, alpha = rgba[..., :3], rgba[..., 3].astype(np.float32) / 255.0
    if np.mean(alpha < 0.5) < 0.01:  # opaque: the background is part of the photo
        alpha = background_alpha(rgb)
    original_alpha = alpha
    # Close slivers of background a few pixels wide (between a sleeve and the body, under an
    # arm): fitted apart, each would show as a thin line of whatever the person wore.
    k = max(3, round(0.012 * max(alpha.shape)) | 1)
    alpha = cv2.morphologyEx(
        alpha, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    )
    rgb = _fill_colour(rgb.astype(np.float32), original_alpha, k)
    solid = alpha > 0.5
    if solid.mean() < MIN_GARMENT_FRACTION:
        raise RuntimeFailure("InputValidationError", NO_GARMENT_MESSAGE)
    ys, xs = np.nonzero(solid)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    rgb = rgb[y0:y1, x0:x1]
    alpha, solid = alpha[y0:y1, x0:x1], solid[y0:y1, x0:x1]
    h, w = solid.shape
    centre = int(np.clip(np.median(np.nonzero(solid)[1]), 0, w - 1))

    if _has_two_legs(solid, centre) or _looks_like_a_skirt(solid):
        kind = "bottoms"
    elif h / w >= ONE_PIECE_ASPECT:
        kind = "one-pieces"
    else:
        kind = "tops"

    # The body: the run around the middle, measured where sleeves have usually ended (a top)
    # or at the bodice (a dress: its skirt flares and says nothing about the chest).
    lo, hi = (0.15, 0.35) if kind == "one-pieces" else (0.55, 0.8)
    runs = [_body_run(solid[y], centre) for y in range(int(h * lo), int(h * hi))]
    runs = [r for r in runs if r is not None]
    if kind == "bottoms" or not runs:
        left, right = 0.0, float(w)
    else:
        left = float(np.median([r[0] for r in runs]))
        right = float(np.median([r[1] for r in runs]))
    # Where the shoulders are: the top of the garment just inside the body's edges.
    tops = []
    for x in (int(left + 0.08 * (right - left)), int(right - 0.08 * (right - left)) - 1):
        column = np.flatnonzero(solid[:, min(max(x, 0), w - 1)])
        tops.append(column[0] if column.size else 0)
    shoulder_y = float(np.mean(tops))
    return Garment(rgb, alpha.astype(np.float32), left, right, shoulder_y, kind)
