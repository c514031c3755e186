"""Selfie intake: bad files are refused with a message that says what is wrong and what to do,
and awkward real photos come out as a clean, upright RGB JPEG without metadata.

Two layers: `normalise_selfie` itself for every case, then the browser form for every refusal
(nothing stored, no job, the other choices kept). Every file is built here, in memory.
"""

import io
import re

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape
from PIL import Image

from avatar_studio.avatars import received_selfies
from avatar_studio.avatars.images import SelfieRejected, normalise_selfie
from avatar_studio.avatars.models import AvatarJob

from ..support import crafted
from ..support.crafted import BLUE, GREEN, RED, close_to, corner_colours, encode, quadrants

LIMIT = 15 * 1024 * 1024
LOWERED_LIMIT = 1024 * 1024  # for the refusal table, so that its size case stays small and fast
WHITE = (255, 255, 255)
WHAT_TO_DO = re.compile(r"\b(Upload|Choose|Export|Save|Crop)\b")


def _normalise(data, max_bytes=LIMIT):
    upload = SimpleUploadedFile("selfie.jpg", data, "image/jpeg")
    return normalise_selfie(upload, max_bytes=max_bytes)


def _refusal(data, max_bytes=LIMIT):
    with pytest.raises(SelfieRejected) as caught:
        _normalise(data, max_bytes)
    return str(caught.value)


def _stored(selfie):
    """The normalised JPEG, opened, after checking it is clean: RGB, no EXIF, ICC or XMP."""
    image = Image.open(io.BytesIO(selfie.jpeg))
    image.load()
    assert image.format == "JPEG"
    assert image.mode == "RGB"
    assert image.size == (selfie.width, selfie.height)
    assert max(image.size) <= 2048
    assert not image.getexif()
    assert not {"exif", "icc_profile", "xmp", "XML:com.adobe.xmp"} & set(image.info)
    for marker in (b"Exif\x00\x00", b"ICC_PROFILE", b"http://ns.adobe.com/xap/"):
        assert marker not in selfie.jpeg
    return image


def _assert_corners(image, expected, tolerance=40):
    colours = corner_colours(image)
    assert all(close_to(c, e, tolerance) for c, e in zip(colours, expected, strict=True)), colours


def _jpeg_photo(size=(800, 600)):
    return encode(crafted.phone_photo(size), "JPEG", quality=90)


def _png_photo(size=(800, 600)):
    return encode(crafted.phone_photo(size), "PNG", compress_level=1)


def _padded_jpeg(total_bytes):
    """A real JPEG followed by padding up to total_bytes: valid up to its end marker."""
    data = _jpeg_photo((640, 480))
    return data + b"\x00" * (total_bytes - len(data))


