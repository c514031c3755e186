import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


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
