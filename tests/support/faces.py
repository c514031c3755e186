"""Test images made on the spot: a real face from scikit-image, and images with no face."""

import io
from functools import cache

from PIL import Image


@cache
def astronaut_jpeg(size=512):
    """Eileen Collins' NASA portrait (public domain), shipped inside scikit-image."""
    from skimage import data

    image = Image.fromarray(data.astronaut()).resize((size, size))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def flat_image(size=(400, 400), color=(128, 128, 128), image_format="PNG"):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, image_format)
    return buffer.getvalue()
