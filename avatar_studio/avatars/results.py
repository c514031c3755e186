"""Copy a completed prediction's outputs into our storage, with a thumbnail for each.

FASHN's output URLs expire after 72 hours and base64 outputs after 60 minutes, so outputs are
copied as soon as the prediction completes. File names are derived from the job and attempt, so a
step that runs again after a crash overwrites its own files instead of leaving orphans.
"""

import io

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from avatar_studio import fashn

from .models import result_path

_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


def store_outputs(job, attempt, outputs):
    """Download every output and store it. Returns ``(index, image, thumbnail, content_type)``s.

    Raises ``fashn.FashnError`` (retryable or not) when an output cannot be had; files written
    before the failure are removed.
    """
    if not outputs:
        raise fashn.OutputUnavailableError("the prediction completed without any output")
    stored = []
    try:
        for index, output in enumerate(outputs):
            downloaded = fashn.download_output(output, max_bytes=settings.AVATAR_OUTPUT_MAX_BYTES)
            stored.append(_store_one(job, attempt, index, downloaded))
    except Exception:
        delete_stored(stored)
        raise
    return stored


def _store_one(job, attempt, index, downloaded):
    extension = _EXTENSIONS.get(downloaded.content_type, "img")
    stem = result_path(job, f"{attempt.number}-{index}")
    image_name = _save(f"{stem}.{extension}", downloaded.data)
    try:
        thumbnail_name = _save(f"{stem}-thumb.jpg", make_thumbnail(downloaded.data))
    except Exception:
        default_storage.delete(image_name)
        raise
    return index, image_name, thumbnail_name, downloaded.content_type


def make_thumbnail(image_bytes):
    """A small JPEG for galleries. Raises OutputUnavailableError if the bytes are no image."""
    try:
        with Image.open(io.BytesIO(image_bytes)) as image:
            image.draft("RGB", settings.AVATAR_THUMBNAIL_SIZE)
            image = image.convert("RGB")
            image.thumbnail(settings.AVATAR_THUMBNAIL_SIZE)
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=85, optimize=True)
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise fashn.OutputUnavailableError(f"the output is not a readable image: {error}") from None
    return buffer.getvalue()


def _save(name, data):
    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(data))


def delete_stored(stored):
    for _index, image_name, thumbnail_name, _content_type in stored:
        default_storage.delete(image_name)
        default_storage.delete(thumbnail_name)
