"""The face-to-model image, as the prediction store asks for it: bytes in, encoded avatars out.

The work is split by job: ``analysis`` (decode, face, geometry, segmentation), ``body`` (the
build a prompt asks for and its silhouette), ``head`` (the real head's cut-out), ``shading``
(light, shadows, grain) and ``compose`` (one avatar from those). This module holds the protocol's
side: output sizes per aspect ratio and resolution, seeds for ``num_images`` variants, encoding,
and a small cache of analyses so that retries and variants of one selfie skip the models.

"2k" and "4k" are the 1k avatar upscaled with a Lanczos filter, not rendered natively: a native
4k composition costs about 2 s an image against 0.06 s at 1k (docs/ENGINE.md, Benchmark), its
pixel-sized constants (grain, soft edges) are tuned at 1k, and the head, the only detailed part,
comes from a selfie analysed at most 2048 px wide anyway.

Same inputs and seed give the same bytes; variant k of ``num_images`` is the image of seed+k.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..imaging import encode
from .analysis import MIN_FACE_PX, NO_FACE_MESSAGE, Analysis, analyse, decode_image, find_face
from .body import body_shape, build_from_prompt
from .compose import Avatar, compose

__all__ = [
    "BASE_SIZES",
    "MIN_FACE_PX",
    "NO_FACE_MESSAGE",
    "RenderOptions",
    "analysis_for",
    "body_shape",
    "build_from_prompt",
    "decode_image",
    "encode",
    "find_face",
    "output_size",
    "render_avatar",
    "render_avatars",
    "upscaled",
    "variant_seeds",
]

# Output sizes at "1k" (about one megapixel, 2**20 pixels, exact ratios); "2k" and "4k" double
# and quadruple both sides: about 4 and 16 megapixels.
BASE_SIZES = {
    "1:1": (1024, 1024),
    "4:5": (912, 1140),
    "3:4": (888, 1184),
    "2:3": (832, 1248),
    "9:16": (756, 1344),
}
RESOLUTION_SCALE = {"1k": 1, "2k": 2, "4k": 4}
ANALYSIS_CACHE_SIZE = 4  # retries and variants reuse a selfie; the models are half the work


@dataclass(frozen=True)
class RenderOptions:
    aspect_ratio: str = "2:3"
    seed: int = 42
    prompt: str = ""
    output_format: str = "jpeg"
    resolution: str = "1k"
    num_images: int = 1


def output_size(aspect_ratio: str, resolution: str) -> tuple[int, int]:
    w, h = BASE_SIZES[aspect_ratio]
    k = RESOLUTION_SCALE[resolution]
    return w * k, h * k


_analysed: OrderedDict[bytes, Analysis] = OrderedDict()
_analysed_lock = threading.Lock()


def analysis_for(face_bytes: bytes) -> Analysis:
    """Analyse a selfie, remembering the last few (analyses are read-only)."""
    key = hashlib.blake2b(face_bytes, digest_size=16).digest()
    with _analysed_lock:
        if key in _analysed:
            _analysed.move_to_end(key)
            return _analysed[key]
    result = analyse(face_bytes)
    with _analysed_lock:
        _analysed[key] = result
        while len(_analysed) > ANALYSIS_CACHE_SIZE:
            _analysed.popitem(last=False)
    return result


def render_avatar(
    face_bytes: bytes, aspect_ratio: str = "2:3", seed: int = 42, prompt: str = ""
) -> Avatar:
    """One avatar at 1k with everything that went into it (for tests, the bench, the sheet)."""
    width, height = BASE_SIZES[aspect_ratio]
    return compose(analysis_for(face_bytes), width, height, seed % 2**32, prompt)


def upscaled(rgb: np.ndarray, size: tuple[int, int]) -> Image.Image:
    """The 1k avatar at an output size (w, h); Lanczos keeps edges crisp where bicubic blurs."""
    image = Image.fromarray(rgb)
    if image.size == size:
        return image
    return image.resize(size, Image.Resampling.LANCZOS)


def variant_seeds(seed: int, num_images: int) -> list[int]:
    """Seeds of a run's images: candidate k is exactly the single image of seed+k (wrapping
    past 2**32-1 to 0), so a client can remake any one of them alone."""
    return [(seed + k) % 2**32 for k in range(num_images)]


def render_avatars(face_bytes: bytes, options: RenderOptions) -> list[bytes]:
    """Encoded avatar images: ``num_images`` variants, one per seed of ``variant_seeds``.

    One image at a time is composed, upscaled and encoded, so however many are asked for only
    the encoded bytes of the finished ones are held (a 4k frame is 50 MB as pixels).
    """
    source = analysis_for(face_bytes)
    width, height = BASE_SIZES[options.aspect_ratio]
    size = output_size(options.aspect_ratio, options.resolution)
    images = []
    for seed in variant_seeds(options.seed, options.num_images):
        avatar = compose(source, width, height, seed, options.prompt)
        images.append(encode(upscaled(avatar.rgb, size), options.output_format, size))
    return images
