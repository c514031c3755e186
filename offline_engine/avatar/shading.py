"""Light and shade for the drawn body: a studio key light, cylinders, soft shadows, grain.

Each body part is shaded row by row as a cylinder: ``u`` (-1 .. 1 across the part) gives the
surface normal, a key light from above on the face's brighter side and a wrap-around fill give
its brightness. Colours are divided by the brightness of a surface facing the camera, so the
front of the neck has the cheeks' colour and the front of the top has the garment's.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

from ..imaging import blur

AMBIENT = 0.42  # the studio's fill: shadows open, as in catalogue photos
WRAP = 0.45  # soft light wraps round a form; hard light would be 0


@dataclass(frozen=True)
class Light:
    side: float  # -1 light from the image's left .. 1 from its right

    @property
    def direction(self) -> np.ndarray:
        d = np.array([0.55 * self.side, -0.5, 0.75], np.float32)
        return d / np.linalg.norm(d)

    def front(self) -> float:
        """Brightness of a surface facing the camera."""
        return float(shade(np.zeros(1, np.float32), self)[0])


def normals(u: np.ndarray, tilt: np.ndarray | float = 0.0, flat: float = 0.0):
    """Surface normal of a cylinder at ``u``, tipped up (negative ``tilt``) or down.

    ``flat`` (0..1) flattens the front of the form (a torso is broader than it is round).
    """
    nx = np.asarray(u, np.float32)
    if flat:
        nx = np.sign(nx) * np.abs(nx) ** (1.0 + 2.0 * flat)
    nz = np.sqrt(np.maximum(0.0, 1.0 - nx * nx))
    ny = np.broadcast_to(np.asarray(tilt, np.float32), nx.shape)
    norm = np.sqrt(nx * nx + ny * ny + nz * nz)
    return nx / norm, ny / norm, nz / norm


def shade(
    u: np.ndarray,
    light: Light,
    *,
    tilt: np.ndarray | float = 0.0,
    flat: float = 0.0,
    gloss: float = 0.0,
) -> np.ndarray:
    """Brightness (about 0.4 .. 1.1) of a cylinder at ``u``; ``gloss`` adds a soft highlight."""
    nx, ny, nz = normals(u, tilt, flat)
    lx, ly, lz = light.direction
    lambert = np.clip((nx * lx + ny * ly + nz * lz + WRAP) / (1.0 + WRAP), 0.0, 1.0)
    out = AMBIENT + (1.0 - AMBIENT) * lambert
    # The edges turn away from the camera and from the room's bounce light.
    out = out * (1.0 - 0.22 * np.abs(nx) ** 6)
    if gloss:
        hx, hy, hz = lx, ly, lz + 1.0
        hn = float(np.sqrt(hx * hx + hy * hy + hz * hz))
        spec = np.clip((nx * hx + ny * hy + nz * hz) / hn, 0.0, 1.0) ** 18
        out = out + gloss * spec
    return out.astype(np.float32)


def contact_shadow(mask: np.ndarray, shift: tuple[int, int], sigma: float) -> np.ndarray:
    """Soft shadow of ``mask`` moved by (dx, dy) pixels: darkens what lies just behind it."""
    dx, dy = shift
    moved = np.roll(mask, (dy, dx), axis=(0, 1))
    if dy > 0:
        moved[:dy] = 0
    elif dy < 0:
        moved[dy:] = 0
    if dx > 0:
        moved[:, :dx] = 0
    elif dx < 0:
        moved[:, dx:] = 0
    return blur(moved, sigma)


def backdrop(
    width: int, height: int, tone: float = 0.0, shadow: np.ndarray | None = None
) -> np.ndarray:
    """A seamless studio paper: light grey, brighter behind the subject, darker towards the floor.

    ``tone`` (-1 .. 1) warms or cools it a touch; ``shadow`` (height x width, 0..1 of light
    taken away) is the shadow cast on it, applied in the same pass.
    """
    ys = (np.arange(height, dtype=np.float32) / width)[:, None]
    xs = (np.arange(width, dtype=np.float32) / width - 0.5)[None, :]
    top = np.array([231, 230, 228], np.float32) + np.array([2, 0, -2], np.float32) * tone
    bottom = np.array([206, 205, 204], np.float32) + np.array([2, 0, -2], np.float32) * tone
    t = np.clip(ys / max(height / width, 1.0), 0.0, 1.0)[..., None]
    # The glow and the vignette are products of a row and a column term: one brightness map
    # from their outer product, then one pass over the three channels.
    glow = 0.055 * np.exp(-(((ys - 0.5) / 0.75) ** 2)) * np.exp(-((xs / 0.5) ** 2))
    vignette = 1.0 - 0.06 * np.clip((xs / 0.5) ** 2, 0, 1)
    level = (1.0 + glow) * vignette
    if shadow is not None:
        level = level * (1.0 - shadow)
    paper = top * (1 - t) + bottom * t  # one colour per row
    # Channel by channel: numpy broadcasts over a last axis of three slowly.
    return cv2.merge([paper[:, :, k] * level for k in range(3)])


GRAIN_TILE = 512


@cache
def _unit_noise() -> np.ndarray:
    """One tile of unit white noise, made once: each image takes it shifted by its seed."""
    return np.random.default_rng(0).standard_normal((GRAIN_TILE, GRAIN_TILE), dtype=np.float32)


def _seeded_tile(seed: int, sigma: float) -> np.ndarray:
    """The unit tile rolled by offsets the seed picks (a new tile per seed costs 2 ms)."""
    dy, dx = np.random.default_rng(seed).integers(0, GRAIN_TILE, size=2)
    return np.roll(_unit_noise(), (int(dy), int(dx)), axis=(0, 1)) * np.float32(sigma)


FINE_GRAIN = 1.25  # the most ``coarse`` that is drawn as fine grain: one tile repeated


def grain_tile(shape: tuple[int, int], sigma: float, seed: int) -> np.ndarray:
    """The tile that fine grain (``coarse`` <= FINE_GRAIN) of ``shape`` repeats from (0, 0)."""
    h, w = shape
    return _seeded_tile(seed, sigma)[: min(h, GRAIN_TILE), : min(w, GRAIN_TILE)]


def grain(shape: tuple[int, int], sigma: float, seed: int, coarse: float = 1.0) -> np.ndarray:
    """Seeded photo noise; ``coarse`` > 1 makes it blotchier (an upscaled photo's grain)."""
    h, w = shape
    if coarse <= FINE_GRAIN:
        # A 512-pixel tile repeated: grain this faint shows no repeat, and it is 10x cheaper.
        tile = grain_tile(shape, sigma, seed)
        reps = (-(-h // tile.shape[0]), -(-w // tile.shape[1]))
        return np.tile(tile, reps)[:h, :w]
    sh, sw = max(1, round(h / coarse)), max(1, round(w / coarse))
    # Bilinear upscaling averages neighbours and lowers the spread: scale it back up.
    tile = _seeded_tile(seed, sigma * 1.5)
    small = np.tile(tile, (-(-sh // GRAIN_TILE), -(-sw // GRAIN_TILE)))[:sh, :sw]
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
