"""Outgoing webhooks, the parts that need no database: secrets, signatures, URL checks, one POST.

- A webhook URL is checked like a selfie URL (``api.fetch``): https only, no credentials, and
  every address its host resolves to must be public. It is checked when the avatar or try-on is
  asked for and again before each delivery, and the POST goes to the address that was checked.
  ``API_WEBHOOK_ALLOW_LOOPBACK_HTTP`` (tests, local development) also allows http:// and https://
  to loopback addresses (127.0.0.0/8, ::1), and nothing else.
- Each webhook has its own secret (``whsec_...``). A delivery is signed like Stripe's:
  ``X-Avatar-Studio-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``.
  ``verify_signature`` is what a receiver does (docs/API.md shows it without this module).
- One POST: short connect and read timeouts, no redirects followed, the answer's body read only
  up to a few KB (for the delivery record) and only when the answer is not 2xx.
"""

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field

import urllib3

from avatar_studio.core.addresses import is_loopback_address, is_public_address

from . import fetch

SECRET_PREFIX = "whsec_"
SIGNATURE_HEADER = "X-Avatar-Studio-Signature"
DELIVERY_HEADER = "X-Avatar-Studio-Delivery"
EVENT_HEADER = "X-Avatar-Studio-Event"
USER_AGENT = "AvatarStudio-Webhooks/1.0"
URL_MAX_LENGTH = 2000
MAX_RESPONSE_BYTES = 4096
ERROR_MAX_LENGTH = 300
DEFAULT_TOLERANCE_SECONDS = 300

EVENT_COMPLETED = "avatar.completed"
EVENT_FAILED = "avatar.failed"
EVENT_TRYON_COMPLETED = "tryon.completed"
EVENT_TRYON_FAILED = "tryon.failed"
# Each kind's events, as the schema names them (SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]).
AVATAR_EVENTS = [EVENT_COMPLETED, EVENT_FAILED]
TRYON_EVENTS = [EVENT_TRYON_COMPLETED, EVENT_TRYON_FAILED]


class WebhookURLRefused(ValueError):
    """The webhook URL will not be called; the message says why and what to do."""


_REFUSALS = {
    "invalid": "This webhook URL is not valid. Give the full https:// URL of your endpoint.",
    "scheme": "Only https:// webhook URLs are allowed. Give the https:// URL of your endpoint.",
    "credentials": (
        "This webhook URL has no host, or has a user name or password in it. Give a plain "
        "https:// URL: check our calls by their signature instead."
    ),
    "unknown_host": "The webhook URL's host ({host}) could not be found. Check the URL.",
    "private": (
        "This webhook URL points to a private or local network address, which we never call. "
        "Give a public https:// URL of your endpoint."
    ),
}


# --- Secrets and signatures -------------------------------------------------------------------


def generate_secret():
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret, timestamp, body):
    """Hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under ``secret`` (``body`` is bytes)."""
    message = f"{int(timestamp)}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret, body, timestamp=None):
    """The ``X-Avatar-Studio-Signature`` value for ``body``, signed now (or at ``timestamp``)."""
    timestamp = int(time.time() if timestamp is None else timestamp)
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify_signature(secret, header, body, *, tolerance=DEFAULT_TOLERANCE_SECONDS, now=None):
    """True if ``header`` signs ``body`` (bytes) with ``secret`` within ``tolerance`` seconds."""
    timestamp, candidates = None, []
    for item in (header or "").split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)


# --- Where we may send ------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookPolicy:
    allow_loopback: bool = False
    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    resolve: object = fetch.resolve_host
    # The CA bundle to trust; None means the system's.
    ca_certs: str | None = None
    # Addresses connected to, in order (tests read it).
    connected: list = field(default_factory=list, compare=False)

    def address_allowed(self, address):
        if is_public_address(address):
            return True
        return self.allow_loopback and is_loopback_address(address)


def default_policy():
    from django.conf import settings

    return WebhookPolicy(
        allow_loopback=settings.API_WEBHOOK_ALLOW_LOOPBACK_HTTP,
        connect_timeout=settings.API_WEBHOOK_CONNECT_TIMEOUT_SECONDS,
        read_timeout=settings.API_WEBHOOK_READ_TIMEOUT_SECONDS,
    )


def check_webhook_url(url, policy):
    """The URL's Target and the checked address to connect to. Raises WebhookURLRefused."""
    if len(url) > URL_MAX_LENGTH:
        raise WebhookURLRefused(f"The webhook URL is over {URL_MAX_LENGTH} characters.")
    schemes = ("https", "http") if policy.allow_loopback else ("https",)
    target = None
    try:
        target = fetch.parse_target(url, schemes=schemes)
        # Plain http only ever to loopback (local development and tests).
        allowed = policy.address_allowed if target.scheme == "https" else is_loopback_address
        address = fetch.checked_address(target.host, target.port, policy.resolve, allowed)
    except fetch.UnsafeURL as refusal:
        reason = refusal.reason
        if reason == "private" and target is not None and target.scheme == "http":
            reason = "scheme"
        raise WebhookURLRefused(_REFUSALS[reason].replace("{host}", refusal.host)) from None
    return target, address


# --- One delivery attempt ---------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None = None
    error: str = ""

    @property
    def delivered(self):
        return self.status_code is not None and 200 <= self.status_code < 300


def post(url, body, headers, policy):
    """POST ``body`` (bytes) to ``url`` once, under ``policy``. Never raises for network trouble:
    the AttemptResult says what happened (a status code, or an error for the delivery record)."""
    try:
        target, address = check_webhook_url(url, policy)
    except WebhookURLRefused as refusal:
        return AttemptResult(error=_short(f"Refused: {refusal}"))
    deadline = time.monotonic() + policy.connect_timeout + policy.read_timeout
    try:
        response = fetch.open_request(
            target,
            address,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
            body=body,
            connect_timeout=policy.connect_timeout,
            read_timeout=policy.read_timeout,
            ca_certs=policy.ca_certs,
            connected=policy.connected,
        )
    except urllib3.exceptions.NewConnectionError:  # before TimeoutError: urllib3 derives it
        return AttemptResult(error=f"Could not connect to the endpoint ({target.host}).")
    except urllib3.exceptions.TimeoutError:
        return AttemptResult(error="Timed out waiting for the endpoint.")
    except urllib3.exceptions.SSLError:
        return AttemptResult(error=f"The endpoint ({target.host}) has no valid TLS certificate.")
    except urllib3.exceptions.HTTPError as error:
        return AttemptResult(error=_short(f"Could not connect: {type(error).__name__}."))
    try:
        if 200 <= response.status < 300:
            return AttemptResult(status_code=response.status)
        if 300 <= response.status < 400:
            return AttemptResult(
                response.status, f"HTTP {response.status}: redirects are not followed."
            )
        text = _read_some(response, deadline)
        return AttemptResult(response.status, _short(f"HTTP {response.status}: {text}".strip(": ")))
    finally:
        response.close()
        response.release_conn()


def _read_some(response, deadline):
    """At most MAX_RESPONSE_BYTES of the body, as text, within the attempt's time."""
    data = bytearray()
    try:
        while len(data) < MAX_RESPONSE_BYTES and time.monotonic() < deadline:
            chunk = response.read1(MAX_RESPONSE_BYTES - len(data))
            if not chunk:
                break
            data += chunk
    except (OSError, urllib3.exceptions.HTTPError):
        pass
    return " ".join(bytes(data).decode("utf-8", "replace").split())


def _short(text):
    return text if len(text) <= ERROR_MAX_LENGTH else text[: ERROR_MAX_LENGTH - 1] + "…"