# Each refused file, and the words that must be in its message.
REFUSED = [
    pytest.param(crafted.random_bytes, "This file is not an image we can read", id="random-bytes"),
    pytest.param(crafted.pdf_document, "This is a PDF document, not a photo", id="pdf"),
    pytest.param(crafted.svg_drawing, "This is an SVG drawing, not a photo", id="svg"),
    pytest.param(crafted.html_page, "This is a web page (HTML), not a photo", id="html"),
    pytest.param(crafted.zip_archive, "This is a ZIP archive", id="zip"),
    pytest.param(crafted.video_header, "This is a video, not a photo", id="mp4-video"),
    pytest.param(
        lambda: _jpeg_photo()[: len(_jpeg_photo()) // 2],
        "This JPEG file is damaged or incomplete",
        id="truncated-jpeg",
    ),
    pytest.param(
        lambda: _jpeg_photo()[:300],
        "This JPEG file is damaged or incomplete",
        id="jpeg-cut-in-header",
    ),
    pytest.param(
        lambda: _png_photo()[: len(_png_photo()) // 2],
        "This PNG file is damaged or incomplete",
        id="truncated-png",
    ),
    pytest.param(
        crafted.corrupt_jpeg, "This JPEG file is damaged or incomplete", id="corrupt-jpeg"
    ),
    pytest.param(crafted.corrupt_png, "This PNG file is damaged or incomplete", id="corrupt-png"),
    pytest.param(
        lambda: crafted.png_claiming_size(30_000, 30_000),
        "megapixels, too large to process",
        id="bomb-png-30000x30000",
    ),
    pytest.param(
        lambda: crafted.jpeg_claiming_size(30_000, 30_000),
        "megapixels, too large to process",
        id="bomb-jpeg-30000x30000",
    ),
    pytest.param(
        lambda: crafted.png_claiming_size(8000, 7500),
        "The image is 8000×7500 pixels (60 megapixels), too large to process",
        id="60-megapixel-png",
    ),
    pytest.param(
        lambda: encode(quadrants((40, 40)), "PNG"),
        "The image is only 40×40 pixels. Upload a photo at least 64 pixels",
        id="40px",
    ),
    pytest.param(
        lambda: encode(quadrants((63, 200)), "JPEG"),
        "The image is only 63×200 pixels",
        id="63px-shorter-side",
    ),
    pytest.param(
        lambda: encode(quadrants((2000, 300)), "JPEG"),
        "The image is a long, narrow strip (2000×300 pixels)",
        id="panorama-strip",
    ),
    pytest.param(lambda: crafted.animated("GIF"), "This is an animated GIF", id="animated-gif"),
    pytest.param(lambda: crafted.animated("WEBP"), "This is an animated WebP", id="animated-webp"),
    pytest.param(lambda: crafted.animated("PNG"), "This is an animated PNG (APNG)", id="apng"),
    pytest.param(lambda: encode(quadrants(), "GIF"), "GIF images are not accepted", id="still-gif"),
    pytest.param(lambda: encode(quadrants(), "BMP"), "BMP images are not accepted", id="bmp"),
    pytest.param(
        lambda: _padded_jpeg(int(1.5 * 1024 * 1024)),
        "The file is 1.5 MB, over the 1 MB limit",
        id="over-a-lowered-limit",
    ),
]


# --- normalise_selfie: refusals ----------------------------------------------------------------


@pytest.mark.parametrize(("build", "message"), REFUSED)
def test_a_bad_file_is_refused_with_a_message_saying_what_is_wrong_and_what_to_do(build, message):
    refusal = _refusal(build(), max_bytes=LOWERED_LIMIT)

    assert message in refusal
    assert WHAT_TO_DO.search(refusal), refusal


def test_an_empty_file_is_refused():
    assert _refusal(b"") == (
        "The file is empty (0 bytes), so there is no photo in it. Choose your photo again."
    )


def test_the_file_type_comes_from_its_bytes_not_its_name():
    upload = SimpleUploadedFile("holiday.jpg", crafted.pdf_document(), "image/jpeg")

    with pytest.raises(SelfieRejected, match="This is a PDF document"):
        normalise_selfie(upload, max_bytes=LIMIT)


def test_the_size_limit_is_checked_before_the_file_is_read(monkeypatch):
    opened = []
    monkeypatch.setattr(Image, "open", lambda *args, **kwargs: opened.append(args))

    refusal = _refusal(_padded_jpeg(LIMIT + 1024 * 1024))

    assert refusal.startswith("The file is 16 MB, over the 15 MB limit.")
    assert opened == []


@pytest.mark.parametrize(
    "bomb",
    [
        pytest.param(lambda: crafted.png_claiming_size(30_000, 30_000), id="png-30000x30000"),
        pytest.param(lambda: crafted.jpeg_claiming_size(30_000, 30_000), id="jpeg-30000x30000"),
        pytest.param(lambda: crafted.png_claiming_size(8000, 7500), id="png-8000x7500"),
    ],
)
def test_a_decompression_bomb_is_refused_from_its_header_without_decoding(bomb, monkeypatch):
    data = bomb()
    decoders = []
    real_getdecoder = Image._getdecoder

    def spy(*args, **kwargs):
        decoders.append(args)
        return real_getdecoder(*args, **kwargs)

    monkeypatch.setattr(Image, "_getdecoder", spy)
    _normalise(_png_photo((100, 100)))  # the spy sees an ordinary decode...
    assert decoders
    decoders.clear()

    refusal = _refusal(data)

    assert len(data) < 2000  # hundreds of bytes that claim up to 900 megapixels
    assert "too large to process. Upload a photo of at most 50 megapixels" in refusal
    assert decoders == []  # ...but never a bomb's: no pixel was decoded


def test_a_plain_file_object_without_a_size_is_measured_by_seeking():
    assert normalise_selfie(io.BytesIO(_jpeg_photo()), max_bytes=LIMIT).width == 800
    with pytest.raises(SelfieRejected, match="over the 1 MB limit"):
        normalise_selfie(io.BytesIO(_padded_jpeg(2 * 1024 * 1024)), max_bytes=LOWERED_LIMIT)


# --- normalise_selfie: awkward real photos -----------------------------------------------------


def test_a_12_megapixel_phone_jpeg_is_decoded_at_half_scale(monkeypatch):
    photo = encode(crafted.phone_photo((4032, 3024)), "JPEG", quality=90)
    decoders = []
    real_getdecoder = Image._getdecoder

    def spy(mode, decoder_name, args, extra=()):
        decoders.append((decoder_name, extra))
        return real_getdecoder(mode, decoder_name, args, extra)

    monkeypatch.setattr(Image, "_getdecoder", spy)

    selfie = _normalise(photo)

    assert decoders == [("jpeg", (2, 0))]  # libjpeg decoded at 1/2 scale (draft), once
    image = _stored(selfie)
    assert (selfie.width, selfie.height) == (2016, 1512)
    assert not selfie.is_small
    left, right = image.getpixel((20, 750)), image.getpixel((1995, 750))
    assert left[0] < 40 < 215 < right[0]  # the gradient survived: red grows left to right


def test_a_12_megapixel_phone_jpeg_taken_upright_comes_out_upright():
    stored, exif = crafted.stored_rotated(quadrants((3024, 4032)), 6)
    assert stored.size == (4032, 3024)  # as the camera's sensor saw it

    image = _stored(_normalise(encode(stored, "JPEG", exif=exif)))

    assert image.size == (1512, 2016)
    _assert_corners(image, [RED, GREEN, BLUE])


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_an_exif_rotated_jpeg_is_stored_upright(orientation):
    stored, exif = crafted.stored_rotated(quadrants(), orientation)

    image = _stored(_normalise(encode(stored, "JPEG", exif=exif, quality=95)))

    assert image.size == (200, 300)
    _assert_corners(image, [RED, GREEN, BLUE])


def test_a_heic_photo_is_accepted_and_its_orientation_applied_once():
    stored, _exif = crafted.stored_rotated(quadrants((600, 900)), 6)
    heic = encode(stored, "HEIF", exif=crafted.gps_exif(orientation=6).tobytes(), quality=90)
    assert heic[4:12] == b"ftypheic"
    assert Image.open(io.BytesIO(heic)).info["original_orientation"] == 6

    selfie = _normalise(heic)

    image = _stored(selfie)
    assert image.size == (600, 900)
    _assert_corners(image, [RED, GREEN, BLUE])


@pytest.mark.parametrize("image_format", ["WEBP", "AVIF", "PNG"])
def test_other_accepted_formats_come_out_as_the_same_picture(image_format):
    image = _stored(_normalise(encode(quadrants(), image_format, quality=95)))

    assert image.size == (200, 300)
    _assert_corners(image, [RED, GREEN, BLUE])


def test_a_multi_picture_jpeg_from_a_camera_is_a_still_photo():
    mpo = encode(quadrants(), "MPO", save_all=True, append_images=[quadrants().rotate(180)])

    image = _stored(_normalise(mpo))

    _assert_corners(image, [RED, GREEN, BLUE])


def test_a_12_megapixel_png_is_halved_like_a_jpeg():
    selfie = _normalise(_png_photo((4032, 3024)))

    _stored(selfie)
    assert (selfie.width, selfie.height) == (2016, 1512)


def test_a_large_png_is_shrunk_to_2048_on_its_longest_side():
    selfie = _normalise(_png_photo((3000, 2000)))

    _stored(selfie)
    assert (selfie.width, selfie.height) == (2048, 1365)


def test_a_cmyk_jpeg_keeps_its_colours():
    cmyk = quadrants().convert("CMYK")
    assert cmyk.getpixel((50, 75)) == (0, 255, 255, 0)  # red, as ink

    image = _stored(_normalise(encode(cmyk, "JPEG", quality=95)))

    _assert_corners(image, [RED, GREEN, BLUE])


def test_an_icc_tagged_photo_is_converted_to_srgb_through_its_profile():
    # The profile says this file's "red" channel is sRGB green: read correctly, red is green.
    tagged = encode(
        quadrants(), "JPEG", quality=95, icc_profile=crafted.swapped_primaries_profile()
    )

    image = _stored(_normalise(tagged))

    _assert_corners(image, [GREEN, RED, BLUE])


def test_a_photo_with_a_broken_icc_profile_is_still_accepted_as_is():
    tagged = encode(quadrants(), "JPEG", quality=95, icc_profile=b"not a profile" * 20)

    image = _stored(_normalise(tagged))

    _assert_corners(image, [RED, GREEN, BLUE])


def test_a_grayscale_photo_becomes_grey_rgb():
    image = _stored(_normalise(encode(quadrants().convert("L"), "JPEG", quality=95)))

    for colour, expected in zip(
        corner_colours(image), [76, 150, 29], strict=True
    ):  # luma of red, green, blue
        assert max(colour) - min(colour) <= 2
        assert abs(colour[0] - expected) <= 6


def test_a_16_bit_grayscale_png_keeps_its_tones_instead_of_clipping_to_white():
    ramp = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (128, 1))
    png = encode(Image.fromarray(ramp), "PNG")
    assert Image.open(io.BytesIO(png)).mode == "I;16"

    image = _stored(_normalise(png))

    dark, middle, light = (image.getpixel((x, 64)) for x in (8, 128, 247))
    assert dark[0] < 20
    assert 118 < middle[0] < 138
    assert light[0] > 235


def test_a_palette_png_with_transparency_is_flattened_onto_white():
    palette = quadrants().convert("P")
    palette.info["transparency"] = palette.getpixel((50, 75))  # the red quarter is see-through
    png = encode(palette, "PNG")
    assert Image.open(io.BytesIO(png)).mode == "P"

    image = _stored(_normalise(png))

    _assert_corners(image, [WHITE, GREEN, BLUE])


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_alpha_is_flattened_onto_white(mode):
    picture = quadrants().convert("RGBA")
    alpha = Image.new("L", picture.size, 255)
    alpha.paste(0, (0, 0, 100, 150))  # the top-left quarter is transparent
    alpha.paste(128, (100, 0, 200, 150))  # the top-right quarter half transparent
    picture.putalpha(alpha)

    image = _stored(_normalise(encode(picture.convert(mode), "PNG")))

    top_left, top_right, bottom = corner_colours(image)
    assert close_to(top_left, WHITE, tolerance=4)
    if mode == "RGBA":
        assert close_to(top_right, (127, 255, 127), tolerance=8)  # half green over white
        assert close_to(bottom, BLUE)
    else:
        assert close_to(top_right, (202, 202, 202), tolerance=8)  # half green's luma on white
        assert close_to(bottom, (29, 29, 29))


@pytest.mark.parametrize(
    ("size", "is_small"),
    [((64, 64), True), ((300, 200), True), ((511, 700), True), ((512, 700), False)],
)
def test_a_small_photo_is_accepted_and_flagged_small(size, is_small):
    selfie = _normalise(encode(quadrants(size), "JPEG"))

    _stored(selfie)
    assert (selfie.width, selfie.height) == size
    assert selfie.is_small is is_small


def test_gps_xmp_and_icc_metadata_are_stripped():
    tagged = encode(
        quadrants(),
        "JPEG",
        exif=crafted.gps_exif(),
        xmp=crafted.XMP_PACKET,
        icc_profile=crafted.swapped_primaries_profile(),
    )
    original = Image.open(io.BytesIO(tagged))
    assert original.getexif().get_ifd(0x8825)[2] == (51.0, 30.0, 26.0)  # the GPS is really in it
    assert {"exif", "xmp", "icc_profile"} <= set(original.info)

    selfie = _normalise(tagged)

    _stored(selfie)  # no EXIF at all, no XMP, no ICC
    assert b"PhoneMaker" not in selfie.jpeg
    assert b"GPSLatitude" not in selfie.jpeg


# --- through the browser form ------------------------------------------------------------------


def _form(data, name="selfie.jpg"):
    return {
        "face_image": SimpleUploadedFile(name, data, "image/jpeg"),
        "prompt": "slender frame, tall",
        "aspect_ratio": "3:4",
        "seed": "1234",
        "output_format": "jpeg",
        "consent": "on",
    }


def _assert_refused_and_nothing_kept(response, message, media_root):
    page = response.content.decode()
    assert response.status_code == 200
    assert escape(message) in page
    assert 'value="slender frame, tall"' in page  # the other choices are kept
    assert 'value="1234"' in page
    assert re.search(r'value="3:4"[^>]*checked', page)
    assert not AvatarJob.objects.exists()
    assert not [path for path in media_root.rglob("*") if path.is_file()]


@pytest.mark.django_db
@pytest.mark.parametrize(("build", "message"), REFUSED)
def test_the_upload_form_refuses_a_bad_file_and_stores_nothing(
    build, message, client, alice, media_root, settings
):
    settings.SELFIE_MAX_UPLOAD_BYTES = LOWERED_LIMIT
    client.force_login(alice)

    response = client.post(reverse("avatars:upload"), _form(build()))

    _assert_refused_and_nothing_kept(response, message, media_root)


@pytest.mark.django_db
def test_the_upload_form_refuses_an_empty_file(client, alice, media_root):
    client.force_login(alice)

    response = client.post(reverse("avatars:upload"), _form(b""))

    # Django's file field answers before our check does; either way the page says it is empty.
    _assert_refused_and_nothing_kept(response, "file is empty", media_root)


@pytest.mark.django_db
def test_the_upload_form_refuses_a_real_16_mb_upload_without_decoding_it(
    client, alice, media_root, monkeypatch
):
    opened = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda *a, **k: opened.append(a) or real_open(*a, **k))
    client.force_login(alice)

    response = client.post(reverse("avatars:upload"), _form(_padded_jpeg(16 * 1024 * 1024)))

    _assert_refused_and_nothing_kept(
        response, "The file is 16 MB, over the 15 MB limit.", media_root
    )
    assert opened == []  # refused on its size alone: Pillow never saw it


