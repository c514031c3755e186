"""Fetching a selfie from an image URL a client gives us, without becoming a way into our network.

- https only, no credentials in the URL;
- the host is resolved first and every address it has must be public (not private, loopback,
  link-local, shared, reserved or multicast, nor such an IPv4 address wrapped in IPv6: see
  ``core.addresses``); we then connect to that checked address, with TLS
  verified against the host name, so a DNS answer that changes between check and connect
  (rebinding) cannot send us elsewhere;
- redirects are followed by hand, a few at most, and each target is checked the same way before
  any connection is made to it;
- the body is refused above the size limit (from Content-Length at once, or while reading), and
  the whole fetch must finish within a time limit, so a slow trickle cannot hold a web worker.

The checks and the connection to the checked address (``parse_target``, ``checked_address``,
``open_request``) are shared with the outgoing webhooks (``api.webhooks``); they raise
``UnsafeURL`` with a reason, and each caller words the message for its own reader.
"""

import socket
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import urllib3

from avatar_studio.core.addresses import is_public_address

CHUNK_BYTES = 64 * 1024
USER_AGENT = "AvatarStudio-ImageFetcher/1.0"
UPLOAD_INSTEAD = "or upload the photo itself."


class ImageURLRefused(ValueError):
    """The URL cannot be fetched; the message says why and what to do."""


class UnsafeURL(ValueError):
    """A URL we will not connect to. ``reason`` is one of REASONS; ``host`` is its host, if any."""

    REASONS = ("invalid", "scheme", "credentials", "unknown_host", "private")

    def __init__(self, reason, host=""):
        super().__init__(reason)
        self.reason = reason
        self.host = host


@dataclass(frozen=True)
class Target:
    """A checked URL, split into what a connection needs."""

    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line

    @property
    def host_header(self):
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


def resolve_host(host, port):
    """Every address ``host`` resolves to (IP literals resolve to themselves, no DNS)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


@dataclass(frozen=True)
class FetchPolicy:
    max_bytes: int
    timeout: float = 10.0  # seconds for the whole fetch, redirects included
    max_redirects: int = 3
    resolve: object = resolve_host
    address_allowed: object = is_public_address
    # The CA bundle to trust; None means the system's.
    ca_certs: str | None = None
    # Addresses connected to, in order: tests read it to prove nothing but loopback was touched.
    connected: list = field(default_factory=list, compare=False)


_IMAGE_REFUSALS = {
    "invalid": f"This image URL is not valid. Check the link, {UPLOAD_INSTEAD}",
    "scheme": f"Only https:// image URLs can be fetched. Use an https:// link, {UPLOAD_INSTEAD}",
    "credentials": (
        "This image URL has no host, or has a user name or password in it. Use a plain "
        f"https:// link, {UPLOAD_INSTEAD}"
    ),
    "unknown_host": (
        "The image URL's host ({host}) could not be found. Check the link, " + UPLOAD_INSTEAD
    ),
    "private": (
        "This image URL points to a private or local network address, which we never "
        f"fetch. Use a public https:// link, {UPLOAD_INSTEAD}"
    ),
}


def fetch_image(url, policy):
    """The bytes at ``url``, fetched under ``policy``. Raises ImageURLRefused."""
    deadline = time.monotonic() + policy.timeout
    for _hop in range(policy.max_redirects + 1):
        try:
            target = parse_target(url)
            address = checked_address(
                target.host, target.port, policy.resolve, policy.address_allowed
            )
        except UnsafeURL as refusal:
            message = _IMAGE_REFUSALS[refusal.reason].replace("{host}", refusal.host)
            raise ImageURLRefused(message) from None
        response = _request(address, target, policy, deadline)
        try:
            if response.status in (301, 302, 303, 307, 308):
                location = response.headers.get("Location")
                if not location:
                    raise ImageURLRefused(
                        f"The image URL redirects nowhere. Check the link, {UPLOAD_INSTEAD}"
                    )
                url = urljoin(url, location)
                continue
            if response.status != 200:
                raise ImageURLRefused(
                    f"The image URL answered with HTTP {response.status} instead of the photo. "
                    f"Check that the link opens the photo itself, {UPLOAD_INSTEAD}"
                )
            return _read_body(response, policy, deadline)
        finally:
            response.release_conn()
            response.close()
    raise ImageURLRefused(
        f"The image URL redirects more than {policy.max_redirects} times. Link to the photo "
        f"itself, {UPLOAD_INSTEAD}"
    )


def parse_target(url, schemes=("https",)):
    """``url`` split into a Target, if its scheme is one of ``schemes`` and it has a host and no
    credentials. Raises UnsafeURL ("invalid", "scheme" or "credentials")."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeURL("invalid") from None
    if parts.scheme not in schemes:
        raise UnsafeURL("scheme")
    if not parts.hostname or parts.username or parts.password:
        raise UnsafeURL("credentials", parts.hostname or "")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, parts.hostname, port, path)


