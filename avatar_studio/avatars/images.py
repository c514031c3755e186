"""Selfie intake: check an uploaded file is a usable photo, and normalise it.

Every accepted selfie leaves here as a clean RGB JPEG in sRGB, upright (EXIF orientation
applied), its longest side capped, with all metadata (EXIF with GPS, ICC, XMP) dropped, so that
what we store and what we send to FASHN is the same small, private file. Anything else is refused
with a message that says what is wrong and what to do, before anything is stored.

The checks run cheapest first, and nothing is decoded until the header has passed:

1. the byte size (empty, over the limit), without reading the file;
2. the first bytes: what the file really is (a PDF, ZIP, SVG, web page, text, video, or an image
   format we do not take), whatever its name says;
3. the header, read by Pillow's plugin for that format only: unreadable means damaged;
4. the pixel count from the header (a decompression bomb is refused here, never decoded);
5. animation (GIF, APNG, animated WebP), then a still GIF's format;
6. the shape: at least 64 px on the shorter side, not a long strip;
7. for JPEG, that its segments chain to the end marker (libjpeg would paint garbage grey);
8. decoding (JPEG at a reduced DCT scale when large): a truncated or corrupt body fails here.

The upload doors call ``check_selfie``, which does all of that except for HEIC: libheif decodes
only at full size (most of a second for a 12 MP photo, several on a busy host), so a HEIC is
checked in the request without decoding (container and coded data, ``heic_stream``) and comes
back as a ``ReceivedHeic``; ``received_selfies`` normalises it before anything uses it.

Then: 16-bit, palette and alpha modes made resizable, shrink to at most 2048 px, ICC profile to
sRGB (or a plain conversion, CMYK included), alpha onto white, EXIF orientation, JPEG.
"""

import io
import json
import logging
from contextlib import contextmanager
from dataclasses import dataclass

from PIL import Image, ImageCms
from pillow_heif import register_heif_opener

from . import heic_stream

register_heif_opener()

logger = logging.getLogger(__name__)

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "HEIF", "AVIF"}
MAX_PIXELS = 50_000_000  # checked from the header, before decoding
MIN_SIDE = 64
SMALL_SIDE = 512  # below this the avatar may look soft: the user is told
MAX_SIDE = 2048
MAX_ASPECT = 4  # longer side / shorter side; beyond this it is a strip, not a selfie
# A large photo is first shrunk by a power of two: free for JPEG (DCT scaling while decoding), a
# fast box filter for the rest, instead of a slow full-size Lanczos pass. We take the largest
# factor that keeps the longest side at least this long, so a 4032x3024 phone photo becomes
# 2016x1512 whatever its format.
REDUCED_MIN_SIDE = MAX_SIDE * 7 // 8
SNIFF_BYTES = 2048

