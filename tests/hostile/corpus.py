"""The hostile-input corpus: crafted files, each with what the app must do with it.

Every entry is built in memory (``tests/support/crafted.py`` holds the builders shared with the
intake tests). ``refused`` entries name words the refusal must contain, so that each gets its
own specific message; ``accepted`` entries must come out as a clean JPEG.
"""

import struct
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..support import crafted
from ..support.faces import astronaut_jpeg


@dataclass(frozen=True)
class Case:
    name: str
    build: object  # () -> bytes
    filename: str = "selfie.jpg"
    refused: str = ""  # words of the refusal message; empty: accepted and normalised
    content_type: str = "image/jpeg"

    @property
    def accepted(self):
        return not self.refused


def _photo(size=(640, 800)):
    return crafted.quadrants(size)


def _jpeg(**options):
    return crafted.encode(_photo(), "JPEG", quality=90, **options)


def _png_with_chunk(kind, body):
    data = crafted.encode(_photo((200, 300)), "PNG")
    end = data.rindex(b"IEND") - 4  # before IEND's length field
    return data[:end] + crafted._png_chunk(kind, body) + data[end:]


def _png_text_bomb():
    # A compressed text chunk that inflates to 200 MB: Pillow must not inflate it all.
    inflated = zlib.compress(b"\x00" * (200 * 1024 * 1024), 9)
    return _png_with_chunk(b"zTXt", b"Comment\x00\x00" + inflated)


def _jpeg_with_trailing_html():
    # A polyglot: a valid JPEG, then a web page after its end marker.
    return _jpeg() + b"<html><script>alert(document.cookie)</script></html>"


def _jpeg_with_huge_comment():
    data = _jpeg()
    comment = b"A" * 65_000
    segment = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
    return data[:2] + segment * 20 + data[2:]


def _truncated(data, keep=0.5):
    return data[: int(len(data) * keep)]


def _cmyk_jpeg():
    return crafted.encode(_photo().convert("CMYK"), "JPEG", quality=90)


def _sixteen_bit_png():
    image = Image.fromarray(np.asarray(_photo().convert("L"), dtype="uint16") * 257)
    return crafted.encode(image, "PNG")


def _rgba_png():
    image = _photo().convert("RGBA")
    image.putalpha(128)
    return crafted.encode(image, "PNG")


def _palette_png():
    return crafted.encode(_photo().convert("P", palette=Image.Palette.ADAPTIVE), "PNG")


def _still_gif():
    return crafted.encode(_photo().convert("P"), "GIF")


def _webp():
    return crafted.encode(_photo(), "WEBP", quality=85)


def _heic():
    return crafted.encode(_photo(), "HEIF", quality=80)


def _oriented_jpeg():
    stored, _orientation = crafted.stored_rotated(_photo(), 6)
    return crafted.encode(stored, "JPEG", exif=crafted.gps_exif(orientation=6).tobytes())


def _swapped_icc_jpeg():
    return crafted.encode(_photo(), "JPEG", icc_profile=crafted.swapped_primaries_profile())


def _bmp():
    return crafted.encode(_photo(), "BMP")


def _tiff():
    return crafted.encode(_photo(), "TIFF")


def _ico():
    return crafted.encode(_photo((64, 64)), "ICO")


def _psd_header():
    return b"8BPS\x00\x01" + b"\x00" * 6 + struct.pack(">HIIHH", 3, 600, 400, 8, 3) + b"\x00" * 64


def _text():
    return b"Just some notes, not a photo.\n" * 20


def _xml():
    return b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'


def _nul_bytes():
    return b"\x00" * 4096


CASES = [
    # Not images at all
    Case("empty file", lambda: b"", refused="empty"),
    Case("random bytes", crafted.random_bytes, refused="not an image we can read"),
    Case("NUL bytes", _nul_bytes, refused="not an image we can read"),
    Case("PDF renamed .jpg", crafted.pdf_document, refused="PDF"),
    Case("ZIP renamed .jpg", crafted.zip_archive, refused="ZIP archive"),
    Case("SVG with a script", crafted.svg_drawing, refused="SVG drawing"),
    Case("HTML page renamed .jpg", crafted.html_page, refused="web page"),
    Case("XML with an entity", _xml, refused="XML file"),
    Case("plain text", _text, refused="text file"),
    Case("MP4 video header", crafted.video_header, refused="video"),
    # Images we do not take
    Case("animated GIF", lambda: crafted.animated("GIF"), refused="animated GIF"),
    Case("animated PNG (APNG)", lambda: crafted.animated("PNG"), refused="animated PNG"),
    Case("animated WebP", lambda: crafted.animated("WEBP"), refused="animated WebP"),
    Case("BMP", _bmp, filename="selfie.bmp", refused="BMP images are not accepted"),
    Case("TIFF", _tiff, filename="selfie.tif", refused="TIFF images are not accepted"),
    Case("ICO", _ico, filename="selfie.ico", refused="ICO images are not accepted"),
    Case("Photoshop header", _psd_header, refused="Photoshop images are not accepted"),
    # Bombs and broken files
    Case(
        "PNG claiming 100000x100000",
        lambda: crafted.png_claiming_size(100_000, 100_000),
        refused="megapixels",
    ),  # fmt: skip
    Case(
        "JPEG claiming 60000x60000",
        lambda: crafted.jpeg_claiming_size(60_000, 60_000),
        refused="megapixels",
    ),  # fmt: skip
    Case("PNG with noise for pixels", crafted.corrupt_png, refused="damaged"),
    Case("JPEG with noise for pixels", crafted.corrupt_jpeg, refused="damaged"),
    Case("JPEG cut in half", lambda: _truncated(_jpeg()), refused="damaged"),
    Case("PNG cut in half", lambda: _truncated(crafted.encode(_photo(), "PNG")), refused="damaged"),
    Case("PNG with a 200 MB text bomb", _png_text_bomb, refused="damaged"),
    Case("32x32 thumbnail", lambda: crafted.encode(_photo((32, 32)), "JPEG"), refused="only 32×32"),
    Case("2000x70 strip", lambda: crafted.encode(_photo((2000, 70)), "JPEG"), refused="strip"),
    # Awkward but real photos: accepted and normalised
    Case("JPEG + HTML polyglot", _jpeg_with_trailing_html),
    Case("JPEG with 1.3 MB of comments", _jpeg_with_huge_comment),
    Case("JPEG with GPS and orientation 6", _oriented_jpeg),
    Case("JPEG with swapped ICC primaries", _swapped_icc_jpeg),
    Case("CMYK JPEG", _cmyk_jpeg),
    Case("16-bit greyscale PNG", _sixteen_bit_png, filename="selfie.png"),
    Case("half-transparent PNG", _rgba_png, filename="selfie.png"),
    Case("palette PNG", _palette_png, filename="selfie.png"),
    Case("still WebP", _webp, filename="selfie.webp"),
    Case("HEIC", _heic, filename="selfie.heic"),
    Case("still GIF", _still_gif, filename="selfie.gif", refused="GIF images are not accepted"),
    Case("path traversal file name", _jpeg, filename="../../../etc/passwd.jpg"),
    Case("300-character unicode file name", _jpeg, filename="ü" * 300 + ".jpg"),
    Case("real photo named .pdf", lambda: astronaut_jpeg(), filename="cv.pdf"),
    Case("PNG sent as image/jpeg", lambda: crafted.encode(_photo(), "PNG")),
]
