"""What a face-to-model or tryon-max run costs in FASHN credits, known before it is sent.

FASHN charges face-to-model per image by generation mode and resolution, times ``num_images``;
tryon-max per image by generation mode. Failed predictions are not charged. These tables are the
one home of those prices: the upload page, the API and the daily allowance read them through
``credits_for`` and ``tryon_max_credits_for``.
"""

from __future__ import annotations

from .types import (
    GENERATION_MODES,
    NUM_IMAGES_MAX,
    NUM_IMAGES_MIN,
    RESOLUTIONS,
    TRYON_MAX_GENERATION_MODES,
)

__all__ = [
    "CREDITS_PER_IMAGE",
    "DEFAULT_RESOLUTION",
    "TRYON_MAX_CREDITS_PER_IMAGE",
    "credits_for",
    "tryon_max_credits_for",
]

# Credits per image, by generation mode and resolution (FASHN's published table).
CREDITS_PER_IMAGE = {
    ("fast", "1k"): 1,
    ("fast", "2k"): 2,
    ("fast", "4k"): 3,
    ("balanced", "1k"): 2,
    ("balanced", "2k"): 3,
    ("balanced", "4k"): 4,
    ("quality", "1k"): 3,
    ("quality", "2k"): 4,
    ("quality", "4k"): 5,
}
# Credits per tryon-max image, by generation mode. FASHN's tryon-max reference gives one price,
# "Credits: 4 per image", and none per mode: both modes are assumed to cost that until FASHN
# publishes otherwise (docs/ENGINE.md).
TRYON_MAX_CREDITS_PER_IMAGE = {"balanced": 4, "quality": 4}
# What FASHN makes when no resolution is asked for: the original face-to-model size (about 1 MP).
DEFAULT_RESOLUTION = "1k"


def credits_for(
    *,
    generation_mode: str | None = None,
    resolution: str | None = None,
    num_images: int | None = None,
) -> int:
    """The most a face-to-model run with these inputs can cost.

    With no ``generation_mode`` FASHN chooses one, so the dearest is counted: a user is never
    charged more than they were shown. ``ValueError`` for a value the protocol does not have.
    """
    mode = _mode(generation_mode, GENERATION_MODES)
    size = resolution if resolution is not None else DEFAULT_RESOLUTION
    if size not in RESOLUTIONS:
        raise ValueError(f"resolution must be one of {', '.join(RESOLUTIONS)}")
    return CREDITS_PER_IMAGE[mode, size] * _count(num_images)


def tryon_max_credits_for(
    *, generation_mode: str | None = None, num_images: int | None = None
) -> int:
    """The most a tryon-max run with these inputs can cost (no mode: the dearest is counted).

    ``ValueError`` for a value the protocol does not have.
    """
    mode = _mode(generation_mode, TRYON_MAX_GENERATION_MODES)
    return TRYON_MAX_CREDITS_PER_IMAGE[mode] * _count(num_images)


def _mode(generation_mode: str | None, modes: tuple[str, ...]) -> str:
    # Modes are listed cheapest first: the last is the dearest.
    mode = generation_mode if generation_mode is not None else modes[-1]
    if mode not in modes:
        raise ValueError(f"generation_mode must be one of {', '.join(modes)}")
    return mode


def _count(num_images: int | None) -> int:
    count = num_images if num_images is not None else NUM_IMAGES_MIN
    if isinstance(count, bool) or not isinstance(count, int):
        raise ValueError("num_images must be an integer")
    if not NUM_IMAGES_MIN <= count <= NUM_IMAGES_MAX:
        raise ValueError(f"num_images must be between {NUM_IMAGES_MIN} and {NUM_IMAGES_MAX}")
    return count
