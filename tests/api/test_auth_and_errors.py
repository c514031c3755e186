"""Who may call the API (token, session with CSRF), rate limits, and the one error shape."""

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from ..support.jobs import make_job

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("get", "/api/v1/avatars/"),
    ("post", "/api/v1/avatars/"),
    ("get", "/api/v1/avatars/{id}/"),
    ("delete", "/api/v1/avatars/{id}/"),
    ("post", "/api/v1/avatars/{id}/retry/"),
    ("get", "/api/v1/avatars/{id}/results/0/"),
    ("get", "/api/v1/avatars/{id}/results/0/thumbnail/"),
]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_anonymous_requests_get_401_in_the_api_shape(api, alice, method, url):
    job = make_job(alice)

    response = getattr(api, method)(url.format(id=job.pk))

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {
        "error": {
            "code": "not_authenticated",
            "message": "Authentication credentials were not provided.",
            "fields": {},
        }
    }


def test_a_wrong_token_is_refused(api):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = api.get("/api/v1/avatars/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_an_inactive_users_token_is_refused(alice_api, alice):
    alice.is_active = False
    alice.save()

    assert alice_api.get("/api/v1/avatars/").status_code == 401


def test_the_browser_session_works_for_reads(client, alice):
    make_job(alice)
    client.force_login(alice)

    response = client.get("/api/v1/avatars/")

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_session_writes_need_the_csrf_token(alice):
    job = make_job(alice)
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(alice)

    response = browser.delete(f"/api/v1/avatars/{job.pk}/")

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "permission_denied"
    assert "CSRF" in error["message"]


def test_staff_create_tokens_with_the_drf_command(alice):
    call_command("drf_create_token", "alice", verbosity=0)

    assert Token.objects.get(user=alice)


def test_tokens_are_managed_in_the_admin(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="root-password-1")
    client.force_login(admin)

    assert client.get("/admin/authtoken/tokenproxy/").status_code == 200


def test_creating_avatars_is_rate_limited_per_user(alice_api, bob_api, settings, monkeypatch):
    from avatar_studio.api.views import AvatarCreateThrottle

    monkeypatch.setattr(AvatarCreateThrottle, "THROTTLE_RATES", {"avatar_create": "2/hour"})

    statuses = [alice_api.post("/api/v1/avatars/", {}, format="json").status_code for _ in "abc"]

    assert statuses == [400, 400, 429]
    response = alice_api.post("/api/v1/avatars/", {}, format="json")
    error = response.json()["error"]
    assert error["code"] == "throttled"
    assert error["message"].startswith("Too many requests. Try again in ")
    assert int(response["Retry-After"]) > 0
    # Reads are not counted against creation, and Bob has a budget of his own.
    assert alice_api.get("/api/v1/avatars/").status_code == 200
    assert bob_api.post("/api/v1/avatars/", {}, format="json").status_code == 400


def test_all_requests_are_rate_limited_per_user(alice_api, monkeypatch):
    from rest_framework.throttling import UserRateThrottle

    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/minute"})

    statuses = [alice_api.get("/api/v1/avatars/").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]


def test_an_unknown_method_is_405(alice_api):
    response = alice_api.put("/api/v1/avatars/", {}, format="json")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_an_unknown_api_path_is_404_in_the_api_shape(alice_api):
    response = alice_api.get("/api/v1/nothing-here/")

    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "There is no such API endpoint.", "fields": {}}
    }


def test_a_non_uuid_avatar_id_is_404(alice_api):
    assert alice_api.get("/api/v1/avatars/12/").status_code == 404


def test_the_openapi_schema_and_docs_pages_are_served(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    spec = schema.json()
    assert {
        "/api/v1/avatars/",
        "/api/v1/avatars/{job_id}/",
        "/api/v1/avatars/{job_id}/retry/",
    } <= set(spec["paths"])
    assert "tokenAuth" in spec["components"]["securitySchemes"]

    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "swagger-ui" in page and "cdn.jsdelivr" not in page  # served locally, no CDN
    assert client.get("/api/redoc/").status_code == 200
