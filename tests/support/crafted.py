"""Files made on the spot for selfie intake tests: awkward real photos and hostile uploads.

Nothing here is read from disk: every photo, document, bomb and ICC profile is built in memory.
"""

import io
import struct
import zipfile
import zlib

import numpy as np
from PIL import Image

# An upright test picture: red top-left, green top-right, blue bottom half. Any wrong rotation
# or mirror moves a colour to the wrong corner.
RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)

# sRGB's primaries adapted to D50, as an ICC matrix profile states them.
SRGB_RED_XYZ = (0.4361, 0.2225, 0.0139)
SRGB_GREEN_XYZ = (0.3851, 0.7169, 0.0971)
SRGB_BLUE_XYZ = (0.1431, 0.0606, 0.7141)
D50 = (0.9642, 1.0, 0.8249)

# The transpose that stores an upright picture so that EXIF orientation N shows it upright.
STORED_FOR_ORIENTATION = {
    3: Image.Transpose.ROTATE_180,
    6: Image.Transpose.ROTATE_90,
    8: Image.Transpose.ROTATE_270,
}


def encode(image, image_format, **options):
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def quadrants(size=(200, 300)):
    """The upright test picture (portrait by default)."""
    width, height = size
    image = Image.new("RGB", size, BLUE)
    image.paste(RED, (0, 0, width // 2, height // 2))
    image.paste(GREEN, (width // 2, 0, width, height // 2))
    return image


def corner_colours(image):
    """The colours at the middle of the top-left, top-right and bottom quarters."""
    width, height = image.size
    return [
        image.getpixel((width // 4, height // 4)),
        image.getpixel((3 * width // 4, height // 4)),
        image.getpixel((width // 2, 3 * height // 4)),
    ]


def close_to(actual, expected, tolerance=40):
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def stored_rotated(upright, orientation):
    """The pixels a camera stores for an upright scene, tagged with EXIF orientation."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    return upright.transpose(STORED_FOR_ORIENTATION[orientation]), exif


def phone_photo(size=(4032, 3024)):
    """A photo-like picture (smooth gradients with grain) at phone-camera size, built fast."""
    width, height = size
    across = np.arange(width, dtype=np.uint32) * 240 // width
    down = np.arange(height, dtype=np.uint32)[:, None] * 240 // height
    pixels = np.empty((height, width, 3), np.uint8)
    pixels[..., 0] = across
    pixels[..., 1] = down
    pixels[..., 2] = (across + down) // 2
    grain = np.random.default_rng(7).integers(0, 16, (64, 64, 3), dtype=np.uint8)
    pixels += np.tile(grain, (height // 64 + 1, width // 64 + 1, 1))[:height, :width]
    return Image.fromarray(pixels)


def gps_exif(orientation=None):
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 26.0), 3: "W", 4: (0.0, 7.0, 39.0)}  # GPS IFD
    if orientation:
        exif[0x0112] = orientation
    return exif


XMP_PACKET = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="51,30.4N"/>'
    b"</rdf:RDF></x:xmpmeta>"
)


def animated(image_format, frames=3, size=(120, 120)):
    images = [Image.new("RGB", size, colour) for colour in (RED, GREEN, BLUE)[:frames]]
    return encode(images[0], image_format, save_all=True, append_images=images[1:], duration=100)


# --- hostile or broken files -------------------------------------------------------------------


def _png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_claiming_size(width, height):
    """A valid PNG of a few hundred bytes whose header claims width x height RGB pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = b"\x00" + b"\x80" * (3 * min(width, 64))  # a few real rows, then the file ends
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(row * 4))
        + _png_chunk(b"IEND", b"")
    )


def jpeg_claiming_size(width, height):
    """A small real JPEG whose frame header (SOF0) is patched to claim width x height."""
    data = bytearray(encode(Image.new("RGB", (64, 64), "grey"), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def corrupt_png():
    """A correct PNG signature and header, then an image-data chunk full of noise."""
    header = struct.pack(">IIBBBBB", 640, 480, 8, 2, 0, 0, 0)
    noise = np.random.default_rng(3).integers(0, 256, 20_000, dtype=np.uint8).tobytes()
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", noise)
        + _png_chunk(b"IEND", b"")
    )


def corrupt_jpeg():
    """A JPEG's real headers up to the scan, then noise where the compressed pixels belong."""
    data = encode(phone_photo((640, 480)), "JPEG")
    scan = data.index(b"\xff\xda")
    scan_header_length = struct.unpack(">H", data[scan + 2 : scan + 4])[0]
    noise = np.random.default_rng(4).integers(0, 256, 30_000, dtype=np.uint8).tobytes()
    return data[: scan + 2 + scan_header_length] + noise


def random_bytes(count=50_000):
    return np.random.default_rng(5).integers(0, 256, count, dtype=np.uint8).tobytes()


def pdf_document():
    return (
        b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
        b"trailer << /Root 1 0 R >>\n%%EOF\n"
    )


def svg_drawing():
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512">'
        b'<circle cx="256" cy="256" r="200" fill="peachpuff"/></svg>\n'
    )


def html_page():
    return (
        b"<!DOCTYPE html>\n<html><head><title>My selfie</title></head>"
        b'<body><img src="selfie.jpg"></body></html>\n'
    )


def zip_archive():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("selfie.jpg", encode(quadrants(), "JPEG"))
    return buffer.getvalue()


def video_header():
    """The start of an MP4 file: an ISO media 'ftyp' box with video brands."""
    return struct.pack(">I", 24) + b"ftypisom" + b"\x00\x00\x02\x00" + b"isomiso2" + b"\x00" * 64


# --- ICC profiles ------------------------------------------------------------------------------


def _s15(value):
    return struct.pack(">i", round(value * 65536))


def _xyz_tag(x, y, z):
    return b"XYZ \x00\x00\x00\x00" + _s15(x) + _s15(y) + _s15(z)


def rgb_icc_profile(red, green, blue, gamma=2.2, description="Test RGB"):
    """A minimal ICC v2 matrix/TRC display profile with the given primaries (XYZ, D50)."""
    text = description.encode() + b"\x00"
    tags = [
        (b"desc", b"desc\x00\x00\x00\x00" + struct.pack(">I", len(text)) + text + b"\x00" * 78),
        (b"cprt", b"text\x00\x00\x00\x00No copyright\x00"),
        (b"wtpt", _xyz_tag(*D50)),
        (b"rXYZ", _xyz_tag(*red)),
        (b"gXYZ", _xyz_tag(*green)),
        (b"bXYZ", _xyz_tag(*blue)),
    ]
    curve = b"curv\x00\x00\x00\x00" + struct.pack(">IH", 1, round(gamma * 256)) + b"\x00\x00"
    tags += [(b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve)]

    table_length = 4 + 12 * len(tags)
    entries, data = b"", b""
    for signature, body in tags:
        body += b"\x00" * (-len(body) % 4)
        entries += signature + struct.pack(">II", 128 + table_length + len(data), len(body))
        data += body
    header = (
        struct.pack(">I", 128 + table_length + len(data))
        + b"\x00" * 4
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + b"\x00" * 12
        + b"acsp"
        + b"\x00" * 28
        + _s15(D50[0])
        + _s15(D50[1])
        + _s15(D50[2])
        + b"\x00" * 48
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + entries + data


def swapped_primaries_profile():
    """A profile whose 'red' channel is sRGB's green (and green is red): a pure red pixel in an
    image tagged with it is, correctly converted, pure green."""
    return rgb_icc_profile(SRGB_GREEN_XYZ, SRGB_RED_XYZ, SRGB_BLUE_XYZ, description="Swapped")
