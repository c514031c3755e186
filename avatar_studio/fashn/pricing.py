"""What a face-to-model run costs in FASHN credits, known before it is sent.

FASHN charges per image by generation mode and resolution, times ``num_images``; failed
predictions are not charged. This table is the one home of those prices: the upload page, the API
and the daily allowance all read them through ``credits_for``.
"""

from __future__ import annotations

from .types import GENERATION_MODES, NUM_IMAGES_MAX, NUM_IMAGES_MIN, RESOLUTIONS

__all__ = ["CREDITS_PER_IMAGE", "DEFAULT_RESOLUTION", "credits_for"]

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
    mode = generation_mode if generation_mode is not None else GENERATION_MODES[-1]
    size = resolution if resolution is not None else DEFAULT_RESOLUTION
    count = num_images if num_images is not None else NUM_IMAGES_MIN
    if mode not in GENERATION_MODES:
        raise ValueError(f"generation_mode must be one of {', '.join(GENERATION_MODES)}")
    if size not in RESOLUTIONS:
        raise ValueError(f"resolution must be one of {', '.join(RESOLUTIONS)}")
    if isinstance(count, bool) or not isinstance(count, int):
        raise ValueError("num_images must be an integer")
    if not NUM_IMAGES_MIN <= count <= NUM_IMAGES_MAX:
        raise ValueError(f"num_images must be between {NUM_IMAGES_MIN} and {NUM_IMAGES_MAX}")
    return CREDITS_PER_IMAGE[mode, size] * count
