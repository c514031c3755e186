"""Selfies given as image URLs: https only, public addresses only (checked before connecting,
redirects included), size and time limits. Only loopback is ever connected to: a real HTTPS host
on 127.0.0.1 with made-up names, and refusals that happen before any connection is made."""

import pytest

from avatar_studio.api import fetch
from avatar_studio.api.fetch import FetchPolicy, ImageURLRefused, fetch_image, is_public_address
from avatar_studio.avatars.models import AvatarJob

from ..support.faces import astronaut_jpeg
from ..support.https_host import loopback_policy, zone_resolver
from .imagehost import ImageHost

# The test world's DNS (the image host is the only server in it, on loopback).
test_resolver = zone_resolver
test_resolver.__test__ = False


@pytest.fixture(scope="module")
def image_host(tmp_path_factory):
    with ImageHost(tmp_path_factory.mktemp("imagehost")) as host:
        yield host


@pytest.fixture
def policy(image_host):
    """The API's rules, except that the loopback image host stands in for the public internet."""
    policy = loopback_policy(image_host, timeout=1.5)
    image_host.requests.clear()
    yield policy
    assert set(policy.connected) <= {"127.0.0.1"}  # nothing but loopback, ever


@pytest.fixture
def real_rules():
    """The production rules with a resolver that never leaves the machine."""
    policy = FetchPolicy(max_bytes=1024 * 1024, resolve=test_resolver)
    yield policy
    assert policy.connected == []


def test_a_photo_is_fetched_over_https(image_host, policy):
    assert fetch_image(image_host.url("/face.jpg"), policy) == astronaut_jpeg()


def test_redirects_are_followed_and_each_target_is_checked(image_host, policy):
    assert fetch_image(image_host.url("/moved"), policy) == astronaut_jpeg()
    assert image_host.requests == ["/moved", "/face.jpg"]


@pytest.mark.parametrize(
    "url",
    ["http://images.test/face.jpg", "ftp://images.test/face.jpg", "file:///etc/passwd"],
)
def test_only_https_is_fetched(real_rules, url):
    with pytest.raises(ImageURLRefused, match=r"^Only https:// image URLs can be fetched"):
        fetch_image(url, real_rules)


def test_credentials_in_the_url_are_refused(real_rules):
    with pytest.raises(ImageURLRefused, match="user name or password"):
        fetch_image("https://user:secret@images.test/face.jpg", real_rules)


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.9.9.9",
        "[::1]",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "[::ffff:127.0.0.1]",
        "[fe80::1]",
        "[fd00::1]",
        "224.0.0.1",
        "intranet.test",
        "mixed.test",  # one private address among public ones is enough
    ],
)
def test_private_and_local_addresses_are_refused_before_connecting(real_rules, host):
    with pytest.raises(ImageURLRefused, match="private or local network address"):
        fetch_image(f"https://{host}/face.jpg", real_rules)


