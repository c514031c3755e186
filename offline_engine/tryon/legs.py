"""The old bottoms taken off before new bottoms (or a dress) go on: bare legs, backdrop beside.

An avatar wears trousers; dressed in a skirt, shorts or trousers narrower than them, nothing of
the old ones may show beside or below the new garment. From the new garment's waistband down,
pixels of the old bottoms' colour (the hips' median) become skin where the figure's legs are and
the new garment has ended above them (below a skirt's or shorts' hem), and backdrop everywhere
else (beside the new garment, between its legs), from the row's far ends as ``arms.py`` takes it.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..avatar import shading
from ..avatar.body import Figure
from ..avatar.compose import skin_shade
from ..avatar.shading import Light
from .arms import backdrop_at, old_top_colour, same_colour, skin_likeness, worn_colour
from .person import Person

LEG_TOP = 0.7  # face widths above the crotch where the legs part (as the avatars draw them)
LEG_TAPER = 3.5  # face widths over which a leg narrows from half the hips to 0.41 of them


def old_bottoms_colour(person: Person) -> np.ndarray | None:
    """The colour the person wore on the hips (median), or None when the hips are not in view."""
    fig = person.figure
    y0, y1 = int(fig.y(Figure.HIP - 0.2)), int(fig.y(Figure.HIP + 0.3))
    half = 0.5 * fig.build.hip * fig.unit  # the middle only: the hands hang beside the hips
    x0, x1 = int(fig.cx - half), int(fig.cx + half)
    return worn_colour(person, y0, y1, x0, x1, min_side=4)


def bare_legs(person: Person, out: np.ndarray, layer, top: float, noise: float, seed: int) -> None:
    """Clear the old bottoms off, in place, from row ``top`` down: skin on the legs below the
    new garment's hem, backdrop beside it.

    ``layer`` is the new garment's body as placed, (x0, y0, alpha): where it ends on each leg.
    Only the old bottoms' colour changes (skin, the hands, a sleeve of another colour stay), and
    where the old top has that colour too its sleeves are kept out. Masks at half size (they are
    smooth), painting at full size and only where something changes.
    """
    old = old_bottoms_colour(person)
    if old is None:
        return
    fig = person.figure
    u = fig.unit
    h, w = out.shape[:2]
    y0, y1 = max(0, int(top)), h
    if y1 - y0 < 4:
        return
    reach = np.flatnonzero(person.near_body[y0:y1].max(axis=0) > 0)
    if reach.size < 4:
        return
    x0, x1 = int(reach[0]), int(reach[-1]) + 1
    full = (x1 - x0, y1 - y0)
    small = (max(2, full[0] // 2), max(2, full[1] // 2))
    xs = x0 + (np.arange(small[0], dtype=np.float32)[None, :] + 0.5) * full[0] / small[0]
    ys = y0 + (np.arange(small[1], dtype=np.float32)[:, None] + 0.5) * full[1] / small[1]
    rgbf = cv2.resize(person.rgb[y0:y1, x0:x1], small, interpolation=cv2.INTER_AREA)
    rgbf = rgbf.astype(np.float32)
    near = cv2.resize(person.near_body[y0:y1, x0:x1], small, interpolation=cv2.INTER_AREA)
    # The shadows the arms and hands cast on the old bottoms are theirs too: down to a tenth.
    same, _ = same_colour(rgbf, old, person.skin, darkest=0.1)
    worn = old_top_colour(person)
    if worn is not None and same_colour(worn[None, None], old, person.skin)[0][0, 0] > 0:
        keep = _sleeves(person, xs, ys, same)  # a top of that colour keeps its sleeves
    else:
        keep = None
    # All or nothing: dark trousers' grain leaves many of their pixels only half like their
    # median (dark colours are also near a darkened skin), and half cleared is a grey blotch.
    same = np.clip((same - 0.15) / 0.2, 0.0, 1.0)
    # Grown by a pixel or two: the old edge's pixels, half trousers and half backdrop, would
    # otherwise stay as an outline where the old bottoms ended.
    grow = 2 * max(1, round(0.015 * u)) + 1
    same = cv2.dilate(same, np.ones((grow, grow), np.uint8))
    same = same * near * (1.0 - skin_likeness(rgbf, person.skin))
    if keep is not None:
        same = same * (1.0 - keep)
    # Under the new garment nothing shows: most of the region, left as it is (half the work).
    same = same * (1.0 - _covered(layer, xs, ys))
    if not same.any():
        return
    bare, across = _bare_legs_region(person, layer, xs, ys)
    to_skin = cv2.GaussianBlur(same * bare, (0, 0), 0.6)
    to_back = cv2.GaussianBlur(same * (1.0 - bare), (0, 0), 0.6)
    # The legs shaded as the avatars shade them, cylinders under the key light, at the level of
    # the cheeks' skin: no bare leg shows in the model image to take a level from.
    light = Light(person.light)
    level = shading.shade(across, light, gloss=0.05) / light.front()
    skin_table = skin_shade(person.skin, np.linspace(0.35, 1.2, 256, dtype=np.float32))
    to_skin = cv2.resize(to_skin, full, interpolation=cv2.INTER_LINEAR)
    to_back = cv2.resize(to_back, full, interpolation=cv2.INTER_LINEAR)
    level = cv2.resize(level, full, interpolation=cv2.INTER_LINEAR)
    grain = shading.grain(to_skin.shape, noise, seed)
    region = out[y0:y1, x0:x1]  # a view: only the pixels that change are read and written
    back = to_back > 0.004
    if back.any():
        yy, xx = np.nonzero(back)
        colour = backdrop_at(out, y0 + yy, x0 + xx) + grain[yy, xx][:, None]
        _blend(region, yy, xx, colour, to_back[yy, xx])
    paint = to_skin > 0.004
    if paint.any():
        yy, xx = np.nonzero(paint)
        index = np.rint((np.clip(level[yy, xx], 0.35, 1.2) - 0.35) * (255 / 0.85)).astype(np.intp)
        colour = skin_table[index] + grain[yy, xx][:, None]
        _blend(region, yy, xx, colour, to_skin[yy, xx])


def _blend(region: np.ndarray, yy, xx, colour: np.ndarray, share: np.ndarray) -> None:
    """``colour`` over the pixels (yy, xx) of ``region`` (uint8, in place) by ``share``."""
    pixels = region[yy, xx].astype(np.float32)
    pixels += (colour - pixels) * share[:, None]
    region[yy, xx] = cv2.convertScaleAbs(pixels)  # rounds and saturates


def _covered(layer, xs, ys) -> np.ndarray:
    """1 on the grid ``xs`` x ``ys`` where the new garment hides what is under it, 0 elsewhere
    and a couple of grid pixels inside its edge (its soft edge shows what lies under it)."""
    x0, y0, alpha = layer
    ix = (xs.ravel() - x0).astype(np.intp)
    iy = (ys.ravel() - y0).astype(np.intp)
    inx = (ix >= 0) & (ix < alpha.shape[1])
    iny = (iy >= 0) & (iy < alpha.shape[0])
    solid = alpha[iy.clip(0, alpha.shape[0] - 1)][:, ix.clip(0, alpha.shape[1] - 1)] > 0.99
    solid = (solid & iny[:, None] & inx[None, :]).astype(np.uint8)
    return cv2.erode(solid, np.ones((5, 5), np.uint8)).astype(np.float32)


def _bare_legs_region(person: Person, layer, xs, ys) -> tuple[np.ndarray, np.ndarray]:
    """(0..1 where a leg is and the new garment has ended above it, the position across the
    leg -1..1 for its cylinder shading) on the grid ``xs`` x ``ys``.

    Above where the legs part, the hips as one; below, two legs, each as wide as half the hips,
    narrowing down. Each leg is bare below the lowest row the garment covers on its middle
    line: between a pair of trousers' legs, where the garment goes on below, is backdrop.
    """
    fig = person.figure
    u, hip = fig.unit, fig.build.hip * fig.unit
    part = fig.y(Figure.CROTCH) - LEG_TOP * u
    leg_half = np.interp(ys, [part, part + LEG_TAPER * u], [0.5 * hip, 0.41 * hip])
    legs = ys >= part
    right = xs >= fig.cx
    side = np.where(right, 1.0, -1.0)
    centre = np.where(legs, fig.cx + side * (0.5 * hip + 0.012 * u), fig.cx)
    half = np.where(legs, leg_half, fig.torso_half(ys))
    inside = np.clip((half - np.abs(xs - centre)) / (0.02 * u) + 0.5, 0.0, 1.0)
    hem = {s: _hem(layer, fig.cx + s * 0.5 * hip, 0.15 * u) for s in (-1, 1)}
    hem_y = np.where(right, hem[1], hem[-1])
    below = np.clip((ys - hem_y) / (0.02 * u) + 0.5, 0.0, 1.0)
    across = np.clip((xs - centre) / np.maximum(half, 1.0), -1.0, 1.0)
    return (inside * below).astype(np.float32), across.astype(np.float32)


def _hem(layer, x: float, half: float) -> float:
    """The row below the garment's lowest covered row on column ``x`` (its band ``half`` either
    side), in image rows; the garment's top when it does not reach that column at all."""
    x0, y0, alpha = layer
    c0, c1 = max(0, int(x - half - x0)), min(alpha.shape[1], int(x + half - x0) + 1)
    if c1 <= c0:
        return float(y0)
    covered = np.flatnonzero(alpha[:, c0:c1].mean(axis=1) > 0.5)
    return float(y0 + (covered[-1] + 1 if covered.size else 0))