@pytest.mark.django_db
def test_a_small_photo_is_accepted_with_a_note_that_it_may_look_soft(
    client, alice, django_capture_on_commit_callbacks
):
    client.force_login(alice)

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            reverse("avatars:upload"), _form(encode(quadrants((300, 400)), "JPEG")), follow=True
        )

    job = AvatarJob.objects.get()
    assert response.redirect_chain[-1][0] == reverse("avatars:job", args=[job.pk])
    assert "may look soft" in response.content.decode()


@pytest.mark.django_db
def test_a_full_size_photo_gets_no_softness_note(client, alice, django_capture_on_commit_callbacks):
    client.force_login(alice)

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("avatars:upload"), _form(_jpeg_photo()), follow=True)

    assert AvatarJob.objects.count() == 1
    assert "may look soft" not in response.content.decode()


@pytest.mark.django_db
def test_an_upright_heic_with_gps_is_stored_as_a_clean_upright_jpeg(
    client, alice, django_capture_on_commit_callbacks
):
    stored, _exif = crafted.stored_rotated(quadrants((600, 900)), 6)
    heic = encode(stored, "HEIF", exif=crafted.gps_exif(orientation=6).tobytes())
    client.force_login(alice)

    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("avatars:upload"), _form(heic, name="IMG_0001.HEIC"))
    job = AvatarJob.objects.get()
    # Kept as received until the pipeline's first step normalises it (test_heic_intake.py).
    received_selfies.normalise_received(job)

    with job.selfie.open("rb") as selfie_file:
        data = selfie_file.read()
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    assert image.size == (600, 900)
    assert not image.getexif()
    assert b"Exif\x00\x00" not in data
    assert close_to(corner_colours(image.convert("RGB"))[0], RED)
