"""Fitting a cut-out garment onto a person: the body onto the torso, the sleeves onto the arms.

The garment's body (its columns between the sleeves) is stretched row by row: its shoulder points
go onto the person's shoulder line, its hem to the hips (tops), the knees (one-pieces) or, for
bottoms, its waistband goes onto the belt line; across, it is the torso's width plus some ease,
widened wherever the torso underneath would peek out. Each sleeve is turned about its root to
hang along the arm, as far as the wrist at most. The head and neck stay on top.

Light comes from the model image: the luminance of what the person wore, divided by its median
across the torso row by row (which takes out the old garment's own colour), carries its folds,
the cylinder shading of the body and the shadows of the head and arms onto the new garment. The
sleeves are shaded as cylinders under the face's key light. The photo's grain goes on last.

Before any of it, ``arms.py`` bares the arms where the old top's sleeves would show below the
new garment's.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import cv2
import numpy as np

from ..avatar import shading
from ..avatar.body import Figure
from ..avatar.shading import Light
from ..imaging import blur
from .arms import bare_arms, bare_chest
from .garment import Garment
from .legs import bare_legs
from .person import Person

LUMA = np.array([0.299, 0.587, 0.114], np.float32)
TOP_HEM = 3.75  # face widths below the neck's notch: just below the hip bone
ONE_PIECE_HEM = 7.6  # about the knees
BOTTOMS_WAIST = Figure.BELT - 0.2
BOTTOMS_LOWEST = 0.82  # of the image height: where the waistband goes when the hips are out of it
LIGHT_SHRINK = 2  # the model's light is read at half size
FOLD_STRENGTH = 0.8  # how much of the model's own light and folds reach the garment
SHOULDER_LIFT = 0.45  # face widths a garment's top edge may be raised onto the shoulders
DRAPE = 0.35  # how far a skirt's sides move from the drawing's towards the body's
FITTED = 0.85  # the same from the armpits to the hips: a worn garment follows the waist
LIFT_FADE = 0.6  # face widths below the shoulders over which the lift onto them fades out
WIDEN = (0.75, 1.5)  # how far a row of the drawing may be stretched across to fit the body
BOTTOMS_WIDEN = (0.75, 3.0)  # a skirt's waistband may go on hips twice as wide as its hem


@dataclass(frozen=True)
class Finish:
    """How much of the photo the garment keeps: what tryon-max does better than tryon-v1.6.

    v1.6 lays the model's light and folds strongly over the garment, shades it as a cylinder
    and adds the photo's grain, which dims and flattens a print; max keeps most of the product
    photo's own colours and texture, samples it bicubically and keeps its edges crisp.
    """

    fold_strength: float = FOLD_STRENGTH
    body_flat: float = 0.35  # share of the body's cylinder shading left out (1: none)
    sleeve_flat: float = 0.0
    grain: float = 1.0  # share of the photo's grain added
    interpolation: int = cv2.INTER_LINEAR
    edge_gain: float = 1.0  # >1 steepens the cut-out's soft edge


V16_FINISH = Finish()
MAX_FINISH = Finish(
    fold_strength=0.3,
    body_flat=0.8,
    sleeve_flat=0.6,
    grain=0.3,
    interpolation=cv2.INTER_CUBIC,
    edge_gain=2.0,
)


@dataclass(frozen=True)
class Fit:
    """What the seed varies: how loose the garment sits and how long it falls."""

    ease: float
    length: float
    grain_seed: int

    @classmethod
    def from_seed(cls, seed: int) -> Fit:
        rng = random.Random(seed)
        return cls(rng.uniform(1.05, 1.12), rng.uniform(0.97, 1.03), rng.randrange(2**31))


def _row_runs(alpha: np.ndarray, centre: float) -> np.ndarray:
    """Half width of the garment's run through ``centre`` in each row (0 where it is empty)."""
    solid = alpha > 0.5
    h, w = solid.shape
    c = int(np.clip(centre, 0, w - 1))
    # Distance from the centre to the first empty pixel on each side, row by row.
    left = solid[:, c::-1]
    right = solid[:, c:]
    to_left = np.where(left.all(axis=1), left.shape[1], np.argmin(left, axis=1))
    to_right = np.where(right.all(axis=1), right.shape[1], np.argmin(right, axis=1))
    return np.minimum(to_left, to_right).astype(np.float32)


