"""The checks the upload page runs in the browser say what the server would say: for each file
a browser can name, the message it renders is the intake's own refusal of that file."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from avatar_studio.avatars.forms import AvatarRequestForm
from avatar_studio.avatars.images import SelfieRejected, browser_checks, normalise_selfie

from ..support import crafted

LIMIT = 1024 * 1024


def _image(image_format, **options):
    buffer = io.BytesIO()
    Image.new("RGB", (120, 120), (90, 120, 200)).save(buffer, image_format, **options)
    return buffer.getvalue()


def _server_refusal(data, max_bytes=LIMIT):
    with pytest.raises(SelfieRejected) as caught:
        normalise_selfie(SimpleUploadedFile("file", data), max_bytes=max_bytes)
    return str(caught.value)


@pytest.mark.parametrize(
    ("browser_type", "build"),
    [
        ("text/plain", lambda: b"my shopping list\n"),
        ("text/html", crafted.html_page),
        ("image/svg+xml", crafted.svg_drawing),
        ("application/pdf", crafted.pdf_document),
        ("application/zip", crafted.zip_archive),
        ("video/mp4", crafted.video_header),
        ("image/bmp", lambda: _image("BMP")),
        ("image/tiff", lambda: _image("TIFF")),
        ("image/gif", lambda: _image("GIF")),
    ],
)
def test_each_refusal_the_browser_applies_is_the_servers_own(browser_type, build):
    refusals = json.loads(browser_checks(LIMIT)["data-refusals"])
    family = browser_type.split("/")[0] + "/"

    message = refusals.get(browser_type) or refusals[family]

    assert message == _server_refusal(build())


def test_the_size_message_is_the_servers_with_the_files_size_filled_in():
    checks = browser_checks(LIMIT)
    over = crafted.encode(crafted.phone_photo((640, 480)), "JPEG")
    over += b"\0" * (2 * LIMIT - len(over))

    assert checks["data-max-bytes"] == str(LIMIT)
    assert checks["data-too-large"].replace("{size}", "2") == _server_refusal(over)
    assert checks["data-empty"] == _server_refusal(b"")


def test_the_form_renders_the_limit_from_settings_on_the_file_input(settings):
    settings.SELFIE_MAX_UPLOAD_BYTES = 5 * 1024 * 1024

    field = str(AvatarRequestForm()["face_image"])
    form = AvatarRequestForm()

    assert 'data-max-bytes="5242880"' in field
    assert "over the 5 MB limit" in field
    assert form["face_image"].help_text.endswith("up to 5 MB.")