def checked_address(host, port, resolve=resolve_host, address_allowed=is_public_address):
    """The address to connect to for ``host``: every address it resolves to must be allowed.

    Raises UnsafeURL ("unknown_host" or "private"). The caller connects to the address returned,
    never resolving again, so a DNS answer that changes (rebinding) cannot send it elsewhere.
    """
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError):
        addresses = []
    if not addresses:
        raise UnsafeURL("unknown_host", host)
    # One private address is enough to refuse: we must not pick among them.
    if not all(address_allowed(address) for address in addresses):
        raise UnsafeURL("private", host)
    return addresses[0]


def open_request(
    target,
    address,
    *,
    method,
    headers,
    body=None,
    connect_timeout,
    read_timeout,
    ca_certs=None,
    connected=None,
):
    """Send one request for ``target`` to the checked ``address``, without following redirects
    or retrying: https with TLS verified against the target's host name, or plain http.

    Returns the urllib3 response with its body unread (the caller reads, releases and closes it).
    Raises urllib3's errors.
    """
    timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address,
            target.port,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs=ssl.CERT_REQUIRED,
            ca_certs=ca_certs,
            timeout=timeout,
            retries=False,
            maxsize=1,
        )
    else:
        pool = urllib3.HTTPConnectionPool(
            address, target.port, timeout=timeout, retries=False, maxsize=1
        )
    if connected is not None:
        connected.append(address)
    return pool.urlopen(
        method,
        target.path,
        body=body,
        headers={"Host": target.host_header, **headers},
        redirect=False,
        preload_content=False,
        decode_content=False,
    )


def _request(address, target, policy, deadline):
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _too_slow(policy)
    host = target.host
    try:
        return open_request(
            target,
            address,
            method="GET",
            headers={"User-Agent": USER_AGENT, "Accept": "image/*"},
            connect_timeout=min(remaining, 5.0),
            read_timeout=min(remaining, 5.0),
            ca_certs=policy.ca_certs,
            connected=policy.connected,
        )
    except urllib3.exceptions.TimeoutError:
        raise _too_slow(policy) from None
    except urllib3.exceptions.SSLError:
        raise ImageURLRefused(
            f"The image URL's server ({host}) did not present a valid certificate. Use a link "
            f"from a trusted site, {UPLOAD_INSTEAD}"
        ) from None
    except urllib3.exceptions.HTTPError:
        raise ImageURLRefused(
            f"Could not connect to the image URL's server ({host}). Check the link, "
            f"{UPLOAD_INSTEAD}"
        ) from None


def _read_body(response, policy, deadline):
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > policy.max_bytes:
        raise _too_large(policy)
    body = bytearray()
    try:
        while True:
            if time.monotonic() > deadline:
                raise _too_slow(policy)
            chunk = response.read1(CHUNK_BYTES)
            if not chunk:
                break
            body += chunk
            if len(body) > policy.max_bytes:
                raise _too_large(policy)
    except (TimeoutError, urllib3.exceptions.TimeoutError):
        raise _too_slow(policy) from None
    except urllib3.exceptions.HTTPError:
        raise ImageURLRefused(
            f"The image download was cut off before the end. Try again, {UPLOAD_INSTEAD}"
        ) from None
    return bytes(body)


def _too_large(policy):
    return ImageURLRefused(
        f"The image at this URL is over the {policy.max_bytes / (1024 * 1024):g} MB limit. Link "
        f"to a smaller photo, {UPLOAD_INSTEAD}"
    )


def _too_slow(policy):
    return ImageURLRefused(
        f"The image URL took more than {policy.timeout:g} seconds to send the photo. Try "
        f"again later, {UPLOAD_INSTEAD}"
    )


def default_policy():
    """The policy the API uses: the selfie size limit and the configured time limit."""
    from django.conf import settings

    return FetchPolicy(
        max_bytes=settings.SELFIE_MAX_UPLOAD_BYTES,
        timeout=settings.API_IMAGE_FETCH_TIMEOUT_SECONDS,
    )
