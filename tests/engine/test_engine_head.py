"""The avatar's head and neck: long hair kept, nothing of the selfie's clothes under the jaw, the
head on its neck, a rounded crown where the photo cut the head off.

No long-haired photo with a free licence ships inside a package installable here, so the
long-hair case is the astronaut with her own crown's hair drawn down beside her face to her
shoulders (real hair texture, a made hairstyle).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from offline_engine.avatar.analysis import analyse
from offline_engine.avatar.compose import WORK_SCALE
from offline_engine.avatar.renderer import render_avatar

from .conftest import jpeg_bytes

LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def long_haired(astronaut: Image.Image) -> Image.Image:
    """The astronaut with two curtains of her own hair (from her crown) falling to the shoulders."""
    rgb = np.asarray(astronaut)
    out = rgb.astype(np.float32)
    hair = rgb[25:75, 175:280].astype(np.float32)  # the top of her hair: nothing but hair
    top, bottom = 80, 330  # from the temples to below the shoulders' line
    for (x0, x1), (bx0, bx1) in (((150, 178), (128, 192)), ((274, 302), (262, 324))):
        width = max(bx1 - bx0, x1 - x0) + 2
        texture = cv2.resize(hair, (width, bottom - top), interpolation=cv2.INTER_CUBIC)
        for i, y in enumerate(range(top, bottom)):
            t = i / (bottom - top)
            left, right = x0 + (bx0 - x0) * t, x1 + (bx1 - x1) * t
            xs = np.arange(int(left), int(np.ceil(right)))
            across = np.clip(((xs - left) / (right - left) * (width - 1)).astype(int), 0, width - 1)
            edge = np.clip(np.minimum(xs - left, right - xs) / 2.0, 0, 1)
            weight = (edge * min(1.0, (bottom - y) / 25.0, (y - top + 1) / 15.0))[:, None]
            out[y, xs] = out[y, xs] * (1 - weight) + texture[i, across] * weight
    return Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))


def canvas_chin_y(avatar) -> float:
    return avatar.figure.chin * WORK_SCALE


def face_unit(avatar) -> float:
    """Canvas pixels per face width."""
    return avatar.figure.unit * WORK_SCALE


def neck_band(avatar) -> np.ndarray:
    """The avatar's pixels down the middle of the neck, from just under the chin to above the
    top's neckline (the neck's centre line leans from under the jaw to the body's middle)."""
    f, k, unit = avatar.figure, WORK_SCALE, face_unit(avatar)
    half = f.build.neck * unit * 0.85
    rows = []
    for y in range(int(f.chin * k + 0.04 * unit), int(f.notch * k - 0.15 * unit)):
        t = (y / k - f.chin) / (f.notch - f.chin)
        centre = (f.neck_top_x + (f.cx - f.neck_top_x) * t) * k
        rows.append(avatar.rgb[y, int(centre - half) : int(centre + half)])
    return np.concatenate(rows).astype(np.float32)


def test_long_hair_falls_past_the_jaw_onto_the_shoulders(astronaut):
    avatar = render_avatar(jpeg_bytes(long_haired(astronaut)), "2:3", seed=3)
    unit, hx, hy = face_unit(avatar), *avatar.head.placement.origin
    chin_y = canvas_chin_y(avatar)
    neck_x = avatar.figure.neck_top_x * WORK_SCALE
    alpha = avatar.head.alpha
    for depth in (0.3, 0.6):  # face widths under the chin: beside the neck, on the shoulders
        row = alpha[round(chin_y + depth * unit) - hy]
        xs = np.arange(len(row)) + hx
        for side in (-1, 1):
            beside = (side * (xs - neck_x) > 0.45 * unit) & (side * (xs - neck_x) < 1.0 * unit)
            assert (row[beside] > 0.5).sum() > 0.15 * unit, (depth, side)
    # What is kept there is the hair: its colour, not the suit's orange or the backdrop's grey.
    y = round(chin_y + 0.45 * unit)
    hair_pixels = avatar.rgb[y, hx : hx + alpha.shape[1]][alpha[y - hy] > 0.95].astype(float)
    r, g, b = np.median(hair_pixels, axis=0)
    assert 60 < r < 200 and b < g < r and r - b > 25  # the astronaut's dark blonde


