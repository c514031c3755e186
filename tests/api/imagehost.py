"""A real HTTPS image host on loopback for the URL-fetch tests (``support.https_host``), with
paths that misbehave on purpose."""

import http.server
import time

from ..support.faces import astronaut_jpeg
from ..support.https_host import NAMES, HTTPSHost, make_certificate  # noqa: F401


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.requests.append(self.path)
        route = {
            "/face.jpg": self._face,
            "/moved": lambda: self._redirect("/face.jpg"),
            "/to-private": lambda: self._redirect("https://10.20.30.40/face.jpg"),
            "/to-named-private": lambda: self._redirect("https://intranet.test/face.jpg"),
            "/to-http": lambda: self._redirect("http://images.test/face.jpg"),
            "/loop": lambda: self._redirect("/loop"),
            "/huge-declared": self._huge_declared,
            "/huge-streamed": self._huge_streamed,
            "/slow": self._slow,
            "/silent": self._silent,
        }.get(self.path.split("?")[0], self._missing)
        route()

    def _face(self):
        body = astronaut_jpeg()
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _missing(self):
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _huge_declared(self):
        self.send_response(200)
        self.send_header("Content-Length", str(500 * 1024 * 1024))
        self.end_headers()
        self.wfile.write(b"\xff\xd8\xff" + b"\0" * 1024)

    def _huge_streamed(self):
        # No Content-Length: the fetch must count while reading.
        self.send_response(200)
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            for _ in range(1000):
                self.wfile.write(b"\0" * 64 * 1024)
        except OSError:
            pass

    def _slow(self):
        # A trickle: each byte arrives well within any read timeout; 100 of them take 10 s, and
        # even then the body is not complete.
        self.send_response(200)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        try:
            for _ in range(100):
                self.wfile.write(b"\0")
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            return  # the client hung up
        self.server.finished.append(self.path)

    def _silent(self):
        time.sleep(10)
        self.server.finished.append(self.path)


class ImageHost(HTTPSHost):
    def __init__(self, folder):
        super().__init__(folder, _Handler)
