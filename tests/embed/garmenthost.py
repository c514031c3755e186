"""A shop's garment pictures, served over real HTTPS on loopback under a made-up public name
(``images.test``), with a certificate only the injected fetch policy trusts."""

import http.server
import io
import ssl
import threading

from PIL import Image

from ..api.imagehost import make_certificate

NAME = "images.test"


def garment_png(colour=(30, 110, 70)):
    buffer = io.BytesIO()
    Image.new("RGBA", (60, 75), (*colour, 255)).save(buffer, "PNG")
    return buffer.getvalue()


def garment_jpeg(colour=(150, 40, 40)):
    buffer = io.BytesIO()
    Image.new("RGB", (60, 75), colour).save(buffer, "JPEG")
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


class GarmentHost:
    def __init__(self, folder):
        cert, key = make_certificate(folder)
        self.ca_file = str(cert)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.requests = []
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path):
        return f"https://{NAME}:{self.port}{path}"

    @property
    def requests(self):
        return self.server.requests

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
