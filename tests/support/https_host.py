"""A real HTTPS server on loopback under made-up public names, and the fetch policy that lets it
stand in for the public internet: the one home of both, for every test that fetches a picture
from a URL (the API's selfie and garment URLs, the embedded button's garment, the admin's photo).

The server's certificate is self-signed for ``NAMES``; only a policy made by ``loopback_policy``
trusts it. That policy resolves names from ``ZONE`` (no real DNS) and connects to 127.0.0.1 alone,
so a test's traffic never leaves the machine, and ``loopback_fetch`` checks that it did not.
"""

import http.server
import ipaddress
import socket
import ssl
import subprocess
import threading

from avatar_studio.api import fetch

NAMES = ("images.test", "rebind.test")
LOOPBACK = "127.0.0.1"

# The tests' DNS: the hosts served here on loopback stand in for public ones; the others are there
# to be refused before anything connects to them.
ZONE = {
    "images.test": [LOOPBACK],
    "rebind.test": [LOOPBACK],
    "intranet.test": ["10.1.2.3"],
    "mixed.test": ["93.184.215.14", "192.168.0.10"],
}


def zone_resolver(host, port):
    """``host``'s addresses from ``ZONE`` (an address literal needs no DNS); else unknown."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    if host not in ZONE:
        raise socket.gaierror(f"unknown host {host}")
    return ZONE[host]


def make_certificate(folder, names=NAMES):
    """A self-signed certificate for ``names`` (openssl), and its key: (cert path, key path)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    san = ",".join(f"DNS:{name}" for name in names)
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", f"/CN={names[0]}", "-addext", f"subjectAltName={san}",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


class HTTPSHost:
    """``handler`` (a ``BaseHTTPRequestHandler`` class) served over HTTPS on 127.0.0.1 at a free
    port, in a thread, while used as a context manager. The handler records on ``self.server``:
    ``requests`` (every path asked for) and ``finished`` (paths it served to their end, for
    handlers that misbehave on purpose)."""

    def __init__(self, folder, handler):
        cert, key = make_certificate(folder)
        self.ca_file = str(cert)
        self.server = http.server.ThreadingHTTPServer((LOOPBACK, 0), handler)
        self.server.daemon_threads = True
        self.server.requests = []
        self.server.finished = []
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path, name=NAMES[0]):
        return f"https://{name}:{self.port}{path}"

    @property
    def requests(self):
        return self.server.requests

    @property
    def finished(self):
        return self.server.finished

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def loopback_policy(host, *, resolve=zone_resolver, max_bytes=1024 * 1024, timeout=5):
    """The fetcher's rules, except that loopback (only) stands in for the public internet, and
    ``host``'s certificate is the one trusted."""
    return fetch.FetchPolicy(
        max_bytes=max_bytes,
        timeout=timeout,
        resolve=resolve,
        address_allowed=lambda address: address == LOOPBACK,
        ca_certs=host.ca_file,
    )


def loopback_fetch(host, monkeypatch):
    """For a fixture (``yield from``): every fetch of the app, whoever asks (``api.fetch``'s
    default policy), goes by ``loopback_policy(host)``; ``host``'s request log starts empty;
    afterwards, nothing but loopback was connected to."""
    policy = loopback_policy(host)
    monkeypatch.setattr(fetch, "default_policy", lambda: policy)
    host.requests.clear()
    yield policy
    assert set(policy.connected) <= {LOOPBACK}  # nothing but loopback, ever