def test_no_collar_or_suit_under_the_jaw(grace_hopper, astronaut):
    """Grace Hopper's white collar and black tie, the astronaut's suit ring: none of it shows in
    the neck; every pixel down the neck has the face's skin hue at a skin brightness."""
    for selfie in (grace_hopper, jpeg_bytes(astronaut)):
        avatar = render_avatar(selfie, "2:3", seed=3)
        skin = analyse(selfie).skin
        pixels = neck_band(avatar)
        chroma = pixels / np.maximum(pixels.sum(axis=1, keepdims=True), 1.0)
        hue_off = np.abs(chroma - skin / skin.sum()).sum(axis=1)
        level = (pixels @ LUMA) / float(skin @ LUMA)
        not_skin = (hue_off > 0.06) | (level < 0.55) | (level > 1.1)
        assert len(pixels) > 2000
        assert not_skin.mean() < 0.01


def test_the_neck_continues_the_lit_face(grace_hopper):
    """The neck's lit side is as bright as the lower face's lit skin (between the lit cheek and
    the jaw corner in the selfie), within 5 %."""
    avatar = render_avatar(grace_hopper, "2:3", seed=3)
    a = analyse(grace_hopper)
    g = a.geometry
    cheek, jaw = (g.left_cheek, g.left_jaw) if a.light >= 0 else (g.right_cheek, g.right_jaw)
    x, y = np.round((cheek + jaw) / 2).astype(int)
    r = round(0.05 * g.width)
    face = a.rgb[y - r : y + r, x - r : x + r].reshape(-1, 3).astype(np.float32) @ LUMA
    lower_face = float(np.median(face[face >= np.percentile(face, 33)]))
    neck_lit = float(np.percentile(neck_band(avatar) @ LUMA, 90))
    assert abs(neck_lit - lower_face) < 0.05 * lower_face


@pytest.mark.parametrize("turn", [15, -12])
def test_a_tilted_head_sits_on_its_neck(astronaut, grace_hopper, turn):
    """The drawn neck starts under the middle of the jaw, which for a level face is the chin."""
    from io import BytesIO

    photo = astronaut if turn > 0 else Image.open(BytesIO(grace_hopper))
    tilted = photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT).rotate(
        turn, resample=Image.Resampling.BICUBIC, fillcolor=(90, 90, 90)
    )
    selfie = jpeg_bytes(tilted)
    avatar = render_avatar(selfie, "2:3", seed=3)
    lm = analyse(selfie).landmarks
    unit = face_unit(avatar)
    anchor_x = avatar.rgb.shape[1] / 2  # the face's middle is the canvas's middle
    neck_x = avatar.figure.neck_top_x * WORK_SCALE
    jaw_middle_x = anchor_x + (lm.right_jaw[0] + lm.left_jaw[0]) / 2 * unit
    chin_x = anchor_x + lm.chin[0] * unit
    assert abs(neck_x - jaw_middle_x) < 0.06 * unit
    assert abs(neck_x - chin_x) < 0.12 * unit
    # The head's alpha reaches down to the neck: no gap of backdrop between chin and neck.
    hx, hy = avatar.head.placement.origin
    chin_row = round(canvas_chin_y(avatar) - 0.05 * unit) - hy
    assert avatar.head.alpha[chin_row, round(chin_x) - hx] > 0.9


