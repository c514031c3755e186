"""A shop's garment pictures, served over real HTTPS on loopback under a made-up public name
(``images.test``), with a certificate only the injected fetch policy trusts
(``support.https_host``)."""

import http.server
import io

from PIL import Image, ImageDraw

from ..support.https_host import NAMES, HTTPSHost

NAME = NAMES[0]


# A tee's outline in a unit square: a shape the try-on engine can cut out and fit.
_TEE = [
    (0.40, 0.10), (0.27, 0.14), (0.09, 0.32), (0.19, 0.41), (0.29, 0.33),
    (0.29, 0.92), (0.71, 0.92), (0.71, 0.33), (0.81, 0.41), (0.91, 0.32),
    (0.73, 0.14), (0.60, 0.10),
]  # fmt: skip


def garment_png(width=300, height=375):
    """A shop's product photo: a green tee on a transparent background."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    ImageDraw.Draw(image).polygon(
        [(x * width, y * height) for x, y in _TEE], fill=(40, 120, 80, 255)
    )
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def garment_jpeg():
    """The same garment as a shop's JPEG would be: on white, no transparency."""
    with Image.open(io.BytesIO(garment_png())) as garment:
        photo = Image.new("RGB", garment.size, (255, 255, 255))
        photo.paste(garment, mask=garment.getchannel("A"))
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG")
    return buffer.getvalue()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.requests.append(self.path)
        body, kind = {
            "/shirt.png": (garment_png(), "image/png"),
            "/shirt.jpg": (garment_jpeg(), "image/jpeg"),
            "/page.html": (b"<!doctype html><p>Not a picture</p>", "image/png"),
        }.get(self.path, (b"", ""))
        self.send_response(200 if body else 404)
        if kind:
            self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class GarmentHost(HTTPSHost):
    def __init__(self, folder):
        super().__init__(folder, _Handler)