@pytest.mark.parametrize(
    "address",
    ["64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "::7f00:1", "::ffff:0:a00:1", "2002:7f00:1::1"],
)
def test_loopback_or_private_wrapped_in_ipv6_is_refused_before_connecting(address, monkeypatch):
    """A name that resolves to an IPv4 address wrapped in IPv6 (behind a NAT64 gateway,
    64:ff9b::7f00:1 is the gateway's 127.0.0.1) is refused before any connection is opened."""

    def no_connection(*args, **kwargs):
        raise AssertionError("a refused address must not be connected to")

    monkeypatch.setattr(fetch.urllib3, "HTTPSConnectionPool", no_connection)
    policy = FetchPolicy(max_bytes=1024 * 1024, resolve=lambda host, port: [address])

    with pytest.raises(ImageURLRefused, match="private or local network address"):
        fetch_image("https://images.example/face.jpg", policy)
    assert policy.connected == []


def test_an_unknown_host_is_reported(real_rules):
    with pytest.raises(ImageURLRefused, match=r"host \(nowhere.test\) could not be found"):
        fetch_image("https://nowhere.test/face.jpg", real_rules)


@pytest.mark.parametrize("path", ["/to-private", "/to-named-private"])
def test_a_redirect_to_a_private_address_is_refused_before_following_it(image_host, policy, path):
    with pytest.raises(ImageURLRefused, match="private or local network address"):
        fetch_image(image_host.url(path), policy)

    assert policy.connected == ["127.0.0.1"]  # the first hop only


def test_the_checked_address_is_the_one_connected_to(image_host, policy):
    """DNS rebinding: a second lookup would say 10.0.0.1, but there is no second lookup."""
    answers = iter([["127.0.0.1"], ["10.0.0.1"]])
    lookups = []

    def rebinding(host, port):
        lookups.append(host)
        return next(answers)

    rebound = FetchPolicy(
        max_bytes=policy.max_bytes,
        resolve=rebinding,
        address_allowed=policy.address_allowed,
        ca_certs=policy.ca_certs,
    )

    assert fetch_image(image_host.url("/face.jpg", name="rebind.test"), rebound) == astronaut_jpeg()
    assert lookups == ["rebind.test"]
    assert rebound.connected == ["127.0.0.1"]


def test_a_redirect_to_plain_http_is_refused(image_host, policy):
    with pytest.raises(ImageURLRefused, match="Only https://"):
        fetch_image(image_host.url("/to-http"), policy)


def test_redirect_loops_end(image_host, policy):
    with pytest.raises(ImageURLRefused, match="redirects more than 3 times"):
        fetch_image(image_host.url("/loop"), policy)
    assert len(image_host.requests) == 4


def test_a_body_declared_too_large_is_refused_without_reading_it(image_host, policy):
    # The host sends 1 KB of the 500 MB it declares and then nothing: a fetch that read the body
    # would wait for the rest and end with "took more than 1.5 seconds" instead.
    with pytest.raises(ImageURLRefused, match="over the 1 MB limit"):
        fetch_image(image_host.url("/huge-declared"), policy)


def test_a_body_that_grows_too_large_is_cut_off(image_host, policy):
    with pytest.raises(ImageURLRefused, match="over the 1 MB limit"):
        fetch_image(image_host.url("/huge-streamed"), policy)


@pytest.mark.parametrize("path", ["/slow", "/silent"])
def test_slow_or_silent_servers_are_given_up_on_in_time(image_host, policy, path, monkeypatch):
    waits = []
    open_request = fetch.open_request

    def spy(*args, **kwargs):
        waits.append((kwargs["connect_timeout"], kwargs["read_timeout"]))
        return open_request(*args, **kwargs)

    monkeypatch.setattr(fetch, "open_request", spy)

    with pytest.raises(ImageURLRefused, match="took more than 1.5 seconds"):
        fetch_image(image_host.url(path), policy)

    # Given up while the host was still trickling (10 s) or silent (10 s)...
    assert path not in image_host.finished
    # ...and no single wait on the socket may outlast the fetch's whole budget.
    assert waits and all(max(wait) <= policy.timeout for wait in waits)


def test_an_error_status_is_reported(image_host, policy):
    with pytest.raises(ImageURLRefused, match="answered with HTTP 404 instead of the photo"):
        fetch_image(image_host.url("/nothing"), policy)


def test_an_untrusted_certificate_is_refused(image_host, policy):
    untrusting = FetchPolicy(
        max_bytes=policy.max_bytes,
        resolve=test_resolver,
        address_allowed=policy.address_allowed,
    )
    with pytest.raises(ImageURLRefused, match="did not present a valid certificate"):
        fetch_image(image_host.url("/face.jpg"), untrusting)


def test_the_certificate_must_name_the_host_asked_for(image_host, policy):
    # 127.0.0.1 is allowed in this test world, but the certificate names images.test only.
    with pytest.raises(ImageURLRefused, match="did not present a valid certificate"):
        fetch_image(f"https://127.0.0.1:{image_host.port}/face.jpg", policy)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("::1", False),
        ("10.255.0.1", False),
        ("169.254.1.1", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:93.184.215.14", True),
        ("255.255.255.255", False),
    ],
)
def test_public_addresses(address, public):
    assert is_public_address(address) is public


# --- through the API --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_takes_a_selfie_url(alice_api, image_host, policy, monkeypatch):
    monkeypatch.setattr(fetch, "default_policy", lambda: policy)
    body = {"face_image": image_host.url("/face.jpg"), "consent": True}

    response = alice_api.post("/api/v1/avatars/", body, format="json")

    assert response.status_code == 201, response.content
    assert AvatarJob.objects.get().selfie.size > 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://169.254.169.254/latest/meta-data/", "private or local network address"),
        ("https://[::1]:8000/face.jpg", "private or local network address"),
        ("http://example.com/face.jpg", "Only https:// image URLs"),
    ],
)
def test_the_api_refuses_unsafe_selfie_urls_with_a_message(alice_api, url, message, monkeypatch):
    def no_connection(*args, **kwargs):
        raise AssertionError("a refused URL must not be connected to")

    monkeypatch.setattr(fetch.urllib3, "HTTPSConnectionPool", no_connection)

    response = alice_api.post(
        "/api/v1/avatars/", {"face_image": url, "consent": True}, format="json"
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert message in error["message"]
    assert error["fields"] == {"face_image": [error["message"]]}
    assert not AvatarJob.objects.exists()
