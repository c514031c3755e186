import ipaddress
import socket

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from avatar_studio.api import fetch


@pytest.fixture(autouse=True)
def _fresh_throttles(fresh_cache):
    """Rate-limit counts live in the cache, keyed by user id: each test starts with none."""


@pytest.fixture
def api():
    """An anonymous API client."""
    return APIClient()


@pytest.fixture
def alice_token(alice):
    return Token.objects.create(user=alice)


@pytest.fixture
def alice_api(alice_token):
    """Alice's server talking to the API with her token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {alice_token.key}")
    return client


@pytest.fixture
def bob_api(bob):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=bob).key}")
    return client


@pytest.fixture
def staff_api(staff):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff).key}")
    return client


@pytest.fixture
def no_network(monkeypatch):
    """Refusals happen before any connection: no DNS for names, no sockets opened."""

    def literal_only(host, *args, **kwargs):
        ipaddress.ip_address(host.strip("[]"))  # raises for a name: no DNS in these tests
        return real_getaddrinfo(host, *args, **kwargs)

    def no_connection(*args, **kwargs):
        raise AssertionError("a refused URL must not be connected to")

    real_getaddrinfo = socket.getaddrinfo
    monkeypatch.setattr(fetch.socket, "getaddrinfo", literal_only)
    monkeypatch.setattr(fetch.urllib3, "HTTPSConnectionPool", no_connection)
    monkeypatch.setattr(fetch.urllib3, "HTTPConnectionPool", no_connection)
