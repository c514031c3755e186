"""One avatar: the head placed at a natural size, the dressed figure under it, light and grain.

The canvas is laid out in face widths: the face (cheekbone to cheekbone) is FACE_WIDTH of the
canvas width, the eyes sit EYE_Y from the top (lower when big hair needs the room), and the body
hangs from the chin, so a longer aspect ratio only shows more of it, downwards.

The body and the backdrop are smooth, so they are drawn and shaded at half size (a quarter of
the work) and scaled up; the head is pasted at full size afterwards, and grain matched to the
photo's goes on everything but the head.

``compose()`` is the list of steps, each a function below: place the head, hang the figure from
its chin, draw the parts, measure what covers what, cast the contact shadows, paint the parts
over the backdrop, then finish at full size.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import cv2
import numpy as np

from ..imaging import bounding_box, smoothstep
from . import shading
from .analysis import FRAME_SIDE, SEGMENT_SIZE, Analysis
from .body import BodyMasks, Build, Figure, Part, build_from_prompt, profile, tube
from .head import HeadLayer, cut_out, neck_top_u
from .shading import Light

FACE_WIDTH = 0.2  # canvas widths
EYE_Y = 0.265  # canvas widths from the top
TOP_MARGIN = 0.045  # the least room left above the hair
NECK_LENGTH = 0.45  # chin to the neck's base at the front, in face widths
WORK_SCALE = 2

# Tops and trousers a catalogue shoot would use; the seed picks one of each.
TOP_COLOURS = [
    (38, 52, 84),  # navy
    (58, 60, 66),  # charcoal
    (226, 223, 216),  # off-white
    (148, 149, 152),  # heather grey
    (34, 34, 37),  # black
    (92, 98, 66),  # olive
    (112, 38, 50),  # burgundy
    (176, 140, 98),  # camel
    (112, 138, 168),  # dusty blue
    (138, 154, 128),  # sage
    (170, 92, 68),  # terracotta
    (44, 78, 62),  # forest
]
TROUSER_COLOURS = [(46, 56, 78), (36, 36, 40), (190, 176, 150), (88, 90, 96), (62, 80, 110)]
NECKLINES = ("crew", "crew", "scoop", "v")
SLEEVES = ("short", "short", "long")


@dataclass(frozen=True)
class Outfit:
    top: np.ndarray
    trousers: np.ndarray
    neckline: str
    sleeves: str
    backdrop_tone: float


def choose_outfit(rng: random.Random) -> Outfit:
    jitter = np.array([rng.uniform(0.94, 1.06) for _ in range(3)], np.float32)
    top = np.clip(np.array(rng.choice(TOP_COLOURS), np.float32) * jitter, 0, 255)
    trousers = np.array(rng.choice(TROUSER_COLOURS), np.float32)
    return Outfit(top, trousers, rng.choice(NECKLINES), rng.choice(SLEEVES), rng.uniform(-1, 1))


@dataclass
class Avatar:
    rgb: np.ndarray  # uint8, height x width x 3
    head: HeadLayer
    figure: Figure  # in work pixels (canvas pixels / WORK_SCALE), like the masks
    masks: BodyMasks  # coverage at work size
    build: Build
    outfit: Outfit


def _paste_mask(target: np.ndarray, part: Part | None) -> None:
    if part is None:
        return
    region = target[part.rows, part.cols]
    np.maximum(region, part.coverage, out=region)


def _neckline(fig: Figure, style: str, xs: np.ndarray) -> np.ndarray:
    """y of the neckline's lower edge at each column (above it, skin shows)."""
    b, u = fig.build, fig.unit
    width, depth = {
        "crew": (b.neck + 0.13, 0.14),
        "scoop": (b.neck + 0.36, 0.55),
        "v": (b.neck + 0.2, 0.85),
    }[style]
    t = np.clip(np.abs(xs - fig.cx) / (width * u), 0.0, 1.0)
    curve = np.sqrt(1.0 - t * t) if style != "v" else (1.0 - t) ** 1.15
    return fig.notch + (-0.32 + (depth + 0.32) * curve) * u


