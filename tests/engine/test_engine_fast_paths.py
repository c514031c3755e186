"""The avatar's fast paths give what the plain computations they replace give.

Each of these was once a computation over the whole patch or canvas; they now work in a box,
at the edge pixels only, or a tile at a time. These tests keep the plain form beside them and
compare, so a speed-up cannot quietly change a picture.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from offline_engine.avatar import head, shading
from offline_engine.avatar.analysis import analyse
from offline_engine.avatar.compose import finish_at_full_size
from offline_engine.avatar.head import HeadLayer, Placement
from offline_engine.imaging import blur, smoothstep


def _photo_valid(rng: np.random.Generator, size: int) -> np.ndarray:
    """1 inside a random quadrilateral (the photo as the patch sees it), 0 outside."""
    valid = np.zeros((size, size), np.float32)
    corners = np.array(
        [
            [rng.uniform(-0.3, 0.6), rng.uniform(-0.3, 0.6)],
            [rng.uniform(0.5, 1.3), rng.uniform(-0.3, 0.5)],
            [rng.uniform(0.5, 1.3), rng.uniform(0.5, 1.3)],
            [rng.uniform(-0.3, 0.5), rng.uniform(0.5, 1.3)],
        ]
    )
    cv2.fillPoly(valid, [(corners * size).astype(np.int32)], 1.0)
    return valid


def test_the_photo_edge_band_near_the_edge_is_the_band_over_the_whole_patch():
    rng = np.random.default_rng(1)
    for _ in range(60):
        size = int(rng.integers(80, 600))
        valid = _photo_valid(rng, size)
        unit = float(rng.uniform(30, 300))
        whole = cv2.distanceTransform((valid > 0.5).astype(np.uint8), cv2.DIST_L2, 5)
        expected = smoothstep(0.0, 0.1 * unit, whole).astype(np.float32)
        assert np.array_equal(head._into_photo(valid, unit), expected)


def _unmixed_with_full_size_blurs(rgbf, alpha, unit):
    """Decontamination as first written: every blur taken back to the work region's size."""
    edge = (alpha > 0.01) & (alpha < 0.99)
    rows, cols = np.flatnonzero(edge.any(axis=1)), np.flatnonzero(edge.any(axis=0))
    sigma = max(2.0, unit * 0.08)
    pad = int(3 * sigma)
    r0, r1 = max(0, rows[0] - pad), min(alpha.shape[0], rows[-1] + 1 + pad)
    c0, c1 = max(0, cols[0] - pad), min(alpha.shape[1], cols[-1] + 1 + pad)
    rgb, a_, e = rgbf[r0:r1, c0:c1], alpha[r0:r1, c0:c1], edge[r0:r1, c0:c1]
    back = 1.0 - a_
    bg = blur(rgb * back[..., None], sigma)[e] / np.maximum(blur(back, sigma)[e], 1e-3)[:, None]
    fg = blur(rgb * a_[..., None], sigma)[e] / np.maximum(blur(a_, sigma)[e], 1e-3)[:, None]
    a = np.maximum(a_[e], 0.05)[:, None]
    pure = np.clip((rgb[e] - (1.0 - a) * bg) / a, 0.0, 255.0)
    trust = smoothstep(0.05, 0.5, a)
    region = rgb.copy()
    region[e] = pure * trust + fg * (1.0 - trust)
    out = rgbf.copy()
    out[r0:r1, c0:c1] = region
    return out


@pytest.mark.parametrize("radius", [60, 110, 150])  # the work region inside the patch, or all of it
def test_edge_unmixing_read_at_the_edge_pixels_is_unmixing_with_full_size_blurs(radius):
    rng = np.random.default_rng(2)
    size, unit = 320, 120.0
    # A lit head's colours over a room's, and a soft-edged head with hair-like wisps.
    rgbf = cv2.GaussianBlur(rng.uniform(0, 255, (size, size, 3)).astype(np.float32), (0, 0), 6)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    r = np.hypot(xx - size / 2, yy - size / 2) + 6 * np.sin(xx / 5)
    alpha = np.clip((radius - r) / 12, 0, 1).astype(np.float32)
    expected = _unmixed_with_full_size_blurs(rgbf, alpha, unit)
    assert np.abs(head._decontaminate(rgbf, alpha, unit) - expected).max() < 0.01


