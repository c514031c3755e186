"""Try-ons whose garments follow the body: straight stripes, a fitted waist, no old top left.

The model images are avatars made by this engine, so the old top's colour (from the seed) and
the figure (where the arms, the waist and the hips are) are known exactly; the outputs are
measured there.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from offline_engine.avatar.body import Figure
from offline_engine.avatar.renderer import render_avatar
from offline_engine.tryon.fit import BOTTOMS_WAIST
from offline_engine.tryon.legs import bare_legs
from offline_engine.tryon.person import find_person
from offline_engine.tryon.renderer import render_tryon, render_tryon_max
from tests.support import garments

RED, CREAM, BLUE = (200, 40, 50), (240, 232, 210), (40, 70, 190)


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def long_sleeved(face_jpeg):
    """A curvy avatar in a long-sleeved top of a known colour (seed 39: burgundy, crew neck)."""
    avatar = render_avatar(face_jpeg, "2:3", 39, "curvy figure")
    assert avatar.outfit.sleeves == "long"
    return avatar, png(Image.fromarray(avatar.rgb))


def _full(fig, value: float) -> int:
    """A work-size coordinate of the avatar's figure in full-size pixels."""
    return round(2 * value)


def _stripe_edges(out: np.ndarray, fig, x: float) -> np.ndarray:
    """Rows (full size) where a column across the chest turns from red to cream, top to bottom."""
    y0, y1 = _full(fig, fig.y(0.5)), _full(fig, fig.y(fig.WAIST))  # from just under the neckline
    column = out[y0:y1, round(2 * x)].astype(np.float32)
    cream = (column[:, 2] > 140).astype(np.int8)  # cream is blue-rich, red is not
    return y0 + np.flatnonzero(np.diff(cream) == 1)


@pytest.mark.parametrize("render", ["v1.6", "max"])
@pytest.mark.parametrize(("prompt", "seed"), [("curvy figure", 39), ("athletic build", 11)])
def test_stripes_run_straight_across_the_chest(face_jpeg, render, prompt, seed):
    avatar = render_avatar(face_jpeg, "2:3", seed, prompt)
    model = png(Image.fromarray(avatar.rgb))
    garment = png(garments.tshirt(RED, stripes=CREAM))
    if render == "v1.6":
        out, _ = render_tryon(model, garment, "tops", 42)
    else:
        out, _ = render_tryon_max(model, garment, 42, None)
    fig = avatar.figure
    half = 0.6 * fig.build.chest * fig.unit
    columns = [fig.cx + k * half for k in (-1.0, -0.5, 0.0, 0.5, 1.0)]
    edges = [_stripe_edges(out, fig, x) for x in columns]
    count = len(edges[2])
    assert count >= 3  # several stripes cross the chest
    assert all(len(e) == count for e in edges)  # the same stripes in every column
    stacked = np.stack(edges)
    assert (np.diff(stacked, axis=1) > 0).all()  # in order down every column: monotone
    # Each stripe lies level across the chest: no bulge at the middle, no lift at the sides.
    assert np.ptp(stacked, axis=0).max() <= 0.02 * 2 * fig.unit


def test_the_garment_follows_the_waist_and_the_hips(face_jpeg):
    """On a curvy avatar a top narrows at the waist and widens again at the hips, as she does."""
    avatar = render_avatar(face_jpeg, "2:3", 11, "curvy figure")
    out, _ = render_tryon(png(Image.fromarray(avatar.rgb)), png(garments.tshirt(BLUE)), "tops", 42)
    fig = avatar.figure

    def blue_width(level: float) -> int:
        row = out[_full(fig, fig.y(level))].astype(np.float32)
        blue = (row[:, 2] > row[:, 0] + 60) & (row[:, 2] > 90)
        middle = round(2 * fig.cx)
        outside = np.flatnonzero(~blue)
        return int(outside[outside > middle][0] - outside[outside < middle][-1] - 1)

    under_arms, waist = blue_width(fig.ARMPIT + 0.4), blue_width(fig.WAIST)
    hips = blue_width(fig.BELT + 0.3)
    assert waist < under_arms * 0.95  # taken in at the waist: not a boxy rectangle
    assert hips > waist * 1.05  # and out over the hips
    # Close to the body: the top's waist is the body's waist with a little ease.
    body_waist = 2 * 2 * fig.torso_half(np.array([fig.y(fig.WAIST)]))[0]
    assert body_waist * 0.98 < waist < body_waist * 1.25