def _arm_rows(fig: Figure, side: int, end_y: float, extra: float):
    """(y0, centre per row, half width per row) for one arm from its cap down to ``end_y``."""
    b, u = fig.build, fig.unit
    joint, elbow, wrist = fig.arm_axis(side)
    r = b.arm * u + extra
    y0 = joint[1] - 0.2 * u  # starts inside the torso's deltoid and fades in
    ys = y0 + np.arange(max(2, int(end_y - y0)), dtype=np.float64)
    centre = np.interp(ys, [joint[1], elbow[1], wrist[1]], [joint[0], elbow[0], wrist[0]])
    keys = [
        (y0, r),
        (joint[1], r),
        (joint[1] + 0.7 * u, r * 0.97),
        (elbow[1] - 0.3 * u, r * 0.84 + extra * 0.2),
        (elbow[1], r * 0.78 + extra * 0.3),
        (elbow[1] + 0.5 * u, r * 0.82 + extra * 0.3),
        (wrist[1], r * 0.55 + extra * 0.5),
        (wrist[1] + u, r * 0.55 + extra * 0.5),
    ]
    return y0, centre, profile(keys, ys)


def _hand_rows(fig: Figure, side: int):
    b, u = fig.build, fig.unit
    _, elbow, wrist = fig.arm_axis(side)
    length = fig.HAND * u * b.length
    y0 = wrist[1] - 0.1 * u
    ys = y0 + np.arange(int(length + 0.1 * u), dtype=np.float64)
    t = (ys - wrist[1]) / length
    lean = (wrist[0] - elbow[0]) / max(wrist[1] - elbow[1], 1.0) * 0.5
    centre = wrist[0] + lean * (ys - wrist[1])
    w = b.arm * u * 0.55  # the wrist, as the arm ends
    keys = [(-0.1, w), (0.0, w), (0.3, 0.2 * u), (0.5, 0.19 * u), (0.8, 0.16 * u), (1.0, 0.14 * u)]
    return y0, centre, profile(keys, t), t


@dataclass
class Parts:
    """The figure's rasterised parts at work size; a list holds one part per side (None: off
    the canvas)."""

    torso: Part | None
    legs: list[Part | None]
    neck: Part | None
    arms: list[Part | None]  # the bare arms, from under the sleeves' hems
    sleeves: list[Part | None]
    hands: list[Part | None]
    thumbs: list[Part | None]


@dataclass
class Coverage:
    """Coverage maps (0..1 at work size) of what the figure wears, for shadows and measurements."""

    neckline_y: np.ndarray  # per column: y of the neckline's lower edge
    hem_y: float  # y of the top's hem
    rows: np.ndarray  # pixel-centre y of each row, as a column vector
    fabric: np.ndarray  # the torso below the neckline: top and trousers
    top: np.ndarray
    trousers: np.ndarray
    arms: np.ndarray  # bare arms and sleeves
    sleeves: np.ndarray
    thumbs: np.ndarray
    skin: np.ndarray
    body: np.ndarray  # everything the figure covers but the head


@dataclass
class Shadows:
    """Contact shadows (0..1 at work size) that darken the parts they fall on."""

    head: np.ndarray  # the jaw and hair on the neck and shoulders
    arms: np.ndarray  # on the torso's sides, below the armpits
    neckline: np.ndarray
    sleeves: np.ndarray  # under the sleeves' hems
    hem: np.ndarray  # under the top's hem
    thumbs: np.ndarray


@dataclass
class Palette:
    """Surface colours before shading, divided by the key light's strength from the front."""

    skin: np.ndarray
    top: np.ndarray
    trousers: np.ndarray


