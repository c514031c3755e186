"""What a prediction costs in credits, charged when it completes (failed ones are free).

The engine never imports the web app, so it keeps its own copy of FASHN's prices: this table
mirrors FASHN's published face-to-model prices (credits per image by generation mode and
resolution, times ``num_images``). ``tryon-v1.6`` costs one credit per sample.
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


def face_to_model_credits(generation_mode: str, resolution: str, num_images: int) -> int:
    return FACE_TO_MODEL_CREDITS_PER_IMAGE[generation_mode, resolution] * num_images


def tryon_credits(num_samples: int) -> int:
    return TRYON_CREDITS_PER_SAMPLE * num_samples
