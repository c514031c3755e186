"""Try-on webhooks: a webhook_url given with POST /api/v1/tryons/ is checked as an avatar's is,
gets a secret shown once, and is sent a signed tryon.completed or tryon.failed when the try-on
ends (at once if it already has), by the same delivery machine as avatar webhooks. Each request
that gives one gets its own webhook and events, also for a cached try-on. Every receiver is a
real HTTP server on 127.0.0.1; nothing else is ever connected to.

The first part runs in this process (ends are made with ``end_job``, attempts made one at a
time); the last part runs the whole flow with a real Celery worker and the offline engine.
"""

import base64
import json
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from avatar_studio.api import deliveries, webhooks
from avatar_studio.api.models import Webhook, WebhookDelivery
from avatar_studio.avatars import services
from avatar_studio.avatars.models import AvatarJob, JobStatus
from avatar_studio.shop.models import Look, TryOn

from ..embed.garmenthost import garment_png
from ..support.faces import astronaut_jpeg
from ..support.jobs import end_job, make_finished_job, make_job, wait_until_finished
from ..support.waiting import wait_for
from .hookreceiver import HookReceiver
from .test_webhooks import worker_env  # noqa: F401 - fast retries, loopback allowed

URL = "/api/v1/tryons/"
pytestmark = pytest.mark.usefixtures("demo_store")
LOOPBACK = webhooks.WebhookPolicy(allow_loopback=True, connect_timeout=1.0, read_timeout=2.0)


@pytest.fixture
def receiver():
    with HookReceiver() as receiver:
        yield receiver


@pytest.fixture
def loopback_hooks(settings):
    """Webhook URLs on loopback are allowed (the receiver); nothing else is."""
    settings.API_WEBHOOK_ALLOW_LOOPBACK_HTTP = True


@pytest.fixture
def avatar(alice):
    return make_finished_job(alice)


@pytest.fixture
def hoodie(demo_store):
    return demo_store["forest-hoodie"]


def _ask(client, avatar, product, **fields):
    body = {"avatar": str(avatar.pk), "product": product.pk, **fields}
    response = client.post(URL, body, format="json")
    return response


def _created(response):
    assert response.status_code == 201, response.content
    return response.json()


def _tryon_job():
    return TryOn.objects.get().job


def _only_delivery():
    return WebhookDelivery.objects.select_related("webhook").get()


def _without_webhook(tryon):
    return {name: value for name, value in tryon.items() if name != "webhook"}


def _stored(media_root):
    """What a try-on request may leave behind: rows and files."""
    files = (
        sorted(str(p) for p in media_root.rglob("*") if p.is_file()) if media_root.exists() else []
    )
    counts = (Look, TryOn, Webhook, WebhookDelivery)
    return [model.objects.count() for model in counts] + [
        AvatarJob.objects.tryons().count(),
        files,
    ]


def _signed_by(request, secret):
    header = request.headers["X-Avatar-Studio-Signature"]
    return webhooks.verify_signature(secret, header, request.body)


# --- asking for one -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1/hooks/tryon",
        "https://[::1]/hooks/tryon",
        "http://127.0.0.1:8000/hooks/tryon",
        "https://user:pass@10.0.0.1/hooks/tryon",
        "not a url",
    ],
)
def test_a_refused_webhook_url_is_refused_as_for_avatars_and_nothing_is_created(
    alice_api, avatar, no_network, media_root, url
):
    garment = "data:image/png;base64," + base64.b64encode(garment_png()).decode()
    body = {"avatar": str(avatar.pk), "garment_image": garment, "category": "tops"}
    before = _stored(media_root)

    response = alice_api.post(URL, {**body, "webhook_url": url}, format="json")

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"] == {"webhook_url": [error["message"]]}
    # The avatar API's own check, in its words.
    face = "data:image/jpeg;base64," + base64.b64encode(astronaut_jpeg()).decode()
    for_avatar = alice_api.post(
        "/api/v1/avatars/", {"face_image": face, "consent": True, "webhook_url": url}, format="json"
    )
    assert for_avatar.status_code == 400
    assert for_avatar.json()["error"]["fields"] == error["fields"]
    assert _stored(media_root) == before  # no look, try-on, job, webhook or file


