"""Fetch one prediction output (CDN URL or base64 data URI) as checked image bytes.

FASHN deletes CDN outputs after 72 hours and base64 outputs expire after 60 minutes, so the
pipeline copies them into our storage at once. This module only fetches and checks: the
body must be a PNG, JPEG or WebP by its magic bytes and no larger than the caller's limit,
which is enforced while reading, never after buffering the whole body.

Which hosts may be fetched is the application's decision; ``allowed_hosts`` is the hook.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from .client import USER_AGENT, http_error, transport_error
from .errors import (
    FashnConnectionError,
    FashnError,
    FashnTimeoutError,
    OutputHostNotAllowedError,
    OutputTooLargeError,
    OutputUnavailableError,
)

__all__ = ["DownloadedImage", "download_output", "sniff_image_type"]

_CHUNK_BYTES = 64 * 1024
_MAX_REDIRECTS = 5
# 404/410 mean deleted; S3 and CloudFront answer 403 for an object that no longer exists.
# 408 and 429 are the only 4xx answers that can change on retry.
_RETRYABLE_4XX = frozenset({408, 429})
_DATA_URI = re.compile(r"^data:(?P<type>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^;,]*)*?);base64,", re.I)

_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


@dataclass(frozen=True)
class DownloadedImage:
    """Image bytes and their content type, taken from the bytes, not from any header."""

    data: bytes
    content_type: str

    @property
    def extension(self) -> str:
        return _EXTENSIONS[self.content_type]

    def __repr__(self) -> str:
        return f"DownloadedImage(content_type={self.content_type!r}, size={len(self.data)})"


def sniff_image_type(data: bytes) -> str | None:
    """``image/png``, ``image/jpeg`` or ``image/webp`` from the magic bytes, else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def download_output(
    output: str,
    *,
    max_bytes: int,
    timeout: tuple[float, float] = (5, 30),
    total_seconds: float | None = None,
    allowed_hosts: set[str] | frozenset[str] | None = None,
    session: requests.Session | None = None,
) -> DownloadedImage:
    """Return the image behind one output entry.

    Raises ``OutputUnavailableError`` (or its subclasses ``OutputTooLargeError`` and
    ``OutputHostNotAllowedError``) when retrying cannot help, and a retryable
    ``FashnError`` (``ServerError``, ``RateLimitError``, ``FashnTimeoutError``,
    ``FashnConnectionError``) when it can. ``allowed_hosts`` (lower-case host names),
    when given, is checked for the URL and every redirect. ``total_seconds`` bounds the whole
    download, redirects included: ``timeout`` alone lets a server that trickles bytes take
    forever, since each read only waits for the next few bytes.
    """
    if max_bytes <= 0:
        raise ValueError("max_bytes must be positive")
    if not isinstance(output, str) or not output:
        raise OutputUnavailableError("the prediction output is empty")
    if output[:5].lower() == "data:":
        return _decode_data_uri(output, max_bytes)
    scheme = urlsplit(output).scheme.lower()
    if scheme not in ("http", "https"):
        raise OutputUnavailableError(
            f"output is neither an http(s) URL nor a data URI ({scheme!r})"
        )
    deadline = _Deadline(total_seconds)
    if session is not None:
        return _download_url(session, output, max_bytes, timeout, deadline, allowed_hosts)
    with requests.Session() as own_session:
        return _download_url(own_session, output, max_bytes, timeout, deadline, allowed_hosts)


class _Deadline:
    """The time left for one download; no limit when ``total_seconds`` is None."""

    def __init__(self, total_seconds: float | None) -> None:
        self.total = total_seconds
        self.ends = None if total_seconds is None else time.monotonic() + total_seconds

    def timeout(self, timeout: tuple[float, float]) -> tuple[float, float]:
        if self.ends is None:
            return timeout
        left = max(0.01, self.ends - time.monotonic())
        return (min(timeout[0], left), min(timeout[1], left))

    def check(self, what: str) -> None:
        if self.ends is not None and time.monotonic() > self.ends:
            message = f"{what} took longer than {self.total:g} s"
            raise FashnTimeoutError(message, maybe_submitted=False)


