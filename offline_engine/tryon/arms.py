"""Bare arms for a try-on: skin painted over the old top's sleeves before the garment goes on.

An avatar may wear a long-sleeved top; dressed in a tee or a sleeveless dress, its forearms or
shoulders must show skin, not the old sleeves. Along where each arm hangs (``Person.arm_axis``),
pixels of the old top's colour (the chest's median) that are not nearer skin are painted with
the body's skin colour, lit by the old sleeve's own light, with the photo's grain.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..avatar import shading
from ..avatar.body import Figure
from ..avatar.compose import skin_shade
from ..avatar.shading import Light
from .person import Person, skin_likeness

LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def old_top_colour(person: Person) -> np.ndarray | None:
    """The colour the person wore on the chest (median), or None when there is no chest."""
    fig = person.figure
    u = fig.unit
    y0, y1 = int(fig.y(Figure.BUST - 0.3)), int(fig.y(Figure.BUST + 0.3))
    x0, x1 = int(fig.cx - 0.4 * u), int(fig.cx + 0.4 * u)
    return worn_colour(person, y0, y1, x0, x1, min_side=2)


def worn_colour(person: Person, y0, y1, x0, x1, *, min_side) -> np.ndarray | None:
    """The median colour of the person's pixels in the box (clipped to the image), or None when
    the box is thinner than ``min_side`` or holds too little of the person."""
    h, w = person.rgb.shape[:2]
    y0, y1, x0, x1 = max(0, y0), min(h, y1), max(0, x0), min(w, x1)
    if y1 - y0 < min_side or x1 - x0 < min_side:
        return None
    inside = person.silhouette[y0:y1, x0:x1] > 0.5
    if inside.sum() < 16:
        return None
    return np.median(person.rgb[y0:y1, x0:x1][inside].astype(np.float32), axis=0)


def bare_arms(person: Person, out: np.ndarray, noise: float, seed: int) -> None:
    """Clear the old top off the arms and shoulders, in place: skin on the arm, backdrop beside it.

    The new garment goes on afterwards: where its sleeves are shorter than the old ones (a tee
    on a long-sleeved avatar, a sleeveless dress), bare arms show instead of the old sleeves.
    Inside the arm as the figure draws it, every pixel that is not already skin becomes skin,
    lit by the old sleeve's own light (its luminance over the chest's), so the arm keeps its
    roundness and its shadows; between the arm and the old sleeve's outline (a sleeve is wider
    than the arm in it, and its edge pixels are half sleeve, half backdrop) the backdrop comes
    back, taken from the row's far ends. Worked out at half size: colour and light are smooth.
    """
    old = old_top_colour(person)
    if old is None:
        return
    h, w = out.shape[:2]
    for side in (-1, 1):
        joint, elbow, wrist = person.arm_axis(side)
        u = person.figure.unit
        reach = (person.figure.build.arm + 0.25) * u  # the widest the tube gets, and its edge
        y0, y1 = max(0, int(joint[1] - 0.45 * u)), min(h, int(wrist[1] + 0.1 * u) + 1)
        x0 = max(0, int(min(joint[0], elbow[0], wrist[0]) - reach))
        x1 = min(w, int(max(joint[0], elbow[0], wrist[0]) + reach) + 1)
        if y1 - y0 < 4 or x1 - x0 < 4:
            continue
        small = (max(2, (x1 - x0) // 2), max(2, (y1 - y0) // 2))
        ys = y0 + (np.arange(small[1], dtype=np.float32)[:, None] + 0.5) * (y1 - y0) / small[1]
        xs = x0 + (np.arange(small[0], dtype=np.float32)[None, :] + 0.5) * (x1 - x0) / small[0]
        rgb = cv2.resize(person.rgb[y0:y1, x0:x1], small, interpolation=cv2.INTER_AREA)
        silhouette = cv2.resize(
            person.silhouette[y0:y1, x0:x1], small, interpolation=cv2.INTER_AREA
        )
        tube, arm, whole, across = _arm_region(person, side, xs, ys, silhouette)
        rgbf = rgb.astype(np.float32)
        same, ratio = same_colour(rgbf, old, person.skin)
        skin_like = skin_likeness(rgbf, person.skin)
        # Grown by a pixel or two: the old sleeve's edge pixels, half sleeve and half backdrop,
        # would otherwise stay as a dark or light outline round the new bare arm.
        grow = 2 * max(1, round(0.015 * u)) + 1
        same = cv2.dilate(same, np.ones((grow, grow), np.uint8))
        # On the arm: whatever is not skin. Beside it: only what the old sleeve covered.
        on_arm = np.maximum(arm * (1.0 - skin_like), whole * same * (1.0 - skin_like))
        to_skin = cv2.GaussianBlur(tube * on_arm, (0, 0), 0.6)
        to_back = cv2.GaussianBlur(same * tube * (1.0 - whole), (0, 0), 0.6)
        if not to_skin.any() and not to_back.any():
            continue
        # The light smoothed: the photo's grain belongs to the old sleeve; skin gets its own.
        # Where the pixel is no sleeve (the backdrop seen through a lost arm), the light is the
        # row's light on the sleeve next to it: taken as 1.
        # The arm shaded as the avatars shade it, a cylinder under the key light, at the level
        # of the arm's own skin where some shows (below a short sleeve), so the new bare skin
        # meets it with no step; else at the cheeks' (the body's skin colour). The old sleeve's
        # own light is no guide: a black sleeve's is mostly its grain and its edges.
        cylinder = shading.shade(across, Light(person.light), gloss=0.05)
        bare = (skin_like > 0.8) & (arm > 0.5) & (same < 0.5)
        if bare.sum() > 20:
            base = np.median(rgbf[bare], axis=0)
            light = cylinder / max(float(np.median(cylinder[bare])), 1e-3)
        else:
            base = person.skin
            light = cylinder / Light(person.light).front()
        # Skin under light levels 0.35 .. 1.2, as a table: looked up per pixel, not computed.
        skin_table = skin_shade(base, np.linspace(0.35, 1.2, 256, dtype=np.float32))
        full = (x1 - x0, y1 - y0)
        to_skin = cv2.resize(to_skin, full, interpolation=cv2.INTER_LINEAR)
        to_back = cv2.resize(to_back, full, interpolation=cv2.INTER_LINEAR)
        light = cv2.resize(light, full, interpolation=cv2.INTER_LINEAR)
        grain = shading.grain(to_skin.shape, noise, seed)
        region = out[y0:y1, x0:x1].astype(np.float32)
        # Only the pixels that change are worked on (a third of the arm's box or less).
        back = to_back > 0.004
        if back.any():
            yy, xx = np.nonzero(back)
            colour = backdrop_at(out, y0 + yy, x0 + xx) + grain[back][:, None]
            region[back] += (colour - region[back]) * to_back[back][:, None]
        paint = to_skin > 0.004
        if paint.any():
            level = np.clip(light[paint], 0.35, 1.2)
            colour = skin_table[np.rint((level - 0.35) * (255 / 0.85)).astype(np.intp)]
            colour += grain[paint][:, None]
            region[paint] += (colour - region[paint]) * to_skin[paint][:, None]
        out[y0:y1, x0:x1] = cv2.convertScaleAbs(region)  # rounds and saturates


def bare_chest(person: Person, out: np.ndarray, noise: float, seed: int) -> None:
    """Skin, in place, over the old top round the neck and down the chest, where a new neckline
    cut lower than the old one (a V, a strapped dress) would show it; lit like the old top."""
    old = old_top_colour(person)
    if old is None:
        return
    fig = person.figure
    u = fig.unit
    h, w = out.shape[:2]
    y0, y1 = max(0, int(fig.notch - 0.45 * u)), min(h, int(fig.y(Figure.BUST + 0.4)))
    reach = (fig.build.neck + 0.9) * u
    x0, x1 = max(0, int(fig.cx - reach)), min(w, int(fig.cx + reach) + 1)
    if y1 - y0 < 4 or x1 - x0 < 4:
        return
    # The test and the light at half size (both smooth), the painting at full size.
    full = (x1 - x0, y1 - y0)
    small = (max(2, full[0] // 2), max(2, full[1] // 2))
    rgbs = cv2.resize(person.rgb[y0:y1, x0:x1], small, interpolation=cv2.INTER_AREA)
    same, ratio = same_colour(rgbs.astype(np.float32), old, person.skin)
    # Only on the body below the shoulders: a light top's colour is also the backdrop's.
    sil = cv2.resize(person.silhouette[y0:y1, x0:x1], small, interpolation=cv2.INTER_AREA)
    xs = x0 + (np.arange(small[0], dtype=np.float64) + 0.5) * full[0] / small[0]
    ys = y0 + (np.arange(small[1], dtype=np.float32)[:, None] + 0.5) * full[1] / small[1]
    line = fig.shoulder_line(xs).astype(np.float32)[None, :]
    same = same * np.clip((sil - 0.3) / 0.4, 0.0, 1.0) * np.clip((ys - line) / (0.03 * u), 0, 1)
    grow = 2 * max(1, round(0.01 * u)) + 1
    same = cv2.GaussianBlur(cv2.dilate(same, np.ones((grow, grow), np.uint8)), (0, 0), 0.6)
    if not same.any():
        return
    light = cv2.GaussianBlur(ratio, (0, 0), max(1.0, 0.015 * u))
    same = cv2.resize(same, full, interpolation=cv2.INTER_LINEAR)
    light = cv2.resize(light, full, interpolation=cv2.INTER_LINEAR)
    rgbf = person.rgb[y0:y1, x0:x1].astype(np.float32)
    index = np.rint((np.clip(light, 0.35, 1.2) - 0.35) * (255 / 0.85)).astype(np.intp)
    skin = skin_shade(person.skin, np.linspace(0.35, 1.2, 256, dtype=np.float32))[index]
    skin += shading.grain(same.shape, noise, seed)[..., None]
    rgbf += (skin - rgbf) * same[..., None]
    out[y0:y1, x0:x1] = cv2.convertScaleAbs(rgbf)  # rounds and saturates (never negative)


def backdrop_at(rgb: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """The backdrop behind pixels (ys, xs), from their rows' far ends (a studio backdrop is
    smooth across: interpolated between the left end's colour and the right end's)."""
    edge = max(2, rgb.shape[1] // 40)
    r0, r1 = int(ys.min()), int(ys.max()) + 1
    left = rgb[r0:r1, :edge].mean(axis=1, dtype=np.float32)[ys - r0]
    right = rgb[r0:r1, -edge:].mean(axis=1, dtype=np.float32)[ys - r0]
    t = ((xs.astype(np.float32) + 0.5) / rgb.shape[1])[:, None]
    return left * (1.0 - t) + right * t


def _arm_region(person: Person, side: int, xs, ys, silhouette: np.ndarray):
    """(where the old sleeve can be, where the arm is down to above the hand, where the arm is
    down to the wrist), 0..1 on the grid ``xs`` x ``ys``, and the position across the arm
    (-1..1) for its cylinder shading."""
    fig = person.figure
    u, r = fig.unit, fig.build.arm
    joint, elbow, wrist = person.arm_axis(side)
    top = joint[1] - 0.45 * u
    levels = [top, joint[1], elbow[1], wrist[1]]
    centre = np.interp(ys, levels[1:], [joint[0], elbow[0], wrist[0]])
    # The arm as the figure draws it, and the sleeve round it with a few pixels more.
    loose = np.interp(ys, levels, [r + 0.2, r + 0.12, 0.8 * r + 0.1, 0.6 * r + 0.1]) * u
    tight = np.interp(ys, levels, [r - 0.01, r - 0.01, 0.78 * r - 0.01, 0.55 * r - 0.01]) * u
    off = np.abs(xs - centre)
    tube = np.clip((loose - off) / (0.03 * u) + 0.5, 0.0, 1.0)
    arm = np.clip((tight - off) / (0.02 * u) + 0.5, 0.0, 1.0)
    shoulder = fig.shoulder_line(xs.ravel().astype(np.float64)).astype(np.float32)[None, :]
    below = np.clip((ys - shoulder) / (0.03 * u) + 0.5, 0.0, 1.0)
    # The arm's top grows out of the torso: only its outer half there is the arm's to clear.
    outer = np.clip((side * (xs - joint[0]) / (r * u) + 0.6) / 0.4, 0.0, 1.0)
    upper = np.clip((ys - (joint[1] + 0.6 * u)) / (0.3 * u), 0.0, 1.0)
    arm = arm * np.maximum(outer, upper)
    # Past the wrist the hand is skin already (or a glove): there only the old cuff's own
    # pixels are the top's to clear, with skin too.
    whole = arm * below
    arm = arm * np.clip((wrist[1] - 0.12 * u - ys) / (0.06 * u), 0.0, 1.0)
    across = np.clip((xs - centre) / np.maximum(tight, 1.0), -1.0, 1.0).astype(np.float32)
    f32 = np.float32
    return (tube * below).astype(f32), (arm * below).astype(f32), whole.astype(f32), across


def same_colour(rgb: np.ndarray, old: np.ndarray, skin: np.ndarray, darkest: float = 0.35):
    """(0..1 where a pixel is an old garment's colour ``old`` and not skin, its light relative
    to that colour): the old top here, the old bottoms in ``legs.py``.

    Colours are compared scaled to each pixel's brightness (grain, equal in all channels,
    cancels), relative to a floor so that a black top's noise does not count as colour; a pixel
    darker than ``darkest`` of the colour is a shadow, not the colour.
    """
    old_luma = max(float(old @ LUMA), 1.0)
    skin_luma = max(float(skin @ LUMA), 60.0)
    luma = rgb @ LUMA
    ratio = luma / old_luma
    distance = np.abs(rgb - old * ratio[..., None]).max(axis=2) / max(old_luma, 60.0)
    same = np.clip((0.12 - distance) / 0.05, 0.0, 1.0) * ((ratio > darkest) & (ratio < 1.3))
    # A top close to skin colour (camel, beige): what is nearer the skin already is skin. Not in
    # the dark (a black top, its shadows): below a fifth of the skin's level every colour is
    # near a darkened skin, and that guard would leave half of a black garment's pixels.
    to_skin = np.abs(rgb - skin * (luma / skin_luma)[..., None]).max(axis=2) / skin_luma
    guard = np.clip((to_skin - distance - 0.03) / 0.03 + 0.5, 0.0, 1.0)
    lit = np.clip((luma / skin_luma - 0.2) / 0.1, 0.0, 1.0)
    same = same * (1.0 - lit * (1.0 - guard))
    return same.astype(np.float32), ratio.astype(np.float32)