@pytest.mark.django_db
def test_the_secret_is_shown_once_and_reads_show_the_webhook(
    alice_api, avatar, hoodie, receiver, loopback_hooks, alice
):
    body = _created(_ask(alice_api, avatar, hoodie, webhook_url=receiver.url("/hooks/tryon?s=7")))

    webhook = body["webhook"]
    assert webhook["url"] == receiver.url("/hooks/tryon?s=7")
    assert webhook["last_delivery"] is None
    secret = webhook["secret"]
    assert secret.startswith("whsec_")
    stored = Webhook.objects.get()
    assert (stored.look_id, stored.job_id, stored.secret) == (
        Look.objects.get(shopper=alice).pk,
        None,
        secret,
    )
    assert stored.api_base_url == "http://testserver/"
    for read in (alice_api.get(body["url"]), alice_api.get(URL)):
        assert read.status_code == 200
        assert "secret" not in read.content.decode() and secret not in read.content.decode()
    assert alice_api.get(body["url"]).json()["webhook"] == {
        "url": receiver.url("/hooks/tryon?s=7"),
        "last_delivery": None,
    }


@pytest.mark.django_db
def test_without_a_webhook_url_there_is_no_webhook(alice_api, avatar, hoodie):
    for value in ({}, {"webhook_url": None}, {"webhook_url": ""}):
        assert _created(_ask(alice_api, avatar, hoodie, **value))["webhook"] is None
    assert not Webhook.objects.exists()
    assert alice_api.get(URL).json()["results"][0]["webhook"] is None


@pytest.mark.django_db
def test_a_webhook_url_in_a_multipart_form_works_too(alice_api, avatar, receiver, loopback_hooks):
    upload = SimpleUploadedFile("shirt.png", garment_png(), content_type="image/png")
    body = {
        "avatar": str(avatar.pk),
        "garment_image": upload,
        "category": "tops",
        "webhook_url": receiver.url(),
    }

    response = alice_api.post(URL, body, format="multipart")

    assert _created(response)["webhook"]["secret"].startswith("whsec_")
    assert Webhook.objects.get().look == Look.objects.get()


# --- ends told at once, once, and to each webhook -----------------------------------------------


@pytest.mark.django_db
def test_a_try_on_that_already_completed_is_told_at_once_and_only_once(
    alice_api, avatar, hoodie, receiver, loopback_hooks
):
    first = _created(_ask(alice_api, avatar, hoodie))
    job = end_job(_tryon_job())

    late = _created(_ask(alice_api, avatar, hoodie, webhook_url=receiver.url("/late")))

    assert late["id"] == first["id"]  # the cached try-on, the same look
    delivery = _only_delivery()
    assert late["webhook"]["last_delivery"]["id"] == str(delivery.pk)
    assert late["webhook"]["last_delivery"]["event"] == "tryon.completed"
    assert deliveries.attempt(delivery.pk, delivery.token, LOOPBACK).delivered
    [request] = receiver.received
    assert _signed_by(request, late["webhook"]["secret"])
    assert request.headers["X-Avatar-Studio-Event"] == "tryon.completed"
    assert request.headers["X-Avatar-Studio-Delivery"] == str(delivery.pk)
    event = json.loads(request.body)
    assert (event["id"], event["event"]) == (str(delivery.pk), "tryon.completed")
    read = alice_api.get(late["url"]).json()
    assert event["tryon"] == _without_webhook(read)
    assert event["tryon"]["image_url"] == f"http://testserver/api/v1/tryons/{late['id']}/image/"
    assert read["webhook"]["last_delivery"]["state"] == "delivered"
    # The job's own end, should its receiver run late, finds that end told already.
    assert deliveries.on_job_finished(AvatarJob, job_id=job.pk, status=job.status) == []
    assert WebhookDelivery.objects.count() == 1