def _decode_data_uri(output: str, max_bytes: int) -> DownloadedImage:
    match = _DATA_URI.match(output[:200])
    if match is None:
        raise OutputUnavailableError("output data URI is not base64-encoded")
    declared = (match.group("type") or "").lower()
    if declared and not declared.startswith("image/"):
        raise OutputUnavailableError(f"output data URI is {declared}, not an image")
    payload = output[match.end() :].strip()
    if not payload:
        # FASHN drops base64 outputs after 60 minutes: what is left holds no image.
        raise OutputUnavailableError("output data URI is empty (expired?)")
    # Refuse before decoding: the decoded size is three quarters of the base64 length.
    if (len(payload) // 4) * 3 - 2 > max_bytes:
        raise OutputTooLargeError(f"output is larger than {max_bytes} bytes")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        try:
            # Some encoders use the URL-safe alphabet or drop padding.
            data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        except (binascii.Error, ValueError):
            raise OutputUnavailableError("output data URI is not valid base64") from None
    if len(data) > max_bytes:
        raise OutputTooLargeError(f"output is larger than {max_bytes} bytes")
    return _checked(data, "output data URI")


def _download_url(
    session: requests.Session,
    url: str,
    max_bytes: int,
    timeout: tuple[float, float],
    deadline: _Deadline,
    allowed_hosts: set[str] | frozenset[str] | None,
) -> DownloadedImage:
    # Redirects are followed by hand so every hop passes the host check.
    for _ in range(_MAX_REDIRECTS + 1):
        _check_host(url, allowed_hosts)
        what = f"GET output {_display(url)}"
        try:
            response = session.get(
                url,
                stream=True,
                timeout=deadline.timeout(timeout),
                allow_redirects=False,
                headers={"User-Agent": USER_AGENT, "Accept": "image/*"},
            )
        except requests.RequestException as exc:
            raise transport_error(exc, what, may_have_sent=False) from exc
        with response:
            if response.is_redirect:
                location = response.headers.get("Location", "")
                url = urljoin(url, location)
                if urlsplit(url).scheme.lower() not in ("http", "https"):
                    raise OutputUnavailableError(f"{what} redirects to a non-http URL")
                continue
            if response.status_code >= 400:
                raise _download_http_error(response, what)
            return _checked(_read_limited(response, what, max_bytes, deadline), what)
    raise OutputUnavailableError(
        f"output {_display(url)} redirects more than {_MAX_REDIRECTS} times"
    )


def _download_http_error(response: requests.Response, what: str) -> FashnError:
    status = response.status_code
    if status >= 500 or status in _RETRYABLE_4XX:
        return http_error(response, what)
    return OutputUnavailableError(f"{what} answered {status}: the output is gone or refused")


def _read_limited(
    response: requests.Response, what: str, max_bytes: int, deadline: _Deadline
) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise OutputTooLargeError(f"{what} is {declared} bytes, over the {max_bytes} limit")
    chunks: list[bytes] = []
    size = 0
    try:
        # read1 returns whatever has arrived (iter_content waits for whole chunks), so a server
        # trickling a byte a second still meets the deadline check.
        while chunk := response.raw.read1(_CHUNK_BYTES, decode_content=True):
            size += len(chunk)
            if size > max_bytes:
                raise OutputTooLargeError(f"{what} is over the {max_bytes} byte limit")
            chunks.append(chunk)
            deadline.check(what)
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise FashnTimeoutError(f"{what}: no data in time", maybe_submitted=False) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise FashnConnectionError(
            f"{what}: the connection broke while reading ({exc})", maybe_submitted=False
        ) from exc
    return b"".join(chunks)


def _checked(data: bytes, what: str) -> DownloadedImage:
    content_type = sniff_image_type(data)
    if content_type is None:
        raise OutputUnavailableError(f"{what} is not a PNG, JPEG or WebP image")
    return DownloadedImage(data=data, content_type=content_type)


def _check_host(url: str, allowed_hosts: set[str] | frozenset[str] | None) -> None:
    if allowed_hosts is None:
        return
    host = (urlsplit(url).hostname or "").lower()
    if host not in allowed_hosts:
        raise OutputHostNotAllowedError(f"output host {host!r} is not allowed")


def _display(url: str) -> str:
    # Signed CDN URLs carry credentials in the query string: never put it in a message.
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
