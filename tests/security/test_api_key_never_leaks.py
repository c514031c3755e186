"""The FASHN API key appears in no page, no API answer, no log line and no error report."""

import logging
import uuid

import pytest
import requests
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils.log import AdminEmailHandler
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from avatar_studio.avatars.models import JobStatus

from ..privacy.conftest import run_pipeline_in_process
from ..support.jobs import make_finished_job, make_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def sentinel(settings, engine):
    """A key the offline engine does not know: every FASHN call is refused with 401."""
    key = f"fk-SENTINEL-{uuid.uuid4().hex}"
    settings.FASHN_API_KEY = key
    settings.FASHN_BASE_URL = engine.url
    return key


@pytest.fixture
def reports(settings):
    """Django's error reports, as mailed to ADMINS (text and HTML with the frames' variables)."""
    settings.ADMINS = [("Ops", "ops@example.com")]
    settings.DEBUG = False
    handler = AdminEmailHandler(include_html=True)
    handler.setLevel(logging.ERROR)
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield mail.outbox
    logger.removeHandler(handler)


def _around(text, needle):
    at = text.find(needle)
    return text[max(0, at - 200) : at + 50]


def _everything_sent(responses, caplog, outbox):
    texts = [response.content.decode(errors="replace") for response in responses]
    texts += [str(response.headers) for response in responses]
    texts += [record.getMessage() for record in caplog.records]
    texts += [caplog.text]
    for message in outbox:
        texts += [message.subject, message.body]
        texts += [content for content, _type in getattr(message, "alternatives", [])]
    return texts


def test_the_key_is_nowhere(
    sentinel, alice, admin_user, fast_pipeline, caplog, reports, monkeypatch
):
    caplog.set_level(logging.DEBUG)
    # An error: the job fails because FASHN refuses the key.
    failed = run_pipeline_in_process(make_job(alice))
    assert failed.status == JobStatus.FAILED and failed.error_name == "ServiceMisconfigured"
    completed = make_finished_job(alice)
    responses = []

    owner = Client()
    owner.force_login(alice)
    for url in (
        "/",
        reverse("avatars:gallery"),
        reverse("avatars:job", args=[failed.pk]),
        reverse("avatars:job-status", args=[failed.pk]),
        reverse("avatars:job", args=[completed.pk]),
        reverse("privacy"),
        reverse("account"),
    ):
        responses.append(owner.get(url))

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=alice).key}")
    for url in ("/api/v1/avatars/", f"/api/v1/avatars/{failed.pk}/", "/api/schema/"):
        responses.append(api.get(url))
    responses.append(api.post(f"/api/v1/avatars/{failed.pk}/retry/", {}, format="json"))

    staff = Client()
    staff.force_login(admin_user)
    for url in (
        reverse("admin:avatars_avatarjob_changelist"),
        reverse("admin:avatars_avatarjob_change", args=[failed.pk]),
        reverse("admin:avatars_avatarjob_dashboard"),  # asks FASHN for the balance: 401
    ):
        responses.append(staff.get(url))
    assert all(response.status_code < 500 for response in responses)

    # An unexpected error inside a FASHN call, in a request: a 500 and Django's error report,
    # whose HTML lists every frame's variables (the request headers being built among them).
    def explode(*args, **kwargs):
        raise RuntimeError("the connection pool broke")

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", explode)
    crashing = Client(raise_request_exception=False)
    crashing.force_login(admin_user)
    crash = crashing.get(reverse("admin:avatars_avatarjob_dashboard"))
    assert crash.status_code == 500
    responses.append(crash)
    assert reports, "the error report was not sent"

    texts = _everything_sent(responses, caplog, reports)
    assert any(
        "ServiceMisconfigured" in text or "refused our credentials" in text for text in texts
    )
    leaks = [
        text[max(0, text.find(sentinel) - 200) : text.find(sentinel) + 50]
        for text in texts
        if sentinel in text
    ]
    assert leaks == []


def test_a_malformed_key_is_not_echoed_by_the_error_it_causes(
    settings, engine, alice, fast_pipeline, caplog, reports
):
    """A key with a stray newline (say, from an env file) makes requests refuse the header, and
    its message quotes the header value."""
    key = f"fk-SENTINEL-{uuid.uuid4().hex}"
    settings.FASHN_API_KEY = key + "\n"
    settings.FASHN_BASE_URL = engine.url
    caplog.set_level(logging.DEBUG)

    job = run_pipeline_in_process(make_job(alice))
    staff = Client(raise_request_exception=False)
    staff.force_login(alice)
    page = staff.get(reverse("avatars:job", args=[job.pk]))

    assert job.status == JobStatus.FAILED
    texts = _everything_sent([page], caplog, reports)
    assert [text for text in texts if key in text] == []