@pytest.mark.django_db
def test_a_try_on_that_failed_for_good_is_told_tryon_failed_at_once(
    alice_api, avatar, hoodie, receiver, loopback_hooks
):
    _created(_ask(alice_api, avatar, hoodie))
    # A pose FASHN cannot dress: asking again cannot help, so the request does not retry it.
    end_job(_tryon_job(), status="failed", error_name="PoseError")

    late = _created(_ask(alice_api, avatar, hoodie, webhook_url=receiver.url()))

    assert late["status"] == JobStatus.FAILED
    delivery = _only_delivery()
    assert delivery.event == "tryon.failed"
    assert deliveries.attempt(delivery.pk, delivery.token, LOOPBACK).delivered
    event = json.loads(receiver.received[0].body)
    assert event["event"] == "tryon.failed"
    assert event["tryon"]["status"] == "failed" and event["tryon"]["error_message"]
    assert event["tryon"] == _without_webhook(alice_api.get(late["url"]).json())


@pytest.mark.django_db
def test_a_failed_try_on_started_again_by_the_request_is_told_at_its_next_end(
    alice_api, avatar, hoodie, receiver, loopback_hooks
):
    _created(_ask(alice_api, avatar, hoodie))
    end_job(_tryon_job(), status="failed", error_name="PipelineError")

    late = _created(_ask(alice_api, avatar, hoodie, webhook_url=receiver.url()))

    assert late["status"] == JobStatus.QUEUED  # started again: its old failure is not told
    assert not WebhookDelivery.objects.exists()
    job = end_job(_tryon_job())
    [delivery] = deliveries.on_job_finished(AvatarJob, job_id=job.pk, status=job.status)
    assert delivery.event == "tryon.completed"


@pytest.mark.django_db
def test_each_request_with_a_webhook_url_gets_its_own_webhook_and_event(
    alice_api, avatar, hoodie, receiver, loopback_hooks
):
    first = _created(_ask(alice_api, avatar, hoodie, webhook_url=receiver.url("/first")))
    second = _created(_ask(alice_api, avatar, hoodie, webhook_url=receiver.url("/second")))

    assert first["id"] == second["id"]
    assert first["webhook"]["secret"] != second["webhook"]["secret"]
    read = alice_api.get(first["url"]).json()
    assert read["webhook"]["url"] == receiver.url("/second")  # the newest request's
    job = end_job(_tryon_job())
    told = deliveries.on_job_finished(AvatarJob, job_id=job.pk, status=job.status)

    assert sorted(delivery.webhook.url for delivery in told) == [
        receiver.url("/first"),
        receiver.url("/second"),
    ]
    for delivery in told:
        assert deliveries.attempt(delivery.pk, delivery.token, LOOPBACK).delivered
    secrets = {"/first": first["webhook"]["secret"], "/second": second["webhook"]["secret"]}
    assert sorted(request.path for request in receiver.received) == ["/first", "/second"]
    for request in receiver.received:
        assert _signed_by(request, secrets[request.path])
        assert not _signed_by(request, secrets[{"/first": "/second"}.get(request.path, "/first")])


@pytest.mark.django_db
@pytest.mark.parametrize("deleted", ["try-on", "avatar"])
def test_deleting_the_try_on_or_its_avatar_drops_its_pending_deliveries(
    alice_api, avatar, hoodie, receiver, loopback_hooks, deleted
):
    _created(_ask(alice_api, avatar, hoodie))
    end_job(_tryon_job())
    late = _created(_ask(alice_api, avatar, hoodie, webhook_url=receiver.url()))
    delivery = _only_delivery()

    if deleted == "try-on":
        assert alice_api.delete(late["url"]).status_code == 204
    else:
        services.delete_avatar(avatar)

    assert not Webhook.objects.exists() and not WebhookDelivery.objects.exists()
    assert deliveries.attempt(delivery.pk, delivery.token, LOOPBACK) is None  # its task
    assert receiver.received == []


@pytest.mark.django_db
def test_the_list_shows_delivery_state_in_a_constant_number_of_queries(
    alice_api, avatar, demo_store, receiver, loopback_hooks, django_assert_max_num_queries
):
    products = list(demo_store.values())[:3]
    for product in products:
        _created(_ask(alice_api, avatar, product))
    for tryon in TryOn.objects.select_related("job"):
        end_job(tryon.job)
    for product in products:
        _created(_ask(alice_api, avatar, product, webhook_url=receiver.url()))

    with django_assert_max_num_queries(5):
        body = alice_api.get(URL).json()

    states = [tryon["webhook"]["last_delivery"]["state"] for tryon in body["results"]]
    assert states == ["pending"] * 3


