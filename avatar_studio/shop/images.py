"""Garment photo intake: the selfie intake's checks (``avatars.images``), then a PNG.

A garment photo passes exactly the checks a selfie does (size, what the bytes really are, a
readable header, no decompression bomb, no animation, a sane shape, a complete body), with the
same messages, worded for a garment. What is kept differs: a product photo often has a
transparent background that helps the try-on cut the garment out, so it is stored as a PNG that
keeps its alpha (upright, at most ``MAX_SIDE`` px, all metadata dropped), not as a JPEG on white.
"""

import hashlib
import io

from django.conf import settings
from PIL import Image, ImageOps

from avatar_studio.api import fetch
from avatar_studio.avatars.images import MAX_SIDE, SelfieRejected, normalise_selfie


class GarmentPhotoRejected(ValueError):
    """The file or URL cannot be a garment photo; the message says why and what to do."""


def max_bytes():
    return settings.SELFIE_MAX_UPLOAD_BYTES


def fetch_policy():
    """The selfie fetcher's policy (public https addresses only). Tests replace this function
    with one whose resolver never leaves loopback."""
    return fetch.default_policy()


def normalise_garment(file):
    """The PNG bytes of an uploaded garment photo (a file object). Raises GarmentPhotoRejected."""
    try:
        normalise_selfie(file, max_bytes=max_bytes())  # every check; its JPEG is not kept
    except SelfieRejected as rejected:
        raise GarmentPhotoRejected(_for_garment(str(rejected))) from None
    file.seek(0)
    with Image.open(file) as image:
        image = ImageOps.exif_transpose(image)
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
        has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
        image.info.clear()  # nothing of the original's metadata is kept
        buffer = io.BytesIO()
        image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def garment_key(png):
    """The try-on cache key (``TryOn.garment_slug``) of a garment known by its picture: the same
    normalised picture, from any shop, URL, upload or data URI, is the same garment."""
    return "url-" + hashlib.sha256(png).hexdigest()[:40]


def fetch_garment(url):
    """The PNG bytes of the garment photo at an https ``url`` (public addresses only)."""
    try:
        data = fetch.fetch_image(url, fetch_policy())
    except fetch.ImageURLRefused as refused:
        raise GarmentPhotoRejected(_for_garment(str(refused))) from None
    return normalise_garment(io.BytesIO(data))


def _for_garment(message):
    return message.replace("photo of your face", "photo of the garment")