@pytest.mark.parametrize("drawing", [garments.tshirt, garments.dress], ids=["tee", "dress"])
def test_nothing_of_the_old_top_is_left_on_the_arms_or_the_torso(long_sleeved, drawing):
    avatar, model = long_sleeved
    old = np.array(avatar.outfit.top, np.float32)
    out, _ = render_tryon(model, png(drawing(BLUE)), "auto", 42)
    m = avatar.masks
    # Where the old top was: its torso and its sleeves (coverage at work size, scaled up).
    wore = np.maximum(m.top, m.arms)
    wore = np.asarray(Image.fromarray((wore * 255).astype(np.uint8)).resize(out.shape[1::-1]))
    region = wore > 128
    pixels = out[region].astype(np.float32)
    # Scaled to each pixel's brightness, as a sleeve in shadow is still the sleeve's colour.
    scale = (pixels @ old) / max(float(old @ old), 1.0)
    near_old = np.abs(pixels - old * scale[:, None]).max(axis=1) < 18
    near_old &= (scale > 0.5) & (scale < 1.4)
    assert region.sum() > 50_000
    assert near_old.sum() < 0.002 * region.sum(), near_old.sum()
    # ... and the model image did have it there (the check can fail).
    before = np.asarray(avatar.rgb)[region].astype(np.float32)
    scale = (before @ old) / max(float(old @ old), 1.0)
    was_old = (np.abs(before - old * scale[:, None]).max(axis=1) < 18) & (scale > 0.5)
    assert was_old.mean() > 0.5


def test_a_light_top_on_a_light_backdrop_leaves_the_backdrop_alone(face_jpeg):
    """An off-white top has the backdrop's colour: clearing it must not paint the backdrop."""
    avatar = render_avatar(face_jpeg, "2:3", 28, "curvy figure")  # a long-sleeved light top
    assert avatar.outfit.top.min() > 200
    out, _ = render_tryon(png(Image.fromarray(avatar.rgb)), png(garments.dress(BLUE)), "auto", 42)
    fig = avatar.figure
    # Beside the neck, above the shoulders: backdrop before, backdrop after.
    y0, y1 = _full(fig, fig.notch - 0.6 * fig.unit), _full(fig, fig.notch - 0.2 * fig.unit)
    for side in (-1, 1):
        x = _full(fig, fig.cx + side * (fig.build.neck + 0.5) * fig.unit)
        before = avatar.rgb[y0:y1, x - 10 : x + 10].astype(int)
        after = out[y0:y1, x - 10 : x + 10].astype(int)
        assert np.abs(after - before).max() <= 2