# --- the whole flow: a real worker, the offline engine, a real receiver --------------------------


def _avatar_made_by_the_engine(owner):
    """A completed avatar made through the worker (the engine dresses only a real picture)."""
    avatar = wait_until_finished(make_job(owner, output_format="jpeg"))
    assert avatar.status == JobStatus.COMPLETED, avatar.error_message
    return avatar


def _avatar_while_no_worker_runs(start_worker, owner):
    """An avatar made by the engine, with its worker stopped since: what the test does next
    happens before any try-on can start."""
    worker = start_worker()
    avatar = _avatar_made_by_the_engine(owner)
    worker.stop()
    return avatar


def _wait_for_delivery(look_id, *, state, count=1, timeout=30):
    def finished():
        found = list(WebhookDelivery.objects.filter(webhook__look_id=look_id, state=state))
        return found if len(found) >= count else None

    return wait_for(finished, timeout=timeout, message=f"{count} {state} deliveries")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_try_on_delivers_one_signed_tryon_completed_matching_its_read(
    start_worker, alice, alice_api, hoodie, receiver
):
    start_worker()
    avatar = _avatar_made_by_the_engine(alice)

    created = _created(_ask(alice_api, avatar, hoodie, webhook_url=receiver.url("/hooks/tryon")))

    assert wait_until_finished(_tryon_job()).status == JobStatus.COMPLETED
    [delivery] = _wait_for_delivery(created["id"], state="delivered")
    [request] = receiver.received
    assert request.path == "/hooks/tryon"
    assert _signed_by(request, created["webhook"]["secret"])
    assert request.headers["X-Avatar-Studio-Event"] == "tryon.completed"
    assert request.headers["X-Avatar-Studio-Delivery"] == str(delivery.pk)
    event = json.loads(request.body)
    assert (event["id"], event["event"]) == (str(delivery.pk), "tryon.completed")
    read = alice_api.get(created["url"]).json()
    assert event["tryon"] == _without_webhook(read)
    assert event["tryon"]["status"] == "completed" and event["tryon"]["image_url"]
    assert read["webhook"]["last_delivery"]["state"] == "delivered"
    assert read["webhook"]["last_delivery"]["attempts"] == 1
    time.sleep(0.5)
    assert len(receiver.received) == 1  # once


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_failed_try_on_delivers_tryon_failed(
    start_worker, engine, alice, alice_api, hoodie, receiver
):
    start_worker()
    avatar = _avatar_made_by_the_engine(alice)
    engine.add_faults({"on": "prediction", "error_name": "PoseError", "times": 1})

    created = _created(_ask(alice_api, avatar, hoodie, webhook_url=receiver.url()))

    job = wait_until_finished(_tryon_job())
    assert (job.status, job.error_name) == (JobStatus.FAILED, "PoseError")
    assert engine.stats()["faults_pending"] == []  # the fault hit
    _wait_for_delivery(created["id"], state="delivered")
    [request] = receiver.received
    assert request.headers["X-Avatar-Studio-Event"] == "tryon.failed"
    assert _signed_by(request, created["webhook"]["secret"])
    event = json.loads(request.body)
    assert event["event"] == "tryon.failed"
    assert event["tryon"] == _without_webhook(alice_api.get(created["url"]).json())
    assert event["tryon"]["status"] == "failed"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_every_request_for_the_cached_try_on_gets_its_own_event(
    start_worker, alice, alice_api, hoodie, receiver
):
    avatar = _avatar_while_no_worker_runs(start_worker, alice)
    first = _created(_ask(alice_api, avatar, hoodie, webhook_url=receiver.url("/first")))
    second = _created(_ask(alice_api, avatar, hoodie, webhook_url=receiver.url("/second")))
    start_worker()
    _wait_for_delivery(first["id"], state="delivered", count=2)

    # Asked again once it has completed: served from the cache, and told at once.
    late = _created(_ask(alice_api, avatar, hoodie, webhook_url=receiver.url("/late")))
    _wait_for_delivery(first["id"], state="delivered", count=3)

    assert first["id"] == second["id"] == late["id"]
    secrets = {f"/{name}": body["webhook"]["secret"] for name, body in [
        ("first", first), ("second", second), ("late", late)
    ]}  # fmt: skip
    assert sorted(request.path for request in receiver.received) == ["/first", "/late", "/second"]
    read = _without_webhook(alice_api.get(first["url"]).json())
    for request in receiver.received:
        assert _signed_by(request, secrets[request.path])
        assert json.loads(request.body)["tryon"] == read
    assert len({request.headers["X-Avatar-Studio-Delivery"] for request in receiver.received}) == 3
    assert TryOn.objects.count() == 1 and Look.objects.count() == 1
    time.sleep(0.5)
    assert len(receiver.received) == 3


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_receiver_answering_500_then_200_is_tried_again(
    start_worker, alice, alice_api, hoodie, receiver
):
    receiver.answer_with(500, 200)
    start_worker()
    avatar = _avatar_made_by_the_engine(alice)

    created = _created(_ask(alice_api, avatar, hoodie, webhook_url=receiver.url()))

    [delivery] = _wait_for_delivery(created["id"], state="delivered")
    first, second = receiver.received
    assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (2, 200, "")
    assert second.at - first.at >= 0.4 * 0.8  # the backoff (lower bound only: see test_webhooks)
    assert first.body == second.body
    for request in (first, second):
        assert _signed_by(request, created["webhook"]["secret"])
    read = alice_api.get(created["url"]).json()["webhook"]["last_delivery"]
    assert (read["state"], read["attempts"], read["last_status_code"]) == ("delivered", 2, 200)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_try_on_deleted_before_it_completes_leaves_no_delivery(
    start_worker, alice, alice_api, demo_store, receiver
):
    avatar = _avatar_while_no_worker_runs(start_worker, alice)
    hoodie, other = (
        demo_store["forest-hoodie"],
        next(product for slug, product in demo_store.items() if slug != "forest-hoodie"),
    )
    deleted = _created(_ask(alice_api, avatar, hoodie, webhook_url=receiver.url("/deleted")))
    # A second try-on, kept: its event shows the worker has been telling ends meanwhile.
    kept = _created(_ask(alice_api, avatar, other, webhook_url=receiver.url("/kept")))
    assert alice_api.delete(deleted["url"]).status_code == 204
    start_worker()

    _wait_for_delivery(kept["id"], state="delivered")

    # Deleting the try-on deleted its job too: the worker had nothing left to make or tell.
    assert not TryOn.objects.filter(garment_slug__startswith="forest-").exists()
    assert [request.path for request in receiver.received] == ["/kept"]
    assert not Webhook.objects.filter(look_id=deleted["id"]).exists()
    assert [d.webhook.look_id for d in WebhookDelivery.objects.select_related("webhook")] == [
        Look.objects.get().pk
    ]


@pytest.mark.django_db
def test_staff_see_a_try_ons_webhook_in_the_admin_but_never_its_secret(
    client, alice_api, avatar, hoodie, receiver, loopback_hooks, django_user_model
):
    _created(_ask(alice_api, avatar, hoodie))
    end_job(_tryon_job())
    secret = _created(_ask(alice_api, avatar, hoodie, webhook_url=receiver.url()))["webhook"]
    webhook, delivery = Webhook.objects.get(), WebhookDelivery.objects.get()
    client.force_login(django_user_model.objects.create_superuser("root", password="root-pw-1"))

    for page in (
        "/admin/api/webhook/",
        f"/admin/api/webhook/{webhook.pk}/change/",
        "/admin/api/webhookdelivery/",
        f"/admin/api/webhookdelivery/{delivery.pk}/change/",
    ):
        response = client.get(page)
        assert response.status_code == 200, page
        assert secret["secret"] not in response.content.decode()
    assert f"try-on {webhook.look_id}" in client.get("/admin/api/webhookdelivery/").content.decode()