UPLOAD_ADVICE = "Upload a JPEG, PNG, WebP or HEIC photo of your face."
EMPTY_FILE = "The file is empty (0 bytes), so there is no photo in it. Choose your photo again."
UNREADABLE = f"This file is not an image we can read. {UPLOAD_ADVICE}"
_DAMAGED = (
    "This {kind} file is damaged or incomplete (it may have been cut short while copying or "
    "uploading). Export the photo again from your phone or photo app and upload the new file."
)
_TOO_LARGE = (
    "The image is {size}, too large to process. Upload a photo of at most 50 megapixels, such "
    "as one straight from a phone camera."
)
_NOT_A_PHOTO = {
    "PDF": "This is a PDF document, not a photo.",
    "ZIP": "This is a ZIP archive (or an Office document), not a photo.",
    "SVG": "This is an SVG drawing, not a photo.",
    "HTML": "This is a web page (HTML), not a photo.",
    "XML": "This is an XML file, not a photo.",
    "TEXT": "This is a text file, not a photo.",
    "VIDEO": "This is a video, not a photo.",
}
_OTHER_IMAGES = {"GIF": "GIF", "BMP": "BMP", "TIFF": "TIFF", "ICO": "ICO", "PSD": "Photoshop"}
_ANIMATED = {
    "GIF": "an animated GIF",
    "PNG": "an animated PNG (APNG)",
    "WEBP": "an animated WebP",
    "AVIF": "an animated AVIF",
}
_HEVC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
_AVIF_BRANDS = {b"avif", b"avis"}
_STILL_BRANDS = {b"mif1", b"msf1"}  # generic HEIF: HEVC unless an AVIF brand says otherwise
_ORIENTATION = {  # EXIF orientation -> the transpose that makes the image upright
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SRGB = ImageCms.createProfile("sRGB")


DAMAGED_HEIC = _DAMAGED.format(kind="HEIC")


class SelfieRejected(ValueError):
    """The file cannot be used as a selfie; the message says why and what to do."""


class _SelfieSize:
    @property
    def is_small(self):
        return min(self.width, self.height) < SMALL_SIDE

    @property
    def small_photo_warning(self):
        """What to tell the owner of a small photo (every door shows these words)."""
        return (
            f"Your photo is small ({self.width}×{self.height} pixels), so the avatar may look "
            f"soft. A photo of {SMALL_SIDE} pixels or more gives a sharper result."
        )


@dataclass(frozen=True)
class NormalisedSelfie(_SelfieSize):
    jpeg: bytes
    width: int
    height: int

    file_name = "selfie.jpg"

    @property
    def content(self):
        return self.jpeg


@dataclass(frozen=True)
class ReceivedHeic(_SelfieSize):
    """A HEIC that passed every check but the decode, kept as received (with its metadata) only
    until ``received_selfies`` replaces it with its ``NormalisedSelfie``. The size is the
    header's, upright."""

    heic: bytes
    width: int
    height: int

    file_name = "selfie.heic"

    @property
    def content(self):
        return self.heic


def check_selfie(file, *, max_bytes):
    """What an upload door keeps: a ``NormalisedSelfie``, or for HEIC a ``ReceivedHeic`` checked
    without decoding. Raises SelfieRejected with the same messages as ``normalise_selfie``."""
    kind, image = _open_checked(file, max_bytes)
    if kind != "HEIF":
        return _decoded(file, kind, image)
    with image:
        with _reading(kind):
            file.seek(0)
            heic = file.read()
            if not heic_stream.coded_pictures_end_cleanly(heic):
                raise OSError("the HEIC's coded pictures do not chain to the end of their data")
        return ReceivedHeic(heic=heic, width=image.width, height=image.height)


def normalise_selfie(file, *, max_bytes):
    """Validate and normalise an uploaded selfie (a file object). Raises SelfieRejected."""
    kind, image = _open_checked(file, max_bytes)
    return _decoded(file, kind, image)


def _open_checked(file, max_bytes):
    """Checks 1 to 6: the kind and the image, opened (its header read) but not decoded."""
    _check_size(file, max_bytes)
    kind = _check_kind(file)
    with _reading(kind):
        image = Image.open(file, formats=[kind])  # the header only, by that format's plugin
    try:
        with _reading(kind):
            _check_header(image, kind)
    except SelfieRejected:
        image.close()
        raise
    return kind, image


def _decoded(file, kind, image):
    with image:
        with _reading(kind):
            if kind == "JPEG":
                _check_jpeg_stream(file)
                _draft(image)
            image.load()  # truncated or corrupt data shows up only now
        return _normalise(image)


def _check_size(file, max_bytes):
    size = getattr(file, "size", None)
    if size is None:  # a plain file object: measure it without reading it
        size = file.seek(0, io.SEEK_END)
    if size == 0:
        raise SelfieRejected(EMPTY_FILE)
    if size > max_bytes:
        raise SelfieRejected(_too_large_file(max_bytes).format(size=megabytes(size)))


def _too_large_file(max_bytes):
    return (
        f"The file is {{size}} MB, over the {megabytes(max_bytes)} MB limit. Upload a smaller "
        "photo: most phones can share or export a photo at a smaller size."
    )


# What a browser calls the files we refuse (the MIME type it guesses from the name), mapped to
# our kinds; a key ending in "/" covers its whole family.
_KIND_OF_BROWSER_TYPE = {
    "text/html": "HTML",
    "image/svg+xml": "SVG",
    "text/xml": "XML",
    "application/xml": "XML",
    "application/pdf": "PDF",
    "application/zip": "ZIP",
    "application/x-zip-compressed": "ZIP",
    "text/": "TEXT",
    "video/": "VIDEO",
    "image/gif": "GIF",
    "image/bmp": "BMP",
    "image/tiff": "TIFF",
    "image/x-icon": "ICO",
    "image/vnd.microsoft.icon": "ICO",
    "image/vnd.adobe.photoshop": "PSD",
}


def browser_checks(max_bytes):
    """The size limit and refusals a browser can apply to a chosen file before sending it, in
    this module's words, as the file input's data- attributes (upload.js reads them). The
    server still checks everything: a browser only knows a file's size and what its name
    suggests."""
    refusals = {
        browser_type: _not_accepted(kind)
        if kind in _OTHER_IMAGES
        else f"{_NOT_A_PHOTO[kind]} {UPLOAD_ADVICE}"
        for browser_type, kind in _KIND_OF_BROWSER_TYPE.items()
    }
    return {
        "data-max-bytes": str(max_bytes),
        "data-too-large": _too_large_file(max_bytes),
        "data-empty": EMPTY_FILE,
        "data-refusals": json.dumps(refusals, ensure_ascii=False),
        "data-unreadable": UNREADABLE,
    }


def _check_kind(file):
    """What the file is, from its first bytes and whatever its name says; refuse all but images
    we accept (and GIF, opened to tell an animation apart)."""
    file.seek(0)
    kind = _sniff(file.read(SNIFF_BYTES))
    file.seek(0)
    if kind in _NOT_A_PHOTO:
        raise SelfieRejected(f"{_NOT_A_PHOTO[kind]} {UPLOAD_ADVICE}")
    if kind in _OTHER_IMAGES and kind != "GIF":
        raise SelfieRejected(_not_accepted(kind))
    if kind is None:
        raise SelfieRejected(UNREADABLE)
    return kind


@contextmanager
def _reading(kind):
    """Pillow's plugins raise OSError, SyntaxError, struct.error... on bad data: all mean the
    file is damaged. Our own refusals pass through."""
    try:
        yield
    except SelfieRejected:
        raise
    except Image.DecompressionBombError:  # Pillow's own ceiling, far above ours
        ceiling = 2 * (Image.MAX_IMAGE_PIXELS or 0) / 1e6
        raise SelfieRejected(_TOO_LARGE.format(size=f"over {ceiling:.0f} megapixels")) from None
    except Exception as error:
        logger.info("Selfie unreadable as %s: %r", kind, error)
        raise SelfieRejected(_DAMAGED.format(kind=_label(kind))) from None


def _check_header(image, kind):
    width, height = image.size
    if width * height > MAX_PIXELS:
        megapixels = width * height / 1e6
        raise SelfieRejected(
            _TOO_LARGE.format(size=f"{width}×{height} pixels ({megapixels:.0f} megapixels)")
        )
    # Not asked of JPEG (a multi-picture MPO from a camera is a still photo) nor of HEIF (extra
    # top-level images are bursts or edits; the primary one is the photo).
    if kind in _ANIMATED and image.is_animated:
        raise SelfieRejected(f"This is {_ANIMATED[kind]}. Upload a still photo instead.")
    if kind not in ACCEPTED_FORMATS:
        raise SelfieRejected(_not_accepted(kind))
    if min(width, height) < MIN_SIDE:
        raise SelfieRejected(
            f"The image is only {width}×{height} pixels. Upload a photo at least {MIN_SIDE} "
            f"pixels on its shorter side (512 or more looks best)."
        )
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise SelfieRejected(
            f"The image is a long, narrow strip ({width}×{height} pixels). Crop it to your "
            "head and shoulders and upload it again."
        )


def _reduction(size):
    factor = 1
    while factor < 8 and max(size) // (factor * 2) >= REDUCED_MIN_SIDE:
        factor *= 2
    return factor


def _draft(image):
    factor = _reduction(image.size)
    if factor > 1:  # asking for exactly size // factor makes Pillow pick that DCT scale
        image.draft(None, (image.width // factor, image.height // factor))


def _check_jpeg_stream(file):
    file.seek(0)
    if not _jpeg_segments_end_cleanly(file.read()):
        raise OSError("the JPEG's segments do not chain from start to end")


def _jpeg_segments_end_cleanly(data):
    """True if the JPEG's segments chain to an end-of-image marker through valid markers only.

    libjpeg quietly paints corrupt or missing compressed data grey, so a header followed by
    garbage would "decode". Garbage shows up here as a reserved marker code or a missing end.
    (bytes.find keeps this to a few ms for a 12 MP photo; a regex took ten times longer.)
    """
    position = 2  # after SOI
    while (position := data.find(b"\xff", position) + 1) > 0:
        while data[position : position + 1] == b"\xff":  # fill bytes before a marker
            position += 1
        if position >= len(data):  # cut short
            return False
        code = data[position]
        if code == 0x00 or 0xD0 <= code <= 0xD7:  # a stuffed FF or a restart inside the data
            continue
        if code == 0xD9:  # EOI; anything after it (MPO frames, motion-photo video) is not ours
            return True
        if code < 0xC0 or code == 0xD8:  # reserved codes, or a second SOI
            return False
        # Every other marker carries a length; skipping it also skips EXIF thumbnails.
        position += 1 + int.from_bytes(data[position + 1 : position + 3], "big")
    return False


def _normalise(image):
    orientation = image.getexif().get(0x0112, 1)  # pillow-heif has already applied its own
    icc_profile = image.info.get("icc_profile")
    image = _resizable(image)
    if (factor := _reduction(image.size)) > 1:  # a JPEG arrives here already reduced
        image = image.reduce(factor)
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)  # shrink before colour work
    image = _to_srgb(image, icc_profile)
    if orientation in _ORIENTATION:
        image = image.transpose(_ORIENTATION[orientation])
    image.info.clear()  # nothing of the original's metadata may reach the JPEG
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, optimize=True)
    return NormalisedSelfie(jpeg=buffer.getvalue(), width=image.width, height=image.height)


def _resizable(image):
    """Bring odd modes to ones that resize and convert well, keeping any transparency."""
    if image.mode in ("I;16", "I;16L", "I;16B", "I"):
        # 16-bit grey: scale to 8 bits (a plain convert("L") would clip nearly all to white)
        return image.point(lambda value: value / 256).convert("L")
    if image.mode in ("P", "PA", "1") or "transparency" in image.info:
        has_alpha = image.mode == "PA" or "transparency" in image.info
        return image.convert("RGBA" if has_alpha else "RGB")
    return image


def _to_srgb(image, icc_profile):
    """RGB in sRGB: through the embedded ICC profile when there is one, alpha on white."""
    if icc_profile and image.mode in ("RGB", "RGBA", "CMYK", "L"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            output_mode = "RGBA" if image.mode == "RGBA" else "RGB"
            image = ImageCms.profileToProfile(image, source, _SRGB, outputMode=output_mode)
        except (OSError, ValueError, ImageCms.PyCMSError) as error:
            # A broken profile, or one that does not fit the pixels: the plain conversion below
            # is still a fair picture, so the photo is not refused for it.
            logger.info("Selfie ICC profile ignored: %r", error)
    if image.mode in ("RGBA", "LA"):
        rgba = image.convert("RGBA") if image.mode == "LA" else image
        flat = Image.new("RGB", image.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image if image.mode == "RGB" else image.convert("RGB")


def _sniff(head):
    """What the first bytes say the file is: an image format Pillow names, or another kind."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp":  # ISO media: HEIC, AVIF, or a video (MP4, MOV)
        box_end = min(int.from_bytes(head[:4], "big"), len(head))
        brands = {head[8:12]} | {head[i : i + 4] for i in range(16, box_end - 3, 4)}
        if brands & _HEVC_BRANDS:
            return "HEIF"
        if brands & _AVIF_BRANDS:
            return "AVIF"
        return "HEIF" if brands & _STILL_BRANDS else "VIDEO"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head.startswith(b"BM"):
        return "BMP"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head.startswith(b"\x00\x00\x01\x00"):
        return "ICO"
    if head.startswith(b"8BPS"):
        return "PSD"
    if head.startswith(b"%PDF-"):
        return "PDF"
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "ZIP"
    return _sniff_text(head)


def _sniff_text(head):
    text = head.decode("utf-8", errors="replace")
    if "\x00" in text or text.count("\ufffd") > 3:  # binary: nothing we know
        return None
    start = text.lstrip("\ufeff \t\r\n").lower()
    if "<svg" in start:
        return "SVG"
    if any(tag in start for tag in ("<!doctype html", "<html", "<body")):
        return "HTML"
    return "XML" if start.startswith("<?xml") else "TEXT"


def _not_accepted(kind):
    return (
        f"{_OTHER_IMAGES[kind]} images are not accepted. Save the photo as JPEG (or PNG) and "
        "upload it again."
    )


def _label(kind):
    return {"WEBP": "WebP", "HEIF": "HEIC"}.get(kind, kind)


def megabytes(size):
    return f"{size / 1_048_576:.1f}".removesuffix(".0")
