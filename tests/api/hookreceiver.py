"""A real webhook endpoint on loopback for the webhook tests: a threaded http.server on port 0
(plain http, or https with a certificate from imagehost) that records every request and answers
with the statuses it is given, in order (the last one repeats)."""

import http.server
import ssl
import threading
import time
from dataclasses import dataclass


@dataclass
class Received:
    at: float  # time.monotonic() on arrival
    path: str
    headers: dict
    body: bytes


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        server = self.server
        with server.lock:
            server.received.append(Received(time.monotonic(), self.path, dict(self.headers), body))
            index = len(server.received) - 1
            status = server.statuses[min(index, len(server.statuses) - 1)]
        answer = b'{"ok": true}' if status < 300 else b"receiver says no " * 1000
        self.send_response(status)
        if status in (301, 302):
            self.send_header("Location", "http://127.0.0.1:1/elsewhere")
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


class HookReceiver:
    def __init__(self, statuses=(200,), certificate=None):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.received = []
        self.server.statuses = list(statuses)
        self.server.lock = threading.Lock()
        self.scheme = "http"
        if certificate is not None:
            cert, key = certificate
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path="/hooks/avatar", host="127.0.0.1"):
        return f"{self.scheme}://{host}:{self.port}{path}"

    def answer_with(self, *statuses):
        with self.server.lock:
            self.server.statuses = list(statuses)

    @property
    def received(self):
        with self.server.lock:
            return list(self.server.received)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