def _finished_with_a_full_size_grain(canvas, layer, width, height, seed):
    """The finish as first written: the whole grain field made, the head pasted by
    broadcasting."""
    out = cv2.resize(cv2.convertScaleAbs(canvas), (width, height), interpolation=cv2.INTER_LINEAR)
    noise = shading.grain((height, width), layer.grain, seed, max(1.0, layer.placement.scale))
    grain = np.rint(noise).astype(np.int16)
    out = cv2.add(out, cv2.merge([grain, grain, grain]), dtype=cv2.CV_8U)
    hx, hy = layer.placement.origin
    h, w = layer.alpha.shape
    y0, y1, x0, x1 = max(0, hy), min(height, hy + h), max(0, hx), min(width, hx + w)
    alpha = layer.alpha[y0 - hy : y1 - hy, x0 - hx : x1 - hx]
    src = layer.rgb[y0 - hy : y1 - hy, x0 - hx : x1 - hx]
    dst = out[y0:y1, x0:x1].astype(np.float32) - (noise[y0:y1, x0:x1] * alpha)[..., None]
    dst += (src - dst) * alpha[..., None]
    out[y0:y1, x0:x1] = cv2.convertScaleAbs(dst)
    return out


@pytest.mark.parametrize("scale", [0.9, 1.25, 1.8])  # fine grain by tiles; coarse grain whole
@pytest.mark.parametrize("origin", [(150, 90), (-40, -60), (700, 1100)])
def test_the_finish_adds_the_same_grain_and_head_as_a_full_size_grain_field(scale, origin):
    rng = np.random.default_rng(3)
    width, height = 832, 1248
    canvas = rng.uniform(0, 255, (height // 2, width // 2, 3)).astype(np.float32)
    size = 420
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    alpha = np.clip((150 - np.hypot(xx - size / 2, yy - size / 2)) / 8, 0, 1).astype(np.float32)
    placement = Placement(0.0, (0, 0, 0, 0), origin, (size, size), scale, np.eye(2, 3))
    layer = HeadLayer(
        rng.uniform(0, 255, (size, size, 3)).astype(np.float32),
        alpha,
        placement,
        None,
        2.3,
        0.0,
    )
    expected = _finished_with_a_full_size_grain(canvas, layer, width, height, 42)
    assert np.array_equal(finish_at_full_size(canvas, layer, width, height, 42), expected)


def test_a_photo_edge_that_only_grazes_the_patch_changes_nothing(grace_hopper, monkeypatch):
    """The photo's edge softened into the patch's border row but never below half: nothing is
    outside the photo, so the head is cut out as if the photo went on (no made hair, no box)."""
    analysis = analyse(grace_hopper)
    unit, anchor = 170.0, (416.0, 300.0)
    real = head._valid_mask

    def everywhere(a, placement, size):
        return np.ones_like(real(a, placement, size))

    def grazed(a, placement, size):
        valid = everywhere(a, placement, size)
        valid[0, :] = 0.8  # the top row half inside the photo
        return valid

    monkeypatch.setattr(head, "_valid_mask", everywhere)
    whole = head.cut_out(analysis, unit, anchor, 0.3)
    monkeypatch.setattr(head, "_valid_mask", grazed)
    grazing = head.cut_out(analysis, unit, anchor, 0.3)
    assert head._into_photo(grazed(analysis, whole.placement, (40, 30)), unit).min() == 1.0
    assert np.array_equal(grazing.alpha, whole.alpha)
    assert np.array_equal(grazing.rgb, whole.rgb)