def test_a_head_cut_off_by_the_photo_gets_a_rounded_crown(astronaut):
    """A tight crop through the hair: the crown above the photo's edge narrows like a skull's
    top instead of ending in a flat cut as wide as the head."""
    tight = astronaut.crop((110, 40, 350, 300))
    avatar = render_avatar(jpeg_bytes(tight), "2:3", seed=3)
    unit = face_unit(avatar)
    alpha = avatar.head.alpha
    top = int(np.flatnonzero(alpha.max(axis=1) > 0.5)[0])

    def width(v: float) -> float:
        return float((alpha[round(top + v * unit)] > 0.5).sum()) / unit

    assert width(0.05) < 0.6 * width(0.4)
    assert width(0.15) < 0.8 * width(0.4)
    # The photo's edge row, where the crown begins, is whole: no seam of backdrop across it.
    hx, hy = avatar.head.placement.origin
    x0, y0, _, _ = avatar.head.placement.crop
    edge_row = round((0 - y0) * avatar.head.placement.scale)
    middle = slice(alpha.shape[1] // 2 - round(0.2 * unit), alpha.shape[1] // 2 + round(0.2 * unit))
    assert alpha[edge_row - 3 : edge_row + 4, middle].min() > 0.9


def crown_row_means(avatar) -> np.ndarray:
    """Mean brightness of each row of the made crown (above the photo's top edge), across the
    middle of the head, from just under the crown's top to where the colour at the photo's edge
    has turned into the made hair's (0.25 face widths above the edge)."""
    unit, head = face_unit(avatar), avatar.head
    hx, hy = head.placement.origin
    edge = round(-head.placement.crop[1] * head.placement.scale)
    top = int(np.flatnonzero(head.alpha.max(axis=1) > 0.5)[0])
    mid, half = head.alpha.shape[1] // 2, round(0.25 * unit)
    rows = range(top + round(0.1 * unit), edge - round(0.25 * unit))
    assert len(rows) > 0.3 * unit  # the photo cut the head: there is a made crown to look at
    band = avatar.rgb[hy + rows.start : hy + rows.stop, hx + mid - half : hx + mid + half]
    return band.astype(np.float32) @ LUMA @ np.full(2 * half, 1 / (2 * half), np.float32)


@pytest.mark.parametrize("name", ["astronaut 112 px grey", "Hopper 112 px grey"])
def test_a_made_crown_has_no_bands(name):
    """A tight 112 px crop through the forehead: the crown made above the photo's edge is hair
    without stripes. Its row means follow a smooth curve (what is left once it is smoothed over
    a tenth of a face is small); repeating or mirroring the hair at the cut stacked bands that
    left 15 to 25 levels there."""
    from tools.photo_samples import sample

    avatar = render_avatar(sample(name).jpeg(), "2:3", seed=3)
    means = crown_row_means(avatar)
    sigma = 0.1 * face_unit(avatar)
    smooth = cv2.GaussianBlur(means[:, None], (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    assert float(np.std(means - smooth[:, 0])) < 7.0


def test_nothing_floats_beside_the_head():
    """The astronaut cropped close, the photo's side edge near her hair: what the photo does
    not show beside the head used to be filled with her hair and the suit's ring mirrored and
    kept, a blob floating on the backdrop at ear height. Now the head's alpha is one piece and
    reaches no further than a head's width beside the face, from the brows to the chin."""
    from tools.photo_samples import sample

    for seed, prompt in ((11, "athletic build"), (12, "curvy figure")):
        avatar = render_avatar(sample("astronaut close crop").jpeg(), "2:3", seed, prompt)
        unit, head = face_unit(avatar), avatar.head
        solid = (head.alpha > 0.1).astype(np.uint8)
        _, _, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=8)
        areas = stats[1:, cv2.CC_STAT_AREA]
        assert (areas > 0.002 * unit**2).sum() == 1, sorted(areas)
        lm = analyse(sample("astronaut close crop").jpeg()).landmarks
        hx, hy = head.placement.origin
        middle_x = avatar.rgb.shape[1] / 2 - hx  # the face's middle is the canvas's middle
        top = round(canvas_chin_y(avatar) - (lm.chin[1] - lm.eye_mid[1] + 0.4) * unit) - hy
        beside = head.alpha[top : round(canvas_chin_y(avatar)) - hy]
        cols = np.flatnonzero(beside.max(axis=0) > 0.2)
        assert max(abs(cols[0] - middle_x), abs(cols[-1] - middle_x)) < 1.0 * unit


@pytest.mark.parametrize(("seed", "prompt"), [(11, "athletic build"), (12, "curvy figure"),
                                              (13, "plus-size")])  # fmt: skip
def test_a_dark_collar_is_not_taken_for_long_hair(seed, prompt):
    """The astronaut at 45 % brightness: her suit's dark ring is of her hair's colour and, for
    a slender neck, touched the hair by her ear through a thin strand of that colour; it hung
    from the jaw over the shoulder as "long hair". Her hair is short: nothing of the selfie is
    kept under the chin."""
    from tools.photo_samples import sample

    avatar = render_avatar(sample("astronaut dark").jpeg(), "2:3", seed, prompt)
    hy = avatar.head.placement.origin[1]
    below = round(canvas_chin_y(avatar) + 0.1 * face_unit(avatar)) - hy
    assert float(avatar.head.alpha[below:].max()) < 0.2


def neck_width(avatar) -> float:
    """The drawn neck's width in face widths (cheekbone to cheekbone), a little under the chin:
    the run of body skin around the neck's middle, above where the shoulders begin."""
    f = avatar.figure
    row = avatar.masks.skin[round(f.chin + 0.12 * f.unit)] > 0.5
    left = right = round(f.neck_top_x)
    assert row[left]
    while left > 0 and row[left - 1]:
        left -= 1
    while right < len(row) - 1 and row[right + 1]:
        right += 1
    return (right - left + 1) / f.unit


@pytest.mark.parametrize("name", ["astronaut", "Grace Hopper"])
def test_the_neck_is_narrower_than_the_face(name):
    """A real neck is 0.55 to 0.65 of the face's width, up to 0.75 for a broad man; the drawn
    one was as wide as the face, a head stuck on a pole. Builds still vary it."""
    from tools.photo_samples import sample

    selfie = sample(name).jpeg()
    widths = {
        p: neck_width(render_avatar(selfie, "2:3", 3, p)) for p in ("", "slender", "athletic")
    }
    for prompt, width in widths.items():
        assert 0.5 < width < 0.8, (prompt, width)
    assert widths["slender"] < widths[""] < widths["athletic"]


def test_the_head_meets_the_neck_along_the_jaw():
    """Under the jaw the head's alpha follows the jaw's curve, feathered: the lowest opaque row
    climbs from the chin towards the jaw corners, and the chin's edge fades over a few pixels
    (the drawn neck reaches up behind it), not a straight hard cut."""
    from tools.photo_samples import sample

    avatar = render_avatar(sample("Grace Hopper").jpeg(), "2:3", 3, "curvy")
    unit, hx = face_unit(avatar), avatar.head.placement.origin[0]
    alpha = avatar.head.alpha
    centre = round(avatar.figure.neck_top_x * WORK_SCALE) - hx
    xs = np.arange(centre - round(0.3 * unit), centre + round(0.3 * unit))
    lowest = np.array([np.flatnonzero(alpha[:, x] > 0.5).max() for x in xs])
    assert lowest.max() - lowest.min() > 0.08 * unit
    middle = lowest[len(xs) // 2 - 3 : len(xs) // 2 + 3].mean()
    assert lowest[0] < middle - 0.05 * unit and lowest[-1] < middle - 0.05 * unit
    column = alpha[:, centre]
    assert ((column > 0.1) & (column < 0.9)).sum() >= 0.03 * unit


def test_the_made_crown_blends_into_the_real_hair():
    """The close crop cuts through the hair: the made crown overlaps the photo's hair in a band
    inside the photo. Down the head's middle the alpha never dips between the crown's top and
    the chin, and across the photo's edge the rows' brightness has no step (a seam of paler
    or darker hair drew a line there)."""
    from tools.photo_samples import sample

    avatar = render_avatar(sample("astronaut close crop").jpeg(), "2:3", 42, "athletic")
    head, unit = avatar.head, face_unit(avatar)
    hx, hy = head.placement.origin
    middle = round(WORK_SCALE * avatar.figure.cx) - hx
    column = head.alpha[:, middle]
    top = int(np.flatnonzero(column > 0.5)[0])
    chin = round(canvas_chin_y(avatar)) - hy
    assert column[top + 2 : chin - 2].min() > 0.9
    edge = round(-head.placement.crop[1] * head.placement.scale)
    assert top < edge - 0.3 * unit  # the photo's edge lies inside the hair: a crown was made
    half = round(0.4 * unit)
    band = avatar.rgb[hy + edge - 6 : hy + edge + 7, hx + middle - half : hx + middle + half]
    means = band.astype(np.float32) @ LUMA @ np.full(2 * half, 1 / (2 * half), np.float32)
    assert np.abs(np.diff(means)).max() < 3.0


def test_a_photo_cut_below_the_chin_gets_no_made_hair_there():
    """The 112 px crop ends at the sides and under the chin as well as through the hair: the
    made crown's band goes on just below the photo's top edge only; carried further down it
    drew a block of made hair over the neck."""
    from tools.photo_samples import sample

    avatar = render_avatar(sample("astronaut 112 px grey").jpeg(), "2:3", seed=7)
    unit, (hx, hy) = face_unit(avatar), avatar.head.placement.origin
    x = round(avatar.figure.neck_top_x * WORK_SCALE) - hx
    for depth in (0.2, 0.4):
        assert avatar.head.alpha[round(canvas_chin_y(avatar) + depth * unit) - hy, x] < 0.1
