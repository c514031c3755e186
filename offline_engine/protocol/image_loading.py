"""Turn a ``face_image`` input (data URI or URL) into raw image bytes.

The offline engine must never send traffic anywhere but this machine, so URLs are fetched only
when their host is loopback (127.0.0.0/8, ::1, or ``localhost`` resolving only to loopback), and
redirects are checked the same way before they are followed. Anything else fails the prediction
with ``ImageLoadError`` before any connection is made.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import socket
import urllib.error
import urllib.parse
import urllib.request

from ..errors import RuntimeFailure

MAX_IMAGE_BYTES = 30 * 1024 * 1024
FETCH_TIMEOUT_SECONDS = 10.0

_DATA_URI = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^;,]*)*?);base64,", re.I)


def _fail(message: str) -> RuntimeFailure:
    return RuntimeFailure("ImageLoadError", message)


def is_loopback_host(host: str | None, *, resolve: bool = True) -> bool:
    """True when ``host`` names only this machine. Resolves names, never connects."""
    if not host:
        return False
    host = host.strip("[]").lower()
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    if host != "localhost" and not host.endswith(".localhost"):
        return False
    if not resolve:
        return True
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    # Every address must be loopback: a name that also resolves elsewhere is refused.
    return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


def is_loopback_url(url: str) -> bool:
    parsed = urllib.parse.urlsplit(url)
    return parsed.scheme in ("http", "https") and is_loopback_host(parsed.hostname)


def decode_data_uri(value: str) -> bytes:
    match = _DATA_URI.match(value)
    if not match:
        raise _fail(
            "The face image is not a valid base64 data URI. "
            "Use the form data:image/jpeg;base64,<data>."
        )
    mime = (match.group("mime") or "").lower()
    if mime and not mime.startswith("image/") and mime != "application/octet-stream":
        raise _fail(f"The face image data URI has type {mime!r}, which is not an image.")
    # Line breaks some clients put in base64 go; str.split is ten times faster than a regex on
    # a few megabytes.
    payload = "".join(value[match.end() :].split())
    if len(payload) * 3 // 4 > MAX_IMAGE_BYTES:
        raise _fail("The face image is too large (over 30 MB).")
    try:
        data = base64.b64decode(payload + "=" * (-len(payload) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise _fail("The face image base64 data could not be decoded.")
    if not data:
        raise _fail("The face image data URI is empty.")
    return data


class _LoopbackOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only when it stays on loopback."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if not is_loopback_url(newurl):
            raise _fail(
                "The face image URL redirects to a non-loopback address; the offline engine "
                "only fetches loopback URLs (127.0.0.1, ::1, localhost)."
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


# No proxy handler: a proxy from the environment would carry the request off this machine.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _LoopbackOnlyRedirects())


def fetch_loopback_url(url: str) -> bytes:
    if not is_loopback_url(url):
        raise _fail(
            "The offline engine only fetches loopback URLs (127.0.0.1, ::1, localhost); "
            "send the face image as a base64 data URI instead."
        )
    request = urllib.request.Request(url, headers={"User-Agent": "avatar-studio-offline-engine"})
    try:
        with _opener.open(request, timeout=FETCH_TIMEOUT_SECONDS) as response:
            data = response.read(MAX_IMAGE_BYTES + 1)
    except RuntimeFailure:
        raise
    except urllib.error.HTTPError as exc:
        raise _fail(f"The face image URL answered HTTP {exc.code}; it must be reachable.")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise _fail(f"The face image URL could not be reached ({reason}).")
    if len(data) > MAX_IMAGE_BYTES:
        raise _fail("The face image is too large (over 30 MB).")
    if not data:
        raise _fail("The face image URL returned no data.")
    return data


def load_face_image(value: str) -> bytes:
    """Bytes of the face image named by ``value``; raises RuntimeFailure(ImageLoadError)."""
    text = value.strip()
    if text[:5].lower() == "data:":
        return decode_data_uri(text)
    scheme = urllib.parse.urlsplit(text).scheme.lower()
    if scheme in ("http", "https"):
        return fetch_loopback_url(text)
    raise _fail(
        "The face image must be an http(s) URL or a base64 data URI with a "
        "data:image/...;base64, prefix."
    )
