"""Selfie intake: check an uploaded file is a usable photo, and normalise it.

Every accepted selfie leaves here as a clean RGB JPEG with EXIF orientation applied and all
metadata (GPS included) dropped, its longest side capped, so that what we store and what we send
to FASHN is the same small, private file. Anything else is refused with a specific message,
before anything is stored.
"""

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

register_heif_opener()

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "HEIF"}
MAX_PIXELS = 50_000_000  # checked from the header, before decoding
MIN_SIDE = 64
SMALL_SIDE = 512  # below this the avatar may look soft: the user is told
MAX_SIDE = 2048


class SelfieRejected(ValueError):
    """The file cannot be used as a selfie; the message says why and what to do."""


@dataclass(frozen=True)
class NormalisedSelfie:
    jpeg: bytes
    width: int
    height: int

    @property
    def is_small(self):
        return min(self.width, self.height) < SMALL_SIDE


def normalise_selfie(file, *, max_bytes):
    """Validate and normalise an uploaded selfie (a file object). Raises SelfieRejected."""
    size = getattr(file, "size", None)
    if size == 0:
        raise SelfieRejected("The file is empty. Choose a photo of your face.")
    if size is not None and size > max_bytes:
        raise SelfieRejected(
            f"The file is {size / 1_048_576:.1f} MB; the limit is {max_bytes // 1_048_576} MB. "
            "Choose a smaller photo or a screenshot of it."
        )
    file.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(file)
            image_format = image.format
            width, height = image.size
            if image_format not in ACCEPTED_FORMATS:
                raise SelfieRejected(
                    f"{image_format or 'This'} files are not accepted. Upload a JPEG, PNG, "
                    "WebP or HEIC photo."
                )
            if width * height > MAX_PIXELS:
                raise SelfieRejected(
                    f"The image is {width}×{height} pixels, too large to process. Upload a "
                    "photo of at most 50 megapixels."
                )
            if getattr(image, "n_frames", 1) > 1:
                raise SelfieRejected("Animated images are not accepted. Upload a still photo.")
            if min(width, height) < MIN_SIDE:
                raise SelfieRejected(
                    f"The image is only {width}×{height} pixels. Upload a photo at least "
                    f"{MIN_SIDE} pixels on its shorter side (512 or more looks best)."
                )
            if image_format == "JPEG":
                image.draft("RGB", (MAX_SIDE, MAX_SIDE))
            image.load()
            image = ImageOps.exif_transpose(image)
            image = _to_rgb(image)
    except SelfieRejected:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise SelfieRejected(
            "This file is not a photo we can read. Upload a JPEG, PNG, WebP or HEIC image."
        ) from None
    except (OSError, ValueError, SyntaxError, EOFError):
        raise SelfieRejected(
            "The image is damaged or incomplete. Export the photo again and upload the new file."
        ) from None

    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92, optimize=True)
    return NormalisedSelfie(jpeg=buffer.getvalue(), width=image.width, height=image.height)


def _to_rgb(image):
    """Flatten any mode (alpha, palette, CMYK, 16-bit, grayscale) to RGB on white."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        image = image.point(lambda value: value / 256).convert("L")
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGB", image.size, "white")
        background.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
        return background
    return image.convert("RGB")
