"""The Content-Security-Policy on every page, no inline script or style in our pages, and the
production headers."""

import base64
import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from avatar_studio.avatars import sharing

from ..support.jobs import make_finished_job, make_job

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=", re.I)


def _directives(response):
    policy = response["Content-Security-Policy"]
    return {
        part.split()[0]: part.split()[1:] for part in (p.strip() for p in policy.split(";")) if part
    }


def _assert_strict(response):
    csp = _directives(response)
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["base-uri"] == ["'self'"]
    html = response.content.decode()
    assert not INLINE_SCRIPT.findall(html), "inline script"
    assert not INLINE_STYLE.findall(html), "inline style"


@pytest.fixture
def jobs(alice):
    completed = make_finished_job(alice)
    sharing.create_share_link(completed, days=1)
    return {
        "active": make_job(alice),
        "completed": completed,
        "failed": make_finished_job(alice, status="failed"),
    }


def test_public_pages(client):
    for url in ("/", reverse("login"), reverse("signup"), reverse("privacy"), "/nowhere/"):
        _assert_strict(client.get(url))


def test_the_owners_pages(client, alice, jobs):
    client.force_login(alice)
    urls = [
        "/",
        reverse("avatars:gallery"),
        reverse("account"),
        reverse("account-delete"),
        reverse("password_change"),
        *(reverse("avatars:job", args=[job.pk]) for job in jobs.values()),
        reverse("avatars:job-delete", args=[jobs["completed"].pk]),
        reverse("avatars:shared", args=[jobs["completed"].share_links.get().token]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_strict(response)
    # The htmx panel alone too.
    panel = client.get(reverse("avatars:job", args=[jobs["active"].pk]), HTTP_HX_REQUEST="true")
    _assert_strict(panel)


def test_the_admin_and_the_dashboard(client, admin_user, jobs):
    client.force_login(admin_user)
    urls = [
        reverse("admin:index"),
        reverse("admin:avatars_avatarjob_changelist"),
        reverse("admin:avatars_avatarjob_change", args=[jobs["completed"].pk]),
        reverse("admin:avatars_avatarjob_dashboard"),
        reverse("admin:auth_user_changelist"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_strict(response)


def test_htmx_is_told_not_to_inject_styles_or_evaluate_code(client):
    html = client.get("/").content.decode()
    assert '"includeIndicatorStyles": false' in html
    assert '"allowEval": false' in html


def test_the_api_docs_allow_only_their_own_inline_script_by_hash(client, alice):
    client.force_login(alice)
    response = client.get(reverse("api:docs"))
    csp = _directives(response)

    scripts = re.findall(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", response.content, re.S)
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in scripts
    ]
    assert hashes
    assert csp["script-src"] == ["'self'", *hashes]
    assert "'unsafe-inline'" not in csp["script-src"]


def test_production_redirects_to_https_and_sends_hsts(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True

    insecure = client.get(reverse("privacy"))
    secure = client.get(reverse("privacy"), secure=True)

    assert insecure.status_code == 301
    assert insecure["Location"].startswith("https://")
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert secure["X-Frame-Options"] == "DENY"
    assert secure["X-Content-Type-Options"] == "nosniff"
    assert secure["Referrer-Policy"] == "same-origin"
    assert secure["Cross-Origin-Opener-Policy"] == "same-origin"


def _production_env():
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SECURE_"))
    }
    env.update(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="test-deploy-" + "k3y-" * 16,
        DJANGO_ALLOWED_HOSTS="avatars.example.com",
        DJANGO_SETTINGS_MODULE="avatar_studio.settings",
        FASHN_API_KEY="test-deploy-check",  # production needs one; nothing is sent with it
    )
    return env


def test_production_settings_are_secure():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS >= 31536000, s.SESSION_COOKIE_HTTPONLY, s.X_FRAME_OPTIONS)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.split() == ["False", "True", "True", "True", "True", "True", "DENY"]


def test_check_deploy_is_clean_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
