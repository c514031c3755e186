"""What a prediction costs in credits, charged when it completes (failed ones are free).

The engine never imports the web app, so it keeps its own copy of FASHN's prices: this table
mirrors FASHN's published face-to-model prices (credits per image by generation mode and
resolution, times ``num_images``). ``tryon-v1.6`` costs one credit per sample. ``tryon-max``
costs 4 credits per image: FASHN's tryon-max reference page gives "Credits: 4 per image" and no
price per generation_mode, so both modes are assumed to cost the same (docs/ENGINE.md).
"""

from __future__ import annotations

# Credits per face-to-model image, by generation mode and resolution: FASHN's published table.
FACE_TO_MODEL_CREDITS_PER_IMAGE = {
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
TRYON_CREDITS_PER_SAMPLE = 1
# Credits per tryon-max image, by generation_mode. FASHN publishes one price, 4 per image, and no
# difference between modes: assumed equal until FASHN says otherwise.
TRYON_MAX_CREDITS_PER_IMAGE = {"balanced": 4, "quality": 4}


def face_to_model_credits(generation_mode: str, resolution: str, num_images: int) -> int:
    return FACE_TO_MODEL_CREDITS_PER_IMAGE[generation_mode, resolution] * num_images


def tryon_credits(num_samples: int) -> int:
    return TRYON_CREDITS_PER_SAMPLE * num_samples


def tryon_max_credits(generation_mode: str, num_images: int) -> int:
    return TRYON_MAX_CREDITS_PER_IMAGE[generation_mode] * num_images
