import pytest

from avatar_studio.embed.models import Shop

from ..support.https_host import loopback_fetch
from .garmenthost import GarmentHost

SHOP_ORIGIN = "https://shop.example"


@pytest.fixture(scope="session")
def garment_host(tmp_path_factory):
    with GarmentHost(tmp_path_factory.mktemp("garmenthost")) as host:
        yield host


@pytest.fixture
def fetch_policy(garment_host, monkeypatch):
    """The fetcher's rules, except that loopback (only) stands in for the public internet."""
    yield from loopback_fetch(garment_host, monkeypatch)


@pytest.fixture
def shop(db):
    return Shop.objects.create(
        name="Corner Boutique", allowed_origins=f"{SHOP_ORIGIN}\nhttp://127.0.0.1:8123"
    )