def _sleeves(person: Person, xs, ys, same: np.ndarray) -> np.ndarray:
    """0..1 where an old sleeve of the old bottoms' colour hangs, on the grid ``xs`` x ``ys``:
    along each arm, the rows where the arm's middle has that colour (``same``), as wide as the
    arm; a bare forearm below a short sleeve keeps nothing beside it."""
    fig = person.figure
    u, r = fig.unit, fig.build.arm
    mask = np.zeros(same.shape, np.float32)
    for side in (-1, 1):
        joint, elbow, wrist = person.arm_axis(side)
        levels = [joint[1], elbow[1], wrist[1]]
        centre = np.interp(ys, levels, [joint[0], elbow[0], wrist[0]])
        half = np.interp(ys, levels, [r, 0.8 * r, 0.6 * r]) * u
        tube = np.clip((half - np.abs(xs - centre)) / (0.03 * u) + 0.5, 0.0, 1.0)
        column = np.searchsorted(xs.ravel(), centre.ravel()).clip(1, same.shape[1] - 2)
        rows = np.arange(same.shape[0])
        middle = (same[rows, column - 1] + same[rows, column] + same[rows, column + 1]) / 3
        worn = np.clip((middle - 0.3) / 0.3, 0.0, 1.0)[:, None] * (ys < wrist[1] + 0.1 * u)
        mask = np.maximum(mask, tube * worn)
    return mask