def compose(a: Analysis, width: int, height: int, seed: int, prompt: str) -> Avatar:
    """One avatar as an RGB uint8 array of ``width`` x ``height``."""
    rng = random.Random(seed)
    outfit = choose_outfit(rng)
    build = build_from_prompt(prompt, a.build_hint, rng)
    light = Light(a.light)

    unit, anchor = place_head(a, width)
    head = cut_out(a, unit, anchor, build.neck)
    fig = figure_under_head(a, build, width, unit, anchor)
    shape = (height // WORK_SCALE, width // WORK_SCALE)
    parts = draw_parts(fig, outfit, shape)
    cover = coverage_maps(parts, fig, outfit, shape)
    head_small = head_at_work_size(head, shape)
    shadows = contact_shadows(parts, cover, fig, head_small, light)

    canvas = backdrop_with_cast_shadow(outfit, cover, head_small, fig, light, shape)
    palette = surface_colours(a, head, outfit, light)
    paint_torso(canvas, parts.torso, fig, light, palette, cover, shadows)
    paint_legs(canvas, parts.legs, light, palette)
    paint_neck(canvas, parts.neck, fig, light, palette, cover, shadows)
    paint_arms(canvas, parts, outfit, light, palette, shadows)
    paint_hands(canvas, parts, light, palette, shadows)
    rgb = finish_at_full_size(canvas, head, width, height, seed)

    masks = BodyMasks(cover.top, cover.trousers, cover.arms, cover.skin)
    return Avatar(rgb, head, fig, masks, build, outfit)


def place_head(a: Analysis, width: int) -> tuple[float, tuple[float, float]]:
    """Canvas pixels per face width, and where the face's origin goes (full-size pixels).

    The eyes sit EYE_Y from the top unless the hair would then come within TOP_MARGIN of it.
    """
    lm = a.landmarks
    unit = FACE_WIDTH * width
    anchor_y = EYE_Y * width - float(lm.eye_mid[1]) * unit
    hair_rows = np.flatnonzero(a.person.max(axis=1) > 0.5)
    if hair_rows.size:
        crown_v = a.frame.top + hair_rows[0] / SEGMENT_SIZE * FRAME_SIDE
        crown_y = anchor_y + crown_v * unit
        if crown_y < TOP_MARGIN * width:  # big hair or a hat: move everything down
            anchor_y += TOP_MARGIN * width - crown_y
    return unit, (width / 2, anchor_y)


def figure_under_head(
    a: Analysis, build: Build, width: int, unit: float, anchor: tuple[float, float]
) -> Figure:
    """The figure hanging from the placed head's chin, in work pixels."""
    lm = a.landmarks
    anchor_y = anchor[1]
    chin_y = anchor_y + float(lm.chin[1]) * unit
    k = WORK_SCALE
    return Figure(
        build,
        cx=width / 2 / k,
        unit=unit / k,
        chin=chin_y / k,
        notch=(chin_y + NECK_LENGTH * unit) / k,
        neck_top_x=(width / 2 + neck_top_u(a) * unit) / k,
    )


def _column_centres(shape: tuple[int, int]) -> np.ndarray:
    return np.arange(shape[1], dtype=np.float64) + 0.5


def draw_parts(fig: Figure, outfit: Outfit, shape: tuple[int, int]) -> Parts:
    arms, sleeves, hands, thumbs = draw_arms_and_hands(fig, outfit, shape)
    return Parts(
        draw_torso(fig, shape),
        draw_legs(fig, shape),
        draw_neck(fig, shape),
        arms,
        sleeves,
        hands,
        thumbs,
    )


def draw_torso(fig: Figure, shape: tuple[int, int]) -> Part | None:
    """From the shoulders' top line down past the crotch, deltoids included."""
    wu = fig.unit
    xs = _column_centres(shape)
    torso_y0 = float(fig.shoulder_line(np.array([fig.cx]))[0]) - 1
    ys = torso_y0 + np.arange(int(fig.y(fig.CROTCH) + 0.25 * wu - torso_y0), dtype=np.float64)
    return tube(
        torso_y0, np.full(len(ys), fig.cx), fig.torso_half(ys), shape, top=fig.shoulder_line(xs)
    )


def draw_legs(fig: Figure, shape: tuple[int, int]) -> list[Part | None]:
    """Two legs from just above the crotch to below the canvas's bottom (none if it ends
    above them)."""
    build, wu = fig.build, fig.unit
    bottom = shape[0] + 2.0
    legs = []
    leg_y0 = fig.y(fig.CROTCH) - 0.7 * wu
    if leg_y0 < bottom:
        lys = leg_y0 + np.arange(int(bottom - leg_y0) + 2, dtype=np.float64)
        for side in (-1, 1):
            half = profile(
                [(leg_y0, 0.5 * build.hip * wu), (leg_y0 + 3.5 * wu, 0.41 * build.hip * wu)], lys
            )
            centre = fig.cx + side * (0.5 * build.hip * wu + 0.012 * wu) + 0 * lys
            # Faded in from the hips: the legs take over the torso's shading gradually, with no
            # seam across the trousers where one cylinder becomes two.
            legs.append(_faded(tube(leg_y0, centre, half, shape), 0.9 * wu))
    return legs


def draw_neck(fig: Figure, shape: tuple[int, int]) -> Part | None:
    """From under the jaw to just below the notch, widening into the shoulders."""
    wu = fig.unit
    neck_y0 = fig.chin - 0.5 * wu
    nys = neck_y0 + np.arange(int(fig.notch + 0.32 * wu - neck_y0), dtype=np.float64)
    n = fig.build.neck
    neck_half = profile(
        [
            (neck_y0, n * wu),
            (fig.chin + 0.3 * wu, (n + 0.02) * wu),
            (fig.notch - 0.05 * wu, (n + 0.12) * wu),
            (fig.notch + 0.32 * wu, (n + 0.34) * wu),
        ],
        nys,
    )
    neck_centre = np.interp(nys, [fig.chin, fig.notch], [fig.neck_top_x, fig.cx])
    return tube(neck_y0, neck_centre, neck_half, shape)


def draw_arms_and_hands(fig: Figure, outfit: Outfit, shape: tuple[int, int]):
    """Bare arms, sleeves, hands and thumbs, each a list with one part per side."""
    wu = fig.unit
    arms, sleeves, hands, thumbs = [], [], [], []
    for side in (-1, 1):
        joint, elbow, wrist = fig.arm_axis(side)
        end = joint[1] + 0.95 * wu if outfit.sleeves == "short" else wrist[1] - 0.03 * wu
        # The bare arm starts under the sleeve's hem: skin never shows through the sleeve.
        y0, c, h = _arm_rows(fig, side, wrist[1] + 0.05 * wu, 0.0)
        start = int(max(0, end - 0.15 * wu - y0))
        arms.append(tube(y0 + start, c[start:], h[start:], shape))
        y0, c, h = _arm_rows(fig, side, end, 0.025 * wu)
        sleeves.append(_faded(tube(y0, c, h, shape), 0.7 * wu))
        y0, c, h, t = _hand_rows(fig, side)
        hands.append(tube(y0, c, h, shape, cap_bottom=True))
        tys = y0 + np.arange(len(t))
        inner = c - side * 0.12 * wu
        sel = (t > 0.18) & (t < 0.62)
        if sel.any():
            th = profile([(0.18, 0.05 * wu), (0.3, 0.07 * wu), (0.62, 0.05 * wu)], t[sel])
            thumbs.append(tube(tys[sel][0], inner[sel], th, shape, cap_top=True, cap_bottom=True))
    return arms, sleeves, hands, thumbs


def _coverage(shape: tuple[int, int], *parts: Part | None) -> np.ndarray:
    m = np.zeros(shape, np.float32)
    for p in parts:
        _paste_mask(m, p)
    return m


def coverage_maps(parts: Parts, fig: Figure, outfit: Outfit, shape: tuple[int, int]) -> Coverage:
    """Where skin, the top and the trousers show: the neckline and the top's hem cut the torso."""
    wu = fig.unit
    neckline_y = _neckline(fig, outfit.neckline, _column_centres(shape)).astype(np.float32)
    hem_y = fig.y(fig.BELT) + 0.12 * wu
    rows = (np.arange(shape[0], dtype=np.float32) + 0.5)[:, None]
    below_neckline = np.clip(rows - neckline_y[None, :] + 0.5, 0, 1)
    below_hem = np.clip(rows - hem_y + 0.5, 0, 1)
    torso = _coverage(shape, parts.torso)
    neck = _coverage(shape, parts.neck)
    fabric = torso * below_neckline
    trousers = np.maximum(torso * below_hem, _coverage(shape, *parts.legs))
    top = np.clip(fabric - torso * below_hem, 0, 1)
    arms = _coverage(shape, *parts.arms, *parts.sleeves)
    sleeves = _coverage(shape, *parts.sleeves)
    hands = _coverage(shape, *parts.hands, *parts.thumbs)
    bare_arms = np.clip(_coverage(shape, *parts.arms) - sleeves, 0, 1)
    # Pairwise: np.maximum.reduce over a list first copies it all into one stacked array.
    skin = np.maximum(np.maximum(np.maximum(torso * (1 - below_neckline), neck), bare_arms), hands)
    body = np.maximum(np.maximum(np.maximum(np.maximum(torso, trousers), arms), hands), neck)
    thumbs = _coverage(shape, *parts.thumbs)
    return Coverage(
        neckline_y, hem_y, rows, fabric, top, trousers, arms, sleeves, thumbs, skin, body
    )


def head_at_work_size(head: HeadLayer, shape: tuple[int, int]) -> np.ndarray:
    """The head's alpha on the work canvas: what casts shadows on the neck and the backdrop."""
    k = WORK_SCALE
    head_small = np.zeros(shape, np.float32)
    hx, hy = head.placement.origin
    hsmall = cv2.resize(
        head.alpha,
        (max(1, head.alpha.shape[1] // k), max(1, head.alpha.shape[0] // k)),
        interpolation=cv2.INTER_AREA,
    )
    _paste_array(head_small, hsmall, hx // k, hy // k)
    return head_small


def _shift(fig: Figure, du: float, dv: float) -> tuple[int, int]:
    """An offset given in face widths, in whole work pixels."""
    return round(du * fig.unit), round(dv * fig.unit)


def contact_shadows(
    parts: Parts, cover: Coverage, fig: Figure, head_small: np.ndarray, light: Light
) -> Shadows:
    wu = fig.unit
    shape = head_small.shape
    head = shading.contact_shadow(head_small, _shift(fig, -0.05 * light.side, 0.1), 0.06 * wu)
    arms = shading.contact_shadow(
        _coverage(shape, parts.arms[0], parts.sleeves[0]), _shift(fig, 0.07, 0.02), 0.07 * wu
    ) + shading.contact_shadow(
        _coverage(shape, parts.arms[1], parts.sleeves[1]), _shift(fig, -0.07, 0.02), 0.07 * wu
    )
    # Arms shade the torso's sides only below the armpits (above, they grow out of it).
    armpit = fig.y(fig.ARMPIT)
    below_armpit = smoothstep(armpit - 0.3 * wu, armpit + 0.3 * wu, cover.rows)
    return Shadows(
        head=head,
        arms=arms * below_armpit,
        neckline=shading.contact_shadow(cover.fabric, _shift(fig, 0, -0.02), 0.025 * wu),
        sleeves=shading.contact_shadow(cover.sleeves, _shift(fig, 0, 0.02), 0.03 * wu),
        hem=shading.contact_shadow(cover.top, _shift(fig, 0, 0.025), 0.035 * wu),
        thumbs=shading.contact_shadow(cover.thumbs, _shift(fig, 0, 0.01), 0.02 * wu),
    )


def backdrop_with_cast_shadow(
    outfit: Outfit,
    cover: Coverage,
    head_small: np.ndarray,
    fig: Figure,
    light: Light,
    shape: tuple[int, int],
) -> np.ndarray:
    """The studio backdrop at work size, with the soft shadow the figure casts on it."""
    wh, ww = shape
    cast = shading.contact_shadow(
        np.maximum(cover.body, head_small), _shift(fig, -0.14 * light.side, 0.06), 0.3 * fig.unit
    )
    return shading.backdrop(ww, wh, outfit.backdrop_tone, 0.11 * cast)


def surface_colours(a: Analysis, head: HeadLayer, outfit: Outfit, light: Light) -> Palette:
    front = light.front()
    return Palette(
        skin=body_skin(a.skin, head.jaw_skin) / front,
        top=outfit.top / front,
        trousers=outfit.trousers / front,
    )


def _pixel_centres(part: Part) -> tuple[np.ndarray, np.ndarray]:
    """y of each of the part's rows (a column) and x of each of its columns (a row)."""
    r, c = part.rows, part.cols
    yy = (np.arange(r.start, r.stop, dtype=np.float32) + 0.5)[:, None]
    xx = (np.arange(c.start, c.stop, dtype=np.float32) + 0.5)[None, :]
    return yy, xx


def torso_relief(torso: Part, fig: Figure, shape: tuple[int, int]):
    """The torso's surface for shading: its cylinder coordinate ``u`` and the tilt of each pixel
    (up over the shoulders), bent by the bust, the belly and the deltoids."""
    build, wu = fig.build, fig.unit
    yy, xx = _pixel_centres(torso)
    top_line = fig.shoulder_line(_column_centres(shape))[torso.cols][None, :].astype(np.float32)
    tilt = -0.9 * np.exp(-np.maximum(yy - top_line, 0) / (0.3 * wu))
    uu = torso.u.copy()
    for bx in (-1, 1):  # bust
        cx_b, cy_b = fig.cx + bx * 0.47 * build.chest * wu, fig.y(fig.BUST)
        rb = (0.36 + 0.12 * build.bust) * wu
        wgt = np.exp(-(((xx - cx_b) / rb) ** 2 + ((yy - cy_b) / rb) ** 2)) * build.bust
        tilt = tilt + 0.75 * wgt * (yy - cy_b) / rb
        uu = uu + 0.35 * wgt * (xx - cx_b) / rb
    if build.belly > 0:
        cy_b, ry = fig.y(2.95), 1.05 * wu
        rx = (build.waist + 0.2) * wu
        wgt = np.exp(-(((xx - fig.cx) / rx) ** 2 + ((yy - cy_b) / ry) ** 2)) * build.belly
        tilt = tilt + 0.8 * wgt * (yy - cy_b) / ry
        uu = uu + 0.3 * wgt * (xx - fig.cx) / rx
    # Over the deltoids the torso turns into the arm: shade it as the arm's cylinder there,
    # so the sleeve continues it without a band.
    for side in (-1, 1):
        joint, _, _ = fig.arm_axis(side)
        # The deltoid's inner side runs on into the chest, level with it: only its outer side
        # turns away from the light (else a dark crease would run down from the neck).
        arm_u = side * np.maximum(side * (xx - joint[0]) / (build.arm * wu), -0.3)
        zone = smoothstep(
            (build.shoulder - 1.7 * build.arm) * wu,
            (build.shoulder - 0.9 * build.arm) * wu,
            side * (xx - fig.cx),
        )
        zone = zone * (1.0 - smoothstep(joint[1], fig.y(fig.ARMPIT), yy))
        uu = uu * (1.0 - zone) + np.clip(arm_u, -1, 1) * zone
    return np.clip(uu, -1, 1), tilt


def paint_torso(
    canvas: np.ndarray,
    torso: Part | None,
    fig: Figure,
    light: Light,
    palette: Palette,
    cover: Coverage,
    shadows: Shadows,
) -> None:
    """Skin above the neckline, the top, the trousers below the hem, under one shading."""
    if torso is None:
        return
    wu, hem_y = fig.unit, cover.hem_y
    r, c = torso.rows, torso.cols
    yy, xx = _pixel_centres(torso)
    uu, tilt = torso_relief(torso, fig, canvas.shape[:2])
    sh = shading.shade(uu, light, tilt=tilt, flat=0.35)
    sh *= 1.0 - 0.42 * np.clip(shadows.arms[r, c], 0, 1)
    sh *= 1.0 - 0.5 * shadows.head[r, c]
    cov = torso.coverage
    f_top = cover.top[r, c]
    f_tr = cover.trousers[r, c]
    f_skin = np.clip(cov - f_top - f_tr, 0, 1)
    rib = smoothstep(0.0, 0.06 * wu, yy - cover.neckline_y[c][None, :])
    rib = 0.93 + 0.07 * rib
    hem = 1.0 - 0.06 * smoothstep(hem_y - 0.05 * wu, hem_y, yy)
    fly = 1.0 - 0.1 * np.exp(-(((xx - fig.cx) / 0.6) ** 2)) * (yy > hem_y + 0.1 * wu) * (
        yy < fig.y(fig.CROTCH) - 0.3 * wu
    )
    lit = np.maximum(sh, 1e-3)
    skin_w = f_skin * (1.0 - 0.28 * shadows.neckline[r, c])
    top_w = f_top * rib * hem
    trousers_w = f_tr * fly * (1.0 - 0.3 * shadows.hem[r, c])
    total = np.maximum(cov, 1e-4)
    # Channel by channel (numpy broadcasts over a last axis of three slowly), then shaded.
    skin = skin_shade_channels(palette.skin, sh)
    colour = cv2.merge(
        [
            (skin[k] / lit * skin_w + palette.top[k] * top_w + palette.trousers[k] * trousers_w)
            / total
            * sh
            for k in range(3)
        ]
    )
    _over(canvas, torso, colour)


def paint_legs(canvas: np.ndarray, legs: list[Part | None], light: Light, palette: Palette) -> None:
    for leg in legs:
        if leg is None:
            continue
        sh = shading.shade(leg.u, light, flat=0.15)
        _over(canvas, leg, palette.trousers * sh[..., None])


def paint_neck(
    canvas: np.ndarray,
    neck: Part | None,
    fig: Figure,
    light: Light,
    palette: Palette,
    cover: Coverage,
    shadows: Shadows,
) -> None:
    """Skin, darker under the jaw, fading out under the top's neckline."""
    if neck is None:
        return
    wu = fig.unit
    r, c = neck.rows, neck.cols
    yy, _ = _pixel_centres(neck)
    sh = shading.shade(neck.u, light)
    sh *= 1.0 - 0.3 * shadows.head[r, c]
    sh *= 0.9 + 0.1 * smoothstep(fig.chin, fig.notch, yy)  # under the jaw, less light
    sh *= 1.0 - 0.2 * shadows.neckline[r, c]
    fade = 1.0 - smoothstep(fig.notch - 0.1 * wu, fig.notch + 0.3 * wu, yy)
    _over(canvas, neck, skin_shade(palette.skin, sh), fade * (1.0 - cover.fabric[r, c]))


def paint_arms(
    canvas: np.ndarray,
    parts: Parts,
    outfit: Outfit,
    light: Light,
    palette: Palette,
    shadows: Shadows,
) -> None:
    """Bare forearms under short sleeves (long ones cover them), then the sleeves."""
    for arm, sleeve in zip(parts.arms, parts.sleeves, strict=True):
        if arm is not None and outfit.sleeves == "short":
            r, c = arm.rows, arm.cols
            sh = shading.shade(arm.u, light, gloss=0.05)
            sh *= 1.0 - 0.35 * shadows.sleeves[r, c]
            sh *= 1.0 - 0.4 * shadows.head[r, c]
            _over(canvas, arm, skin_shade(palette.skin, sh))
        if sleeve is not None:
            r, c = sleeve.rows, sleeve.cols
            sh = shading.shade(sleeve.u, light)
            sh *= 1.0 - 0.4 * shadows.head[r, c]
            _over(canvas, sleeve, palette.top * sh[..., None])


def paint_hands(
    canvas: np.ndarray, parts: Parts, light: Light, palette: Palette, shadows: Shadows
) -> None:
    """Hands with a hint of fingers at their ends, then the thumbs over them."""
    for hand in parts.hands:
        if hand is None:
            continue
        r, c = hand.rows, hand.cols
        sh = shading.shade(hand.u, light, gloss=0.04)
        fingers = sum(np.exp(-(((hand.u - off) / 0.07) ** 2)) for off in (-0.34, 0.0, 0.34))
        sh *= 1.0 - 0.12 * fingers * smoothstep(0.55, 0.7, hand.v)
        sh *= 1.0 - 0.3 * shadows.thumbs[r, c]
        sh *= 1.0 - 0.3 * shadows.sleeves[r, c]
        _over(canvas, hand, skin_shade(palette.skin, sh))
    for thumb in parts.thumbs:
        if thumb is None:
            continue
        sh = shading.shade(thumb.u, light, gloss=0.04)
        _over(canvas, thumb, skin_shade(palette.skin, sh))


def finish_at_full_size(
    canvas: np.ndarray, head: HeadLayer, width: int, height: int, seed: int
) -> np.ndarray:
    """Scale the work canvas up, add grain everywhere but on the head, paste the head last.

    Every pass here touches three million values, so the canvas is rounded to bytes at work
    size and scaled up as bytes (OpenCV's fastest path; the grain dithers any step that leaves),
    the grain added with a saturating add (fine grain a tile at a time, with no full-size
    noise made), and only the head's box is worked in floats.
    """
    small = cv2.convertScaleAbs(canvas)  # values are never negative: this rounds and saturates
    out = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    coarse = max(1.0, head.placement.scale)
    if coarse <= shading.FINE_GRAIN:
        tile = shading.grain_tile((height, width), head.grain, seed)
        _add_tiled(out, _rounded_rgb(tile))

        def noise_at(rows: slice, cols: slice) -> np.ndarray:
            th, tw = tile.shape
            return tile[
                np.ix_(np.arange(rows.start, rows.stop) % th, np.arange(cols.start, cols.stop) % tw)
            ]

    else:
        noise = shading.grain((height, width), head.grain, seed, coarse)
        out = cv2.add(out, _rounded_rgb(noise), dtype=cv2.CV_8U)

        def noise_at(rows: slice, cols: slice) -> np.ndarray:
            return noise[rows, cols]

    hx, hy = head.placement.origin
    # Where the head's alpha is 0 nothing of it is pasted (the box of the rest is enough).
    inside = bounding_box(head.alpha > 0.0)
    if inside is None:
        return out
    rows, cols = inside
    region, alpha = _region(out, head.alpha[inside], hx + cols.start, hy + rows.start)
    if region is not None:
        (y0, y1), (x0, x1) = region
        src = head.rgb[y0 - hy : y1 - hy, x0 - hx : x1 - hx]
        # Under the head the grain is not wanted: the body's pixel without it, then the head.
        # (Alpha and grain as three channels: numpy broadcasts over a last axis of 3 slowly.)
        alpha3 = cv2.cvtColor(alpha, cv2.COLOR_GRAY2RGB)
        lifted = cv2.cvtColor(noise_at(slice(y0, y1), slice(x0, x1)) * alpha, cv2.COLOR_GRAY2RGB)
        dst = out[y0:y1, x0:x1].astype(np.float32) - lifted
        dst += (src - dst) * alpha3
        out[y0:y1, x0:x1] = cv2.convertScaleAbs(dst)
    return out


def _rounded_rgb(noise: np.ndarray) -> np.ndarray:
    """Grain rounded to whole levels, the same on the three channels."""
    grain = np.rint(noise).astype(np.int16)
    return cv2.merge([grain, grain, grain])


def _add_tiled(out: np.ndarray, tile: np.ndarray) -> None:
    """``tile`` repeated from (0, 0) added to ``out`` in place, saturating."""
    th, tw = tile.shape[:2]
    h, w = out.shape[:2]
    for y in range(0, h, th):
        for x in range(0, w, tw):
            block = out[y : y + th, x : x + tw]
            bh, bw = block.shape[:2]
            block[:] = cv2.add(block, tile[:bh, :bw], dtype=cv2.CV_8U)


def body_skin(cheeks: np.ndarray, jaw: np.ndarray | None) -> np.ndarray:
    """The body's skin colour: the lower face's lit skin (else the cheeks'), a little less red.

    The neck joins the jaw, so it continues the skin just above the jaw line; the cheeks carry
    blush and make-up. A neck, a chest and arms are a touch paler and less saturated, and a
    drawn surface with no pores shows colour more strongly than skin does.
    """
    luma = np.array([0.299, 0.587, 0.114], np.float32)
    tone = (cheeks if jaw is None else jaw).astype(np.float32)
    grey = float(tone @ luma)
    tone = grey + (tone - grey) * 0.92
    return np.clip(tone * 0.98, 0, 255)


SKIN_LEVELS = 1024  # steps of the shading factor's table from 0 to SKIN_TOP
SKIN_TOP = 1.6


def skin_shade(skin: np.ndarray, sh: np.ndarray) -> np.ndarray:
    """Skin colour under a shading factor: shadows on skin turn warmer, not greyer (light that
    enters skin comes back out reddened), so blue falls off faster than red.

    Three powers per pixel cost more than the rest of a part's painting: looked up instead, in
    a table of SKIN_LEVELS steps (a 600th of the light apart, far below one colour level).
    """
    return _skin_table(skin)[_skin_index(sh)]


def skin_shade_channels(skin: np.ndarray, sh: np.ndarray) -> list[np.ndarray]:
    """``skin_shade`` as its three channels, each looked up in its own column of the table
    (faster than three values per pixel)."""
    table, index = _skin_table(skin), _skin_index(sh)
    return [np.ascontiguousarray(table[:, k])[index] for k in range(3)]


def _skin_table(skin: np.ndarray) -> np.ndarray:
    levels = np.linspace(0.0, SKIN_TOP, SKIN_LEVELS, dtype=np.float32)
    table = skin * np.clip(levels, 1e-3, None)[:, None] ** np.array([0.92, 1.05, 1.18], np.float32)
    return table.astype(np.float32)


def _skin_index(sh: np.ndarray) -> np.ndarray:
    return np.clip(sh * ((SKIN_LEVELS - 1) / SKIN_TOP) + 0.5, 0, SKIN_LEVELS - 1).astype(np.intp)


def _faded(part: Part | None, rows: float) -> Part | None:
    """The part fading in over its first ``rows`` (where it grows out of another part)."""
    if part is not None:
        ramp = np.clip((np.arange(part.coverage.shape[0], dtype=np.float32) + 0.5) / rows, 0, 1)
        part.coverage = part.coverage * (ramp * ramp * (3 - 2 * ramp))[:, None]
    return part


def _over(canvas: np.ndarray, part: Part, colour: np.ndarray, weight=None) -> None:
    cov = part.coverage if weight is None else part.coverage * weight
    region = canvas[part.rows, part.cols]
    # The coverage as three channels: numpy broadcasts over a last axis of three slowly.
    cov3 = cv2.cvtColor(cov, cv2.COLOR_GRAY2RGB) if cov.dtype == np.float32 else cov[..., None]
    region += (colour - region) * cov3


def _region(canvas: np.ndarray, alpha: np.ndarray, x0: int, y0: int):
    H, W = canvas.shape[:2]
    h, w = alpha.shape
    cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(W, x0 + w), min(H, y0 + h)
    if cx0 >= cx1 or cy0 >= cy1:
        return None, None
    return ((cy0, cy1), (cx0, cx1)), alpha[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]


def _paste_array(target: np.ndarray, values: np.ndarray, x0: int, y0: int) -> None:
    region, clipped = _region(target, values, x0, y0)
    if region is not None:
        (a, b), (c, d) = region
        target[a:b, c:d] = clipped
