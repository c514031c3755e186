"""Every stored avatar image and thumbnail: AI-generated marking in XMP, no EXIF, same pixels."""

import base64
import io
import struct

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, PngImagePlugin

from avatar_studio.avatars.models import AvatarJob, PredictionAttempt
from avatar_studio.avatars.pipeline import outputs
from avatar_studio.fashn import OutputUnavailableError

from ..support.faces import astronaut_jpeg
from ..support.jobs import make_job

pytestmark = pytest.mark.django_db

TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def _exif_with_gps():
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "PhoneModel 12"  # Model
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}  # GPS
    return exif


def _noisy(size=(96, 128)):
    image = Image.effect_noise(size, 64).convert("RGB")
    return image


def jpeg_with_metadata():
    buffer = io.BytesIO()
    _noisy().save(
        buffer,
        "JPEG",
        quality=90,
        exif=_exif_with_gps(),
        xmp=b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>OldCameraApp</x:xmpmeta>",
        comment=b"shot on my phone",
    )
    return buffer.getvalue()


def png_with_metadata():
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "shot on my phone")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>OldCameraApp</x:xmpmeta>")
    buffer = io.BytesIO()
    _noisy().save(buffer, "PNG", pnginfo=info, exif=_exif_with_gps())
    return buffer.getvalue()


def _data_uri(data, content_type):
    return f"data:{content_type};base64,{base64.b64encode(data).decode()}"


def _scan_data(jpeg):
    """The entropy-coded data and everything after it: what a lossless rewrite must keep."""
    return jpeg[jpeg.index(b"\xff\xda") :]


def _png_chunks(data, kind):
    chunks, position = [], 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        if data[position + 4 : position + 8] == kind:
            chunks.append(data[position + 8 : position + 8 + length])
        position += 12 + length
    return chunks


def _read(name):
    with default_storage.open(name, "rb") as stored:
        return stored.read()


def _assert_marked_and_clean(data):
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert not image.getexif(), "EXIF must be gone"
        xmp = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
        assert xmp, "XMP packet missing"
        xmp = xmp if isinstance(xmp, str) else xmp.decode()
        assert f'Iptc4xmpExt:DigitalSourceType="{TRAINED}"' in xmp
        assert 'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"' in xmp
        assert "OldCameraApp" not in xmp
    for leftover in (b"PhoneMaker", b"PhoneModel", b"shot on my phone", b"Exif\x00\x00"):
        assert leftover not in data


@pytest.fixture
def job_and_attempt(alice):
    job = make_job(alice)
    attempt = PredictionAttempt.objects.create(
        job=job, number=1, prediction_id="pred-marking", submitted_at=job.created_at
    )
    return job, attempt


def test_jpeg_outputs_are_marked_and_stripped_without_recompression(job_and_attempt):
    original = jpeg_with_metadata()
    assert b"PhoneMaker" in original and b"shot on my phone" in original

    [output] = outputs.store_outputs(*job_and_attempt, [_data_uri(original, "image/jpeg")])
    image_name, thumb_name = output.image_name, output.thumbnail_name

    stored = _read(image_name)
    assert output.content_type == "image/jpeg" and image_name.endswith(".jpg")
    _assert_marked_and_clean(stored)
    assert _scan_data(stored) == _scan_data(original)  # lossless: the same coded pixels
    with Image.open(io.BytesIO(stored)) as a, Image.open(io.BytesIO(original)) as b:
        assert a.tobytes() == b.tobytes()
        assert a.info.get("jfif")  # JFIF stays first
    _assert_marked_and_clean(_read(thumb_name))


def test_png_outputs_are_marked_and_stripped_with_identical_pixels(job_and_attempt):
    original = png_with_metadata()
    assert _png_chunks(original, b"eXIf") and _png_chunks(original, b"tEXt")

    [output] = outputs.store_outputs(*job_and_attempt, [_data_uri(original, "image/png")])
    image_name, thumb_name = output.image_name, output.thumbnail_name

    stored = _read(image_name)
    _assert_marked_and_clean(stored)
    assert _png_chunks(stored, b"IDAT") == _png_chunks(original, b"IDAT")
    assert not _png_chunks(stored, b"eXIf") and not _png_chunks(stored, b"tEXt")
    [itxt] = _png_chunks(stored, b"iTXt")
    assert itxt.startswith(b"XML:com.adobe.xmp\x00")
    with Image.open(io.BytesIO(stored)) as image:
        image.verify()  # CRCs and structure are right
    _assert_marked_and_clean(_read(thumb_name))


def test_webp_outputs_are_re_encoded_with_the_marking(job_and_attempt):
    buffer = io.BytesIO()
    _noisy().save(buffer, "WEBP", exif=_exif_with_gps())

    [output] = outputs.store_outputs(*job_and_attempt, [_data_uri(buffer.getvalue(), "image/webp")])
    image_name, thumb_name = output.image_name, output.thumbnail_name

    _assert_marked_and_clean(_read(image_name))
    _assert_marked_and_clean(_read(thumb_name))


def test_a_jpeg_whose_segments_cannot_be_followed_is_re_encoded_or_refused():
    # Fill bytes before a marker are legal but unusual: still rewritten without decoding.
    padded = b"\xff\xd8\xff" + jpeg_with_metadata()[2:]
    _assert_marked_and_clean(outputs.mark_as_ai_generated(padded, "image/jpeg"))
    # A segment length running past the end: decoded and encoded again, or refused if that fails.
    broken = b"\xff\xd8\xff\xe1\xff\xff" + jpeg_with_metadata()[2:]
    with pytest.raises(OutputUnavailableError, match="not a readable image"):
        outputs.mark_as_ai_generated(broken, "image/jpeg")


def test_stored_selfies_carry_no_exif(client, alice, media_root):
    buffer = io.BytesIO()
    Image.open(io.BytesIO(astronaut_jpeg())).save(buffer, "JPEG", exif=_exif_with_gps())
    client.force_login(alice)
    client.post(
        reverse("avatars:upload"),
        {
            "face_image": SimpleUploadedFile("me.jpg", buffer.getvalue(), "image/jpeg"),
            "prompt": "",
            "aspect_ratio": "2:3",
            "seed": "1",
            "output_format": "jpeg",
            "consent": "on",
        },
    )

    stored = _read(AvatarJob.objects.get(owner=alice).selfie.name)
    with Image.open(io.BytesIO(stored)) as image:
        assert not image.getexif()
    assert b"PhoneMaker" not in stored
