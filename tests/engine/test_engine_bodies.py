"""Bodies that follow the prompt: each build word changes the drawn silhouette the way it says.

Widths are measured on the rendered avatar's own coverage masks (work size, half the canvas) at
the figure's shoulder, waist and hip rows, and on the finished picture where the body meets the
backdrop, so a build that changed only numbers, not what is drawn, fails.
"""

from __future__ import annotations

import numpy as np
import pytest

from offline_engine.avatar.body import LIMITS, build_from_prompt
from offline_engine.avatar.renderer import render_avatar

PROMPTS = {
    "plain": "",
    "athletic": "athletic build",
    "curvy": "curvy figure",
    "slender": "slender frame",
    "plus": "plus-size woman",
    "petite": "petite",
    "broad": "broad shoulders",
}


def _run(mask: np.ndarray, y: float, x: float) -> int:
    """Width of the covered run through (x, y) in one row of a mask."""
    row = mask[round(y)] > 0.5
    c = int(x)
    if not row[c]:
        return 0
    outside = np.flatnonzero(~row)
    left, right = outside[outside < c], outside[outside > c]
    return int(right[0] - left[-1] - 1)


@pytest.fixture(scope="module")
def measures(face_jpeg) -> dict[str, dict[str, float]]:
    out = {}
    for name, prompt in PROMPTS.items():
        avatar = render_avatar(face_jpeg, "2:3", seed=7, prompt=prompt)
        f, m = avatar.figure, avatar.masks
        body = np.maximum.reduce([m.top, m.arms, m.skin, m.trousers])
        torso = np.maximum(m.top, m.trousers)
        _, elbow, _ = f.arm_axis(1)
        out[name] = {
            "shoulders": _run(body, f.y(f.SHOULDER_JOINT), f.cx),
            "waist": _run(torso, f.y(f.WAIST), f.cx),
            "hips": _run(torso, f.y(f.HIP), f.cx),
            "arm": _run(m.arms, elbow[1] - 0.4 * f.unit, elbow[0]),
            "torso_length": f.y(f.HIP) - f.notch,
            "neck": avatar.build.neck,
            # In the finished picture: how far the body reaches across the waist row (full size).
            "picture_waist": _picture_width(avatar.rgb, 2 * f.y(f.WAIST), 2 * f.cx),
        }
    return out


def _picture_width(rgb: np.ndarray, y: float, x: float) -> int:
    """Pixels from the middle outwards, on each side, before the backdrop's colour returns,
    arms included: the silhouette a viewer sees at that row."""
    row = rgb[round(y)].astype(np.float32)
    backdrop = np.median(np.concatenate([row[:20], row[-20:]]), axis=0)
    differs = np.abs(row - backdrop).max(axis=1) > 18
    cols = np.flatnonzero(differs)
    return int(cols.max() - cols.min()) if cols.size else 0


def test_plus_size_is_clearly_wider_than_slender(measures):
    plus, slender = measures["plus"], measures["slender"]
    assert plus["waist"] > slender["waist"] * 1.6
    assert plus["hips"] > slender["hips"] * 1.4
    assert plus["shoulders"] > slender["shoulders"] * 1.2
    assert plus["arm"] > slender["arm"] * 1.5  # thicker arms, not only a wider trunk
    assert plus["neck"] > slender["neck"] * 1.3
    assert plus["picture_waist"] > slender["picture_waist"] * 1.25


def test_slender_is_narrower_than_the_plain_build(measures):
    plain, slender = measures["plain"], measures["slender"]
    for key in ("shoulders", "waist", "hips", "arm"):
        assert slender[key] < plain[key] * 0.92, key


def test_broad_shoulders_widen_the_shoulders_most(measures):
    plain, broad = measures["plain"], measures["broad"]
    assert broad["shoulders"] > plain["shoulders"] * 1.15
    # ... and not the waist or the hips to the same degree.
    assert broad["waist"] < plain["waist"] * 1.05
    assert broad["hips"] < plain["hips"] * 1.05


def test_athletic_is_a_v(measures):
    plain, athletic = measures["plain"], measures["athletic"]
    assert athletic["shoulders"] > plain["shoulders"] * 1.12
    assert athletic["waist"] <= plain["waist"]
    ratio = athletic["shoulders"] / athletic["waist"]
    assert ratio > plain["shoulders"] / plain["waist"] * 1.15
    assert athletic["arm"] > plain["arm"] * 1.15


def test_curvy_has_hips_wide_against_its_waist(measures):
    plain, curvy = measures["plain"], measures["curvy"]
    assert curvy["hips"] > plain["hips"] * 1.2
    assert curvy["hips"] / curvy["waist"] > plain["hips"] / plain["waist"] * 1.2
    assert curvy["waist"] < plain["waist"] * 1.05


def test_petite_is_narrow_shouldered_and_short(measures):
    plain, petite = measures["plain"], measures["petite"]
    assert petite["shoulders"] < plain["shoulders"] * 0.9
    assert petite["torso_length"] < plain["torso_length"] * 0.94


def test_no_prompt_makes_an_impossible_body():
    extreme = build_from_prompt("extremely muscular bodybuilder very broad shoulders plus size")
    for name, (low, high) in LIMITS.items():
        assert low <= getattr(extreme, name) <= high, name
    thin = build_from_prompt("very very skinny thin slender petite")
    assert thin.shoulder >= thin.chest + 0.85 * thin.arm  # the arms still hang beside the chest
