"""How many pixels a face-to-model image has, by aspect ratio and resolution.

"1k" is about one megapixel (2**20 pixels) in the exact ratio; "2k" and "4k" double and
quadruple both sides, so about 4 and 16 megapixels. The offline engine makes these sizes too
(it imports nothing of the app, so it keeps its own copy; a test checks the two agree), so the
size the upload page announces is the size that arrives.
"""

from __future__ import annotations

__all__ = ["image_size"]

SIZES_AT_1K = {
    "1:1": (1024, 1024),
    "4:5": (912, 1140),
    "3:4": (888, 1184),
    "2:3": (832, 1248),
    "9:16": (756, 1344),
}
SCALE = {"1k": 1, "2k": 2, "4k": 4}


def image_size(resolution: str, aspect_ratio: str) -> tuple[int, int]:
    """The (width, height) of an image at ``resolution`` and ``aspect_ratio``; ``KeyError`` for
    a value the protocol does not have."""
    width, height = SIZES_AT_1K[aspect_ratio]
    return width * SCALE[resolution], height * SCALE[resolution]
