"""Garment product photos for the try-on tests: the engine's own samples, drawn with Pillow."""

from avatar_studio.engine.tryon_samples import (  # noqa: F401
    blouse,
    dress,
    hoodie,
    jacket,
    jpeg_bytes,
    png_bytes,
    trousers,
    tshirt,
)