def shorts(colour) -> Image.Image:
    """Flared shorts: a waistband, then wider down to the hems, two legs from mid-height."""
    image = Image.new("RGB", (500, 420), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    shape = [(120, 30), (380, 30), (430, 380), (265, 380), (250, 190), (235, 380), (70, 380)]
    draw.polygon(shape, fill=colour)
    draw.rectangle((120, 30, 380, 65), fill=tuple(int(0.8 * c) for c in colour))
    return image


def _near(pixels: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Pixels of ``colour`` at any shading of it (scaled to their brightness), as a mask."""
    scale = (pixels @ colour) / max(float(colour @ colour), 1.0)
    close = np.abs(pixels - colour * scale[..., None]).max(axis=-1) < 18
    return close & (scale > 0.3) & (scale < 1.4)


def _worn(avatar, mask: np.ndarray, shape) -> np.ndarray:
    """A work-size coverage mask of the avatar at the output's size, as booleans."""
    return np.asarray(Image.fromarray((mask * 255).astype(np.uint8)).resize(shape[1::-1])) > 128


@pytest.mark.parametrize("render", ["v1.6", "max"])
@pytest.mark.parametrize("drawing", [garments.skirt, shorts], ids=["skirt", "shorts"])
def test_bottoms_leave_none_of_the_old_trousers_at_the_hips(face_jpeg, drawing, render):
    """A curvy avatar in wide black trousers (her light sleeves merge with the backdrop and her
    hips in the silhouette) dressed in a flared skirt or shorts, narrow at the waistband: none
    of the black shows beside the new garment, at the belt line or over the hips."""
    avatar = render_avatar(face_jpeg, "2:3", 28, "curvy figure")
    model = png(Image.fromarray(avatar.rgb))
    garment = png(drawing(RED))
    if render == "v1.6":
        out, _ = render_tryon(model, garment, "bottoms", 42)
    else:
        out, _ = render_tryon_max(model, garment, 42, None)
    fig = avatar.figure
    band = slice(_full(fig, fig.y(fig.BELT + 0.3)), _full(fig, fig.y(fig.HIP + 0.3)))
    wore = _worn(avatar, avatar.masks.trousers, out.shape)[band]
    # The old trousers' colour as the model image shows it there (its median), and the model
    # image had it all over the band: the check can fail.
    before = avatar.rgb[band].astype(np.float32)
    old = np.median(before[wore], axis=0)
    assert _near(before, old)[wore].mean() > 0.9
    left = _near(out[band].astype(np.float32), old)
    assert left.sum() == 0, left.sum()


def test_old_bottoms_outside_a_narrow_garment_become_backdrop_and_bare_legs(face_jpeg):
    """The clearing itself, under a garment narrower than the old trousers (a band over the
    middle of the hips, down to the frame): beside it the backdrop, on the legs skin."""
    avatar = render_avatar(face_jpeg, "2:3", 11, "athletic build")  # grey trousers
    person = find_person(png(Image.fromarray(avatar.rgb)))
    fig = person.figure  # full size: the model image is its own working image
    top = int(fig.y(BOTTOMS_WAIST))
    half = int(0.3 * fig.build.hip * fig.unit)
    x0 = int(fig.cx) - half
    alpha = np.ones((person.rgb.shape[0] - top, 2 * half), np.float32)
    out = person.rgb.copy()
    bare_legs(person, out, (x0, top, alpha), top, 0.0, 1)
    band = slice(int(fig.y(Figure.BELT + 0.3)), person.rgb.shape[0])
    wore = _worn(avatar, avatar.masks.trousers, out.shape)[band]
    outside = np.ones(out.shape[1], bool)
    outside[x0 - 4 : x0 + 2 * half + 4] = False  # the garment and its soft edge
    wore &= outside[None, :]
    before = avatar.rgb[band].astype(np.float32)
    old = np.median(before[wore], axis=0)
    assert wore.sum() > 20_000 and _near(before, old)[wore].mean() > 0.9
    after = out[band].astype(np.float32)
    assert _near(after, old)[wore].sum() == 0
    # Where the old trousers were: skin (red over green over blue) or the light backdrop.
    hue = after / np.maximum(after.sum(axis=-1, keepdims=True), 1.0)
    warm = (hue[..., 0] > hue[..., 1] + 0.01) & (hue[..., 1] > hue[..., 2] + 0.01)
    light = after @ np.array([0.299, 0.587, 0.114], np.float32) > 150
    assert (warm | light)[wore].mean() > 0.99
    assert warm[wore].mean() > 0.3 and light[wore].mean() > 0.1  # both: legs and beside them


def test_the_legs_below_shorts_are_bare(face_jpeg):
    """Below the shorts' hems, where the old trousers went on down the legs, is skin."""
    avatar = render_avatar(face_jpeg, "9:16", 9, "petite")  # navy trousers, a long frame
    out, _ = render_tryon(png(Image.fromarray(avatar.rgb)), png(shorts(RED)), "bottoms", 42)
    red = _near(out.astype(np.float32), np.array(RED, np.float32))
    fig = avatar.figure
    leg = _full(fig, fig.cx - 0.5 * fig.build.hip * fig.unit)  # the middle of a leg
    hem = np.flatnonzero(red[:, leg - 5 : leg + 5].all(axis=1))[-1]
    below = slice(hem + 10, out.shape[0])
    wore = _worn(avatar, avatar.masks.trousers, out.shape)[below]
    assert wore.sum() > 20_000  # the trousers went on down the legs
    old = np.array(avatar.outfit.trousers, np.float32)
    assert _near(avatar.rgb[below].astype(np.float32), old)[wore].mean() > 0.9
    after = out[below].astype(np.float32)
    assert _near(after, old)[wore].sum() == 0
    # Skin's hue (red over green over blue) at some shading, on nearly all of it.
    hue = after / np.maximum(after.sum(axis=-1, keepdims=True), 1.0)
    warm = (hue[..., 0] > hue[..., 1]) & (hue[..., 1] > hue[..., 2])
    assert warm[wore].mean() > 0.9


def test_a_flared_skirt_goes_on_as_wide_as_the_hips_under_it(face_jpeg):
    """A skirt's drawing is narrow at the waistband and wide at the hem; worn, it covers the
    body from the belt line down, not a waistband's width with the backdrop beside it."""
    avatar = render_avatar(face_jpeg, "2:3", 11, "athletic build")
    out, _ = render_tryon(png(Image.fromarray(avatar.rgb)), png(garments.skirt(RED)), "bottoms", 42)
    fig = avatar.figure
    for level in (fig.BELT, fig.BELT + 0.3, fig.HIP):
        row = _full(fig, fig.y(level))
        red = np.flatnonzero(_near(out[row].astype(np.float32), np.array(RED, np.float32)))
        body = 2 * fig.torso_half(np.array([fig.y(level)]))[0]  # work size: half of full
        assert red[0] <= _full(fig, fig.cx) - body and red[-1] >= _full(fig, fig.cx) + body
