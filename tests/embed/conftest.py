import ipaddress
import socket

import pytest

from avatar_studio.api import fetch
from avatar_studio.embed.models import Shop

from .garmenthost import NAME, GarmentHost

SHOP_ORIGIN = "https://shop.example"

# The test world's DNS: the garment host on loopback stands in for a public host.
ZONE = {NAME: ["127.0.0.1"], "intranet.test": ["10.1.2.3"]}


def zone_resolver(host, port):
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    if host not in ZONE:
        raise socket.gaierror(f"unknown host {host}")
    return ZONE[host]


@pytest.fixture(scope="session")
def garment_host(tmp_path_factory):
    with GarmentHost(tmp_path_factory.mktemp("garmenthost")) as host:
        yield host


@pytest.fixture
def fetch_policy(garment_host, monkeypatch):
    """The fetcher's rules, except that loopback (only) stands in for the public internet."""
    policy = fetch.FetchPolicy(
        max_bytes=1024 * 1024,
        timeout=5,
        resolve=zone_resolver,
        address_allowed=lambda address: address == "127.0.0.1",
        ca_certs=garment_host.ca_file,
    )
    monkeypatch.setattr(fetch, "default_policy", lambda: policy)
    garment_host.requests.clear()
    yield policy
    assert set(policy.connected) <= {"127.0.0.1"}  # nothing but loopback, ever


@pytest.fixture
def shop(db):
    return Shop.objects.create(
        name="Corner Boutique", allowed_origins=f"{SHOP_ORIGIN}\nhttp://127.0.0.1:8123"
    )
