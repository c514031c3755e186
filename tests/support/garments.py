"""Garment product photos for the try-on tests: the engine's samples (tools/), drawn with Pillow."""

from tools.garment_samples import (  # noqa: F401
    blouse,
    dress,
    hoodie,
    jacket,
    jpeg_bytes,
    png_bytes,
    skirt,
    trousers,
    tshirt,
)