def _row_extents(alpha: np.ndarray, centre: float) -> np.ndarray:
    """Half width of each row from ``centre`` to its outermost garment pixel, the nearer side's
    (0 where the row is empty)."""
    solid = alpha > 0.5
    w = solid.shape[1]
    c = int(np.clip(centre, 0, w - 1))
    cols = np.arange(w)
    to_left = np.where(solid[:, : c + 1], c - cols[: c + 1] + 1, 0).max(axis=1)
    to_right = np.where(solid[:, c:], cols[c:] - c + 1, 0).max(axis=1)
    return np.minimum(to_left, to_right).astype(np.float32)


def _remap(layer: np.ndarray, map_x: np.ndarray, map_y: np.ndarray, interpolation: int):
    """A garment layer (uint8 RGBA) sampled through the maps: float32 RGB and alpha 0..1."""
    out = cv2.remap(
        layer, map_x, map_y, interpolation, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    return out[..., :3].astype(np.float32), out[..., 3].astype(np.float32) * (1.0 / 255.0)


def _body_layer(person: Person, g: Garment, category: str, fit: Fit, finish: Finish):
    """(x0, y0, rgb, alpha, across) of the garment's body placed on the image, or None.

    ``across`` is -1..1 across the garment, for its cylinder shading off the body.
    """
    fig = person.figure
    h, w = person.rgb.shape[:2]
    u, b = fig.unit, fig.build
    body_alpha = g.alpha if category == "bottoms" else g.body_alpha
    g_cx = (g.body_left + g.body_right) / 2

    if category == "bottoms":
        half = b.hip * u * fit.ease
        sx = 2 * half / max(g.width, 1)
        sy = sx * fit.length
        top_y = min(fig.y(BOTTOMS_WAIST), BOTTOMS_LOWEST * h)
        g_top = 0.0
    else:
        half = b.chest * u * fit.ease
        sx = 2 * half / max(g.body_width, 1.0)
        edge_x = np.array([fig.cx - 0.85 * half, fig.cx + 0.85 * half])
        top_y = float(fig.shoulder_line(edge_x).mean())
        g_top = g.shoulder_y
        hem = TOP_HEM if category == "tops" else ONE_PIECE_HEM
        hem_y = fig.y(hem * fit.length)
        sy = (hem_y - top_y) / max(g.height - g.shoulder_y, 1.0)
        sy = float(np.clip(sy, 0.7 * sx, 1.7 * sx))  # stretch, but keep it the same garment

    # Output rows covered, from the top of the collar (or hood) down to the hem.
    y0 = max(0, int(math.floor(top_y - g_top * sy - SHOULDER_LIFT * u)))
    y1 = min(h, int(math.ceil(top_y + (g.height - g_top) * sy)) + 1)
    if y1 <= y0:
        return None
    ys = np.arange(y0, y1, dtype=np.float32) + 0.5
    gy = g_top + (ys - top_y) / sy
    # Across, each row drapes a little towards the body under it (a flat drawing is boxier
    # than a garment worn), and is widened wherever the torso would peek out at its sides.
    # Bottoms by the row's whole width: a pair of trousers' legs are one row, gap and all.
    runs = (_row_extents if category == "bottoms" else _row_runs)(body_alpha, g_cx)
    run_at = np.interp(gy, np.arange(g.height) + 0.5, runs) * sx
    need = fig.torso_half(ys) * 1.04  # above the armpits this includes the deltoids
    # Over the deltoids' tops only: lower down, the sleeves cover the arms, and stretching the
    # body's edge over them would smear it sideways.
    arms = (ys > fig.y(Figure.SHOULDER_JOINT)) & (ys < fig.y(Figure.ARMPIT + 0.3))
    need = np.where(arms, np.minimum(need, (fig.build.chest + 0.05) * u * 1.04), need)
    below_arms = ys > fig.y(Figure.ARMPIT + 0.3)
    # From the armpits to the hips the sides follow the body (its waist, its hips) with the
    # fit's ease; below the hips a skirt keeps more of its drawn flare.
    hip_y = fig.y(Figure.HIP)
    follow = FITTED + (DRAPE - FITTED) * np.clip((ys - hip_y) / (1.0 * u), 0.0, 1.0)
    drape = np.maximum(need, follow * need * fit.ease + (1 - follow) * run_at)
    target = np.where(below_arms, drape, np.maximum(need, run_at))
    widen = np.where(run_at > 0, target / np.maximum(run_at, 1.0), 1.0)
    widen = np.clip(widen, *(BOTTOMS_WIDEN if category == "bottoms" else WIDEN))
    if category == "bottoms" and (run_at > 0).any():
        # Rows off the drawing take the nearest drawn row's stretch: blurred with 1s, the
        # waistband's top corners would come out narrower than the hips under them.
        drawn = np.flatnonzero(run_at > 0)
        widen = np.interp(np.arange(len(widen)), drawn, widen[drawn])
    widen = cv2.GaussianBlur(widen.astype(np.float32)[:, None], (1, 0), max(1.0, 0.25 * u)).ravel()
    widest = float(np.max(g.width / 2 * sx * widen)) + 2
    x0 = max(0, int(math.floor(fig.cx - widest)))
    x1 = min(w, int(math.ceil(fig.cx + widest)))
    if x1 <= x0:
        return None
    xs = np.arange(x0, x1, dtype=np.float32) + 0.5
    gx = g_cx + (xs[None, :] - fig.cx) / (sx * widen[:, None])
    map_y = np.broadcast_to(gy[:, None], gx.shape)
    if category != "bottoms":
        map_y = map_y + _shoulder_lift(fig, body_alpha, xs, ys, top_y, g_top, g_cx, sx, sy)
    map_x = (gx - 0.5).astype(np.float32)
    map_y = np.ascontiguousarray(map_y - 0.5, np.float32)
    rgb, alpha = _remap(g.body_layer(category == "bottoms"), map_x, map_y, finish.interpolation)
    half = np.maximum(run_at * widen, 1.0)[:, None]
    across = np.clip((xs[None, :] - fig.cx) / half, -1.0, 1.0).astype(np.float32)
    return x0, y0, rgb, alpha, across


def _shoulder_lift(fig, body_alpha, xs, ys, top_y, g_top, g_cx, sx, sy) -> np.ndarray:
    """Garment rows to add, per output pixel, so the garment's top edge lies on the shoulders.

    A flat drawing's shoulders are nearly level; worn, they slope off the neck. Each column's
    top edge is lifted onto the person's shoulder line (never pulled down: a hood stands above
    it), fading out a face width below, so the neckline and the chest keep their shape.
    """
    u = fig.unit
    solid = body_alpha > 0.5
    has = solid.any(axis=0)
    first = np.where(has, np.argmax(solid, axis=0), solid.shape[0]).astype(np.float32)
    gx = np.clip(g_cx + (xs - fig.cx) / sx, 0, solid.shape[1] - 1).astype(int)
    edge_y = top_y + (first[gx] - g_top) * sy  # where each column's top would land
    shoulder = fig.shoulder_line(xs.astype(np.float64)).astype(np.float32)
    lift = np.clip(edge_y - shoulder, 0.0, SHOULDER_LIFT * u)  # output pixels to move it up
    lift = np.where(has[gx], lift, 0.0).astype(np.float32)
    lift = cv2.GaussianBlur(lift[None, :], (0, 1), max(1.0, 0.1 * u)).ravel()
    depth = ys[:, None] - shoulder[None, :]
    # Over LIFT_FADE, more than the lift itself: rows stay in order (a stripe never folds back)
    # and the lift is gone well above the chest, where stripes must run straight.
    fade = 1.0 - np.clip(depth / (LIFT_FADE * u), 0.0, 1.0)
    return (lift[None, :] * fade) / sy


def _sleeve_layer(
    person: Person, g: Garment, side: int, fit: Fit, body_half: float, finish: Finish
):
    """(x0, y0, rgb, alpha, across) of one sleeve turned to hang along the arm, or None.

    ``across`` is -1..1 across the sleeve, for its cylinder shading.
    """
    shape = g.sleeve_shape(side)
    if shape is None:
        return None  # sleeveless
    fig = person.figure
    u, b = fig.unit, fig.build
    h, w = person.rgb.shape[:2]
    root, axis, normal = shape.root, shape.axis, shape.normal
    along_lo, length_g, width_g, spread = shape.along_lo, shape.length, shape.width, shape.spread
    centres, middles = shape.centres, shape.middles

    joint, elbow, wrist = person.arm_axis(side)
    direction = wrist - joint
    arm_length = float(np.linalg.norm(direction))
    direction = direction / max(arm_length, 1e-6)
    arm_normal = np.array([-direction[1], direction[0]])
    scale = 2 * body_half / max(g.body_width, 1.0)
    along_scale = min(scale, (arm_length + 0.3 * u) / max(length_g, 1.0))
    across_scale = float(np.clip(2.6 * b.arm * u / width_g, 0.75 * scale, 1.6 * scale))
    # The root's middle goes a little inside the shoulder joint, so the sleeve's top covers the
    # deltoid and its root tucks under the body's edge.
    start = joint - direction * 0.25 * u

    # Garment -> output: q = start + along * direction + (across - middle(along)) * arm_normal.
    corners_out = np.array(
        [
            start + a * along_scale * direction + c * across_scale * arm_normal
            for a in (along_lo, length_g)
            for c in (-spread, spread)
        ]
    )
    bend_room = abs(float(elbow[0] - (joint[0] + wrist[0]) / 2)) + 2
    x0 = max(0, int(math.floor(corners_out[:, 0].min() - bend_room)))
    x1 = min(w, int(math.ceil(corners_out[:, 0].max() + bend_room)))
    y0 = max(0, int(math.floor(corners_out[:, 1].min())) - 2)
    y1 = min(h, int(math.ceil(corners_out[:, 1].max())) + 2)
    if x1 <= x0 or y1 <= y0:
        return None
    rows = np.arange(y0, y1, dtype=np.float32) + 0.5
    # The arm bends out at the elbow: shift each row by how far the arm's axis lies off the
    # straight line from shoulder to wrist there.
    bend = np.interp(rows, [joint[1], elbow[1], wrist[1]], [joint[0], elbow[0], wrist[0]])
    straight = np.interp(rows, [joint[1], wrist[1]], [joint[0], wrist[0]])
    qx = np.arange(x0, x1, dtype=np.float32)[None, :] + 0.5 - start[0]
    qx = qx - (bend - straight).astype(np.float32)[:, None]
    qy = rows[:, None] - start[1]
    t_along = (qx * direction[0] + qy * direction[1]) / along_scale
    offset = (qx * arm_normal[0] + qy * arm_normal[1]) / across_scale
    t_across = offset + np.interp(t_along, centres, middles).astype(np.float32)
    map_x = (root[0] + t_along * axis[0] + t_across * normal[0] - 0.5).astype(np.float32)
    map_y = (root[1] + t_along * axis[1] + t_across * normal[1] - 0.5).astype(np.float32)
    rgb, sleeve_alpha = _remap(g.sleeve_layer(side), map_x, map_y, finish.interpolation)
    # Only as wide as the sleeve's lower half: the drawing's wide top (the armhole, seen flat)
    # would stand off the shoulder like a wing; the body's edge covers the shoulder instead.
    sleeve_alpha *= np.clip((0.55 * width_g - np.abs(offset)) * across_scale / 2 + 0.5, 0, 1)
    # A sleeve follows its arm: what would hang off it into the air is cut along the arm.
    sleeve_alpha *= person.near_body[y0:y1, x0:x1]
    cyl = np.clip(offset / (width_g / 2), -1.0, 1.0)
    return x0, y0, rgb, sleeve_alpha, cyl.astype(np.float32)


def _shoulder_cap(person: Person, box) -> np.ndarray:
    """0 above the shoulders beside the neck, 1 elsewhere: nothing stands up off a shoulder.

    Near the neck a collar or a hood may rise above the shoulder line; further out, what would
    is a drawn sleeve's top turned up by the fitting, or the flat drawing's square shoulders.
    """
    fig = person.figure
    x0, y0, x1, y1 = box
    u = fig.unit
    xs = np.arange(x0, x1, dtype=np.float64) + 0.5
    ys = np.arange(y0, y1, dtype=np.float32)[:, None] + 0.5
    line = fig.shoulder_line(xs).astype(np.float32)[None, :] - 0.02 * u
    below = np.clip((ys - line) / (0.04 * u) + 0.5, 0.0, 1.0)
    # Above the armpits, nothing stands out beside the shoulders in the air either.
    armpit = fig.y(Figure.ARMPIT + 0.2)
    lower = np.clip((ys - armpit) / (0.3 * u), 0.0, 1.0)
    beside = np.maximum(person.near_body[y0:y1, x0:x1], lower)
    near_neck = np.abs(xs - fig.cx) < (fig.build.neck + 0.45) * u
    return np.where(near_neck[None, :], 1.0, below * beside).astype(np.float32)


def _model_light(person: Person, box, fold_strength: float) -> tuple[np.ndarray, np.ndarray]:
    """The model image's light over ``box`` relative to each row's median across the torso,
    and how much of the body lies under each pixel to take it from (0..1).

    Worked out at half size: light and folds are smooth, and this is a third of the work.
    """
    fig = person.figure
    x0, y0, x1, y1 = box
    k = LIGHT_SHRINK
    small = (max(1, (x1 - x0) // k), max(1, (y1 - y0) // k))
    u = fig.unit / k
    luma = person.rgb[y0:y1, x0:x1].astype(np.float32) @ LUMA
    region = cv2.resize(luma, small, interpolation=cv2.INTER_AREA)
    inside = cv2.resize(person.silhouette[y0:y1, x0:x1], small, interpolation=cv2.INTER_AREA)
    inside = inside > 0.5
    # Along rows only: a row never mixes with the next, where the old top may give way to
    # trousers (each row is divided by its own median below).
    smooth = cv2.GaussianBlur(region, (0, 1), max(1.0, 0.06 * u))
    xs = x0 + (np.arange(small[0], dtype=np.float32) + 0.5) * (x1 - x0) / small[0]
    band = np.abs(xs - fig.cx) < fig.build.chest * fig.unit * 0.8
    torso = inside & band[None, :]
    counts = torso.sum(axis=1)
    if not counts.any():
        ones = np.ones((y1 - y0, x1 - x0), np.float32)
        return ones, np.zeros_like(ones)
    # Each row's median over its torso pixels: sort with the rest pushed to the end.
    ordered = np.sort(np.where(torso, smooth, np.inf), axis=1)
    rows = np.arange(len(counts))
    reference = ordered[rows, np.maximum(counts - 1, 0) // 2]
    known = counts > 0
    reference = np.interp(rows, rows[known], reference[known]).astype(np.float32)
    # Clipped and softened: a busy photo's prints and badges must not show through.
    ratio = np.clip(smooth / np.maximum(reference[:, None], 1.0), 0.7, 1.08)
    ratio = cv2.GaussianBlur(ratio, (0, 0), max(1.0, 0.04 * u))
    lit = 1.0 + fold_strength * (ratio - 1.0)
    weight = cv2.GaussianBlur(inside.astype(np.float32), (0, 0), max(1.0, 0.05 * u))
    full = (x1 - x0, y1 - y0)
    return (
        cv2.resize(lit, full, interpolation=cv2.INTER_LINEAR),
        cv2.resize(weight, full, interpolation=cv2.INTER_LINEAR),
    )


def _cylinder(across: np.ndarray, light: Light, flat: float) -> np.ndarray:
    """``shading.shade`` relative to the front, through a table: it depends on ``across`` only."""
    table = shading.shade(np.linspace(-1.0, 1.0, 257, dtype=np.float32), light, flat=flat)
    table = table / light.front()
    return table[np.rint((across + 1.0) * 128).astype(np.intp)]


def _noise_sigma(person: Person, fig: Figure) -> float:
    """The photo's grain, measured on a patch of the chest: what the garment must carry too."""
    u = fig.unit
    y, x = int(fig.y(Figure.BUST)), int(fig.cx)
    r = max(4, int(0.3 * u))
    patch = person.rgb[max(0, y - r) : y + r, max(0, x - r) : x + r].astype(np.float32) @ LUMA
    if patch.size < 16:
        return 0.0
    detail = patch - cv2.GaussianBlur(patch, (0, 0), 1.5)
    return float(np.clip(1.4826 * np.median(np.abs(detail)) * 1.3, 0.0, 6.0))


def fit_garment(
    person: Person, g: Garment, category: str, seed: int, finish: Finish = V16_FINISH
) -> np.ndarray:
    """The model image (working size, uint8 RGB) wearing the garment."""
    fit = Fit.from_seed(seed)
    fig = person.figure
    light = Light(person.light)
    pieces = []  # (x0, y0, rgb, alpha, across, takes the model's light)
    body = _body_layer(person, g, category, fit, finish)
    if body is not None:
        pieces.append((*body, True))
    if category != "bottoms":
        body_half = fig.build.chest * fig.unit * fit.ease
        for side in (-1, 1):
            sleeve = _sleeve_layer(person, g, side, fit, body_half, finish)
            if sleeve is not None:
                pieces.insert(0, (*sleeve, False))  # under the body: its edge on top
    if not pieces:
        return person.rgb.copy()
    # One box round every piece: the light, the shadow and the grain are worked out only there.
    bx0 = min(p[0] for p in pieces)
    by0 = min(p[1] for p in pieces)
    bx1 = max(p[0] + p[3].shape[1] for p in pieces)
    by1 = max(p[1] + p[3].shape[0] for p in pieces)
    box = (bx0, by0, bx1, by1)
    model_light, on_person = _model_light(person, box, finish.fold_strength)
    rgb = np.zeros((by1 - by0, bx1 - bx0, 3), np.float32)
    alpha = np.zeros((by1 - by0, bx1 - bx0), np.float32)
    for x0, y0, prgb, palpha, across, from_model in pieces:
        ph, pw = palpha.shape
        sl = (slice(y0 - by0, y0 - by0 + ph), slice(x0 - bx0, x0 - bx0 + pw))
        # A cylinder under the face's key light; on the body, the model's own light instead,
        # wherever there is body under the garment to take it from.
        lit = _cylinder(across, light, finish.body_flat if from_model else finish.sleeve_flat)
        if from_model:
            weight = on_person[sl]
            lit = model_light[sl] * weight + lit * (1.0 - weight)
        if finish.edge_gain != 1.0:
            palpha = np.clip((palpha - 0.5) * finish.edge_gain + 0.5, 0.0, 1.0)
        colour = prgb * lit[..., None]
        rgb[sl] += (colour - rgb[sl]) * palpha[..., None]
        alpha[sl] = palpha + alpha[sl] * (1.0 - palpha)
    keep = 1.0 - person.head[by0:by1, bx0:bx1]  # the head stays exactly as it was
    alpha *= keep * _shoulder_cap(person, box)
    sigma = _noise_sigma(person, fig)
    if sigma * finish.grain > 0.3:
        rgb += shading.grain(alpha.shape, sigma * finish.grain, fit.grain_seed)[..., None]
    # A soft shadow where the garment stands off the body onto what lies behind it.
    shadow = blur(alpha, 0.06 * fig.unit, shrink=4)
    out = person.rgb.copy()
    if category != "bottoms":
        bare_arms(person, out, sigma, fit.grain_seed)
        bare_chest(person, out, sigma, fit.grain_seed)
    if category != "tops" and body is not None:
        x0, y0, _, body_alpha, _ = body
        first = y0 + int(np.argmax(body_alpha.max(axis=1) > 0.5))
        top = max(first, fig.y(BOTTOMS_WAIST))  # a dress: only where the old bottoms were
        bare_legs(person, out, (x0, y0, body_alpha), top, sigma, fit.grain_seed)
    region = out[by0:by1, bx0:bx1].astype(np.float32)
    region *= (1.0 - 0.15 * np.clip(shadow - alpha, 0.0, 1.0) * keep)[..., None]
    region += (rgb - region) * alpha[..., None]
    # Rounds and saturates in one pass; the rare value a grain below 0 (a black garment) comes
    # out as its absolute value, a level or two.
    out[by0:by1, bx0:bx1] = cv2.convertScaleAbs(region)
    return out
