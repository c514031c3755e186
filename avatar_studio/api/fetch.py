"""Fetching a selfie from an image URL a client gives us, without becoming a way into our network.

- https only, no credentials in the URL;
- the host is resolved first and every address it has must be public (not private, loopback,
  link-local, shared, reserved or multicast); we then connect to that checked address, with TLS
  verified against the host name, so a DNS answer that changes between check and connect
  (rebinding) cannot send us elsewhere;
- redirects are followed by hand, a few at most, and each target is checked the same way before
  any connection is made to it;
- the body is refused above the size limit (from Content-Length at once, or while reading), and
  the whole fetch must finish within a time limit, so a slow trickle cannot hold a web worker.
"""

import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import urllib3

CHUNK_BYTES = 64 * 1024
USER_AGENT = "AvatarStudio-ImageFetcher/1.0"
UPLOAD_INSTEAD = "or upload the photo itself."


class ImageURLRefused(ValueError):
    """The URL cannot be fetched; the message says why and what to do."""


def is_public_address(address):
    """True for an address on the public internet; False for anything local or special."""
    ip = ipaddress.ip_address(address)
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


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


def fetch_image(url, policy):
    """The bytes at ``url``, fetched under ``policy``. Raises ImageURLRefused."""
    deadline = time.monotonic() + policy.timeout
    for _hop in range(policy.max_redirects + 1):
        host, port, target = _check_url(url)
        address = _checked_address(host, port, policy)
        response = _request(address, host, port, target, policy, deadline)
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


def _check_url(url):
    try:
        parts = urlsplit(url)
        port = parts.port or 443
    except ValueError:
        raise ImageURLRefused(
            f"This image URL is not valid. Check the link, {UPLOAD_INSTEAD}"
        ) from None
    if parts.scheme != "https":
        raise ImageURLRefused(
            f"Only https:// image URLs can be fetched. Use an https:// link, {UPLOAD_INSTEAD}"
        )
    if not parts.hostname or parts.username or parts.password:
        raise ImageURLRefused(
            f"This image URL has no host, or has a user name or password in it. Use a plain "
            f"https:// link, {UPLOAD_INSTEAD}"
        )
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return parts.hostname, port, target


def _checked_address(host, port, policy):
    try:
        addresses = policy.resolve(host, port)
    except (OSError, UnicodeError):
        addresses = []
    if not addresses:
        raise ImageURLRefused(
            f"The image URL's host ({host}) could not be found. Check the link, {UPLOAD_INSTEAD}"
        )
    # One private address is enough to refuse: we must not pick among them.
    if not all(policy.address_allowed(address) for address in addresses):
        raise ImageURLRefused(
            "This image URL points to a private or local network address, which we never "
            f"fetch. Use a public https:// link, {UPLOAD_INSTEAD}"
        )
    return addresses[0]


def _request(address, host, port, target, policy, deadline):
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _too_slow(policy)
    pool = urllib3.HTTPSConnectionPool(
        address,
        port,
        server_hostname=host,
        assert_hostname=host,
        cert_reqs=ssl.CERT_REQUIRED,
        ca_certs=policy.ca_certs,
        timeout=urllib3.Timeout(connect=min(remaining, 5.0), read=min(remaining, 5.0)),
        retries=False,
        maxsize=1,
    )
    policy.connected.append(address)
    host_header = host if port == 443 else f"{host}:{port}"
    try:
        return pool.urlopen(
            "GET",
            target,
            headers={"Host": host_header, "User-Agent": USER_AGENT, "Accept": "image/*"},
            redirect=False,
            preload_content=False,
            decode_content=False,
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
