"""Webhook signatures: what we send, and the integrator's snippet in docs/API.md that checks it."""

import hashlib
import hmac
import re
from pathlib import Path

import pytest

from avatar_studio.api import webhooks

DOCS = Path(__file__).resolve().parents[2] / "docs" / "API.md"
SECRET = "whsec_test-secret"
BODY = b'{"id":"d1","event":"avatar.completed","avatar":{"status":"completed"}}'


def documented_verifier():
    """The Python snippet from docs/API.md, run as an integrator would paste it."""
    [code] = re.findall(r"```python\n(.*?)```", DOCS.read_text(), re.DOTALL)
    namespace = {}
    exec(compile(code, str(DOCS), "exec"), namespace)  # noqa: S102 - our own documentation
    return namespace["verify_avatar_studio_signature"]


@pytest.fixture(params=["ours", "documented"])
def verify(request):
    if request.param == "ours":
        return webhooks.verify_signature
    return documented_verifier()


def test_the_secret_is_prefixed_random_and_long():
    first, second = webhooks.generate_secret(), webhooks.generate_secret()
    assert first.startswith("whsec_") and len(first) >= 40
    assert first != second


def test_the_header_is_a_timestamp_and_a_hex_hmac_of_timestamp_dot_body():
    header = webhooks.signature_header(SECRET, BODY, timestamp=1_700_000_000)

    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_a_fresh_signature_verifies(verify):
    assert verify(SECRET, webhooks.signature_header(SECRET, BODY), BODY)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda secret, header, body: (secret, header, body + b" "),
        lambda secret, header, body: (secret, header, body.replace(b"completed", b"failed")),
        lambda secret, header, body: ("whsec_other", header, body),
        lambda secret, header, body: (secret, header.replace("v1=", "v1=0"), body),
        lambda secret, header, body: (secret, header.split(",")[1], body),  # no timestamp
        lambda secret, header, body: (secret, header.split(",")[0], body),  # no signature
        lambda secret, header, body: (secret, "", body),
        lambda secret, header, body: (secret, "garbage", body),
    ],
)
def test_anything_changed_does_not_verify(verify, tamper):
    header = webhooks.signature_header(SECRET, BODY)
    assert not verify(*tamper(SECRET, header, BODY))


def test_a_changed_timestamp_does_not_verify(verify):
    header = webhooks.signature_header(SECRET, BODY)
    timestamp = int(header.split(",")[0][2:])
    moved = header.replace(f"t={timestamp}", f"t={timestamp + 1}")
    assert not verify(SECRET, moved, BODY)


def test_an_old_signature_is_refused_as_a_replay(verify):
    import time

    old = webhooks.signature_header(SECRET, BODY, timestamp=time.time() - 301)
    assert not verify(SECRET, old, BODY)
    recent = webhooks.signature_header(SECRET, BODY, timestamp=time.time() - 200)
    assert verify(SECRET, recent, BODY)


def test_any_one_of_several_signatures_may_match(verify):
    good = webhooks.signature_header(SECRET, BODY)
    timestamp, signature = good.split(",")
    assert verify(SECRET, f"{timestamp},v1={'0' * 64},{signature}", BODY)
