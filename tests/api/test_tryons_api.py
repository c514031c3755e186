"""The try-on API: one of my avatars dressed in a store product or in a garment picture (data URI,
upload or https URL from a loopback host), read, listed, deleted; another user's try-on is 404;
every refusal names its field and stores nothing (no look, no try-on job, no file)."""

import base64
import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from avatar_studio.api.views import AvatarCreateThrottle
from avatar_studio.avatars import quota
from avatar_studio.avatars.models import AvatarJob, JobStatus
from avatar_studio.shop.models import Look, Product, TryOn

from ..embed.garmenthost import garment_png
from ..support import https_host
from ..support.credits import spend
from ..support.jobs import make_finished_job, make_job, wait_until_finished
from .imagehost import ImageHost

URL = "/api/v1/tryons/"
pytestmark = pytest.mark.usefixtures("demo_store")


def _data_uri(png=None):
    return "data:image/png;base64," + base64.b64encode(png or garment_png()).decode()


def _stored(media_root):
    """What a try-on request may leave behind: rows and files."""
    files = (
        sorted(str(p) for p in media_root.rglob("*") if p.is_file()) if media_root.exists() else []
    )
    return (Look.objects.count(), TryOn.objects.count(), AvatarJob.objects.tryons().count(), files)


@pytest.fixture
def avatar(alice):
    return make_finished_job(alice)


@pytest.fixture
def hoodie(db, demo_store):
    return Product.objects.get(slug="forest-hoodie")


@pytest.fixture(scope="module")
def image_host(tmp_path_factory):
    with ImageHost(tmp_path_factory.mktemp("imagehost")) as host:
        yield host


@pytest.fixture
def loopback_fetch(image_host, monkeypatch):
    """The fetcher's rules, except that the loopback image host stands in for the internet."""
    yield from https_host.loopback_fetch(image_host, monkeypatch)


@pytest.mark.django_db
def test_a_product_on_my_avatar(alice, alice_api, avatar, hoodie):
    response = alice_api.post(URL, {"avatar": str(avatar.pk), "product": hoodie.pk}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    look = Look.objects.get()
    assert look.shopper == alice
    assert look.tryon.avatar_result == avatar.avatar_result
    assert body["id"] == str(look.pk)
    assert response["Location"] == body["url"]
    assert body["url"].endswith(f"/api/v1/tryons/{look.pk}/")
    assert body["avatar"] == str(avatar.pk)
    assert body["product"] == hoodie.pk
    assert body["category"] == hoodie.category
    assert (body["model"], body["credits"]) == ("tryon-v1.6", 1)  # standard unless asked
    assert body["status"] == JobStatus.QUEUED
    assert body["image_url"] is None
    assert body["progress"]["is_active"] is True
    # Asking again finds the same try-on, not a second one.
    again = alice_api.post(URL, {"avatar": str(avatar.pk), "product": hoodie.pk}, format="json")
    assert again.json()["id"] == body["id"]
    assert (Look.objects.count(), TryOn.objects.count()) == (1, 1)


@pytest.mark.django_db
def test_a_try_on_spends_the_allowance_as_an_avatar_does(
    alice, alice_api, avatar, hoodie, settings, media_root
):
    settings.AVATAR_DAILY_CREDITS = 10
    left = quota.left_today(alice)  # after the avatar
    body = {"avatar": str(avatar.pk), "product": hoodie.pk}

    first = alice_api.post(URL, body, format="json")
    again = alice_api.post(URL, body, format="json")

    assert first.status_code == again.status_code == 201
    assert first["X-Credits-Left-Today"] == again["X-Credits-Left-Today"] == str(left - 1)
    # Out of credits: a new try-on is refused as an avatar is, and nothing is stored.
    spend(alice, left - 1)
    before = _stored(media_root)
    refused = alice_api.post(URL, {**body, "model": "tryon-max"}, format="json")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 24 * 3600
    assert refused.json()["error"] == {
        "code": "quota_exceeded",
        "message": "You've used all 10 credits of today's allowance; it resets at 00:00 UTC.",
        "fields": {},
    }
    assert _stored(media_root) == before
    # What was made already is still there for the asking, at no cost.
    assert alice_api.post(URL, body, format="json").json()["id"] == first.json()["id"]


@pytest.mark.django_db
def test_a_premium_try_on_is_asked_for_by_model_and_states_its_cost(alice_api, avatar, hoodie):
    body = {"avatar": str(avatar.pk), "product": hoodie.pk}

    premium = alice_api.post(URL, {**body, "model": "tryon-max"}, format="json")
    standard = alice_api.post(URL, body, format="json")

    assert premium.status_code == 201, premium.content
    assert (premium.json()["model"], premium.json()["credits"]) == ("tryon-max", 4)
    assert premium.json()["id"] != standard.json()["id"]  # two try-ons, cached apart
    assert TryOn.objects.get(model_name="tryon-max").job.model_name == "tryon-max"


@pytest.mark.django_db
def test_a_garment_as_a_data_uri(alice_api, avatar):
    body = {"avatar": str(avatar.pk), "garment_image": _data_uri(), "category": "tops"}

    response = alice_api.post(URL, body, format="json")

    assert response.status_code == 201, response.content
    tryon = TryOn.objects.get()
    assert tryon.garment_slug.startswith("url-")
    assert tryon.job.category == "tops"
    with tryon.job.garment_image.open("rb") as stored:
        assert Image.open(stored).format == "PNG"
    assert response.json()["product"] is None
    assert response.json()["garment_key"] == tryon.garment_slug


@pytest.mark.django_db
def test_a_garment_uploaded_as_a_file(alice_api, avatar):
    upload = SimpleUploadedFile("shirt.png", garment_png(), content_type="image/png")
    body = {"avatar": str(avatar.pk), "garment_image": upload, "category": "one-pieces"}

    response = alice_api.post(URL, body, format="multipart")

    assert response.status_code == 201, response.content
    assert TryOn.objects.get().job.category == "one-pieces"


@pytest.mark.django_db
def test_a_garment_at_an_https_url(alice_api, avatar, image_host, loopback_fetch):
    body = {
        "avatar": str(avatar.pk),
        "garment_image": image_host.url("/face.jpg"),
        "category": "tops",
    }

    response = alice_api.post(URL, body, format="json")

    assert response.status_code == 201, response.content
    assert image_host.requests == ["/face.jpg"]
    assert loopback_fetch.connected == ["127.0.0.1"]
    assert TryOn.objects.get().job.garment_image.size > 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"avatar": "bob's"}, "avatar", "No such avatar of yours"),
        ({"avatar": "failed"}, "avatar", "not completed"),
        ({"avatar": "not-a-uuid"}, "avatar", "valid UUID"),
        ({"product": 999999}, "product", "No such product"),
        ({"product": "unpublished"}, "product", "No such product"),
        ({"product": None, "garment_image": "data"}, "category", "Say what the garment is"),
        ({"product": None, "garment_image": "data", "category": "hats"}, "category",
         "valid choice"),
        ({"garment_image": "data", "category": "tops"}, "garment_image", "not both"),
        ({"product": "hoodie", "category": "tops"}, "category", "only with garment_image"),
        ({"product": None}, "product", "Send a product id"),
        ({"product": None, "garment_image": "data:image/png;base64,bm90IGFuIGltYWdl",
          "category": "tops"}, "garment_image", "not a photo"),
        ({"product": None, "garment_image": "https://10.1.2.3/shirt.png", "category": "tops"},
         "garment_image", "private or local network address"),
        ({"product": None, "garment_image": "just text", "category": "tops"}, "garment_image",
         "data URI"),
        ({"colour": "red"}, "colour", "not supported"),
        ({"model": "tryon-v2"}, "model", "valid choice"),
    ],
)  # fmt: skip
def test_refusals_name_the_field_and_store_nothing(
    alice_api, alice, bob, avatar, hoodie, media_root, loopback_fetch, change, field, words
):
    values = {
        "bob's": lambda: str(make_finished_job(bob).pk),
        "failed": lambda: str(make_finished_job(alice, status="failed").pk),
        "unpublished": lambda: (
            Product.objects.create(name="Draft", slug="draft", price=1, category="tops").pk
        ),
        "hoodie": lambda: hoodie.pk,
        "data": _data_uri,
    }
    body = {"avatar": str(avatar.pk), "product": hoodie.pk}
    for name, value in change.items():
        body[name] = values[value]() if isinstance(value, str) and value in values else value
    body = {name: value for name, value in body.items() if value is not None}
    before = _stored(media_root)

    response = alice_api.post(URL, body, format="json")

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"], error
    assert words in error["fields"][field][0]
    assert _stored(media_root) == before


@pytest.mark.django_db
def test_another_users_try_on_is_404_for_read_delete_and_image(alice_api, bob_api, avatar, hoodie):
    created = alice_api.post(URL, {"avatar": str(avatar.pk), "product": hoodie.pk}, format="json")
    look_id = created.json()["id"]

    for response in (
        bob_api.get(f"{URL}{look_id}/"),
        bob_api.delete(f"{URL}{look_id}/"),
        bob_api.get(f"{URL}{look_id}/image/"),
    ):
        assert response.status_code == 404
        assert response.json()["error"] == {
            "code": "not_found",
            "message": "No such try-on.",
            "fields": {},
        }
    assert bob_api.get(URL).json()["count"] == 0
    assert Look.objects.filter(pk=look_id).exists()


@pytest.mark.django_db
def test_the_list_is_mine_newest_first_and_paginated(alice, alice_api, bob_api, bob, demo_store):
    avatar = make_finished_job(alice)
    products = list(Product.objects.published()[:3])
    ids = [
        alice_api.post(URL, {"avatar": str(avatar.pk), "product": p.pk}, format="json").json()["id"]
        for p in products
    ]
    bobs = make_finished_job(bob)
    bob_api.post(URL, {"avatar": str(bobs.pk), "product": products[0].pk}, format="json")

    first = alice_api.get(URL, {"page_size": 2}).json()
    second = alice_api.get(first["next"]).json()

    assert first["count"] == 3
    assert [t["id"] for t in first["results"] + second["results"]] == ids[::-1]
    assert [t["product"] for t in first["results"]] == [products[2].pk, products[1].pk]
    assert alice_api.get(URL, {"page_size": 0}).status_code == 400


@pytest.mark.django_db
def test_deleting_my_try_on_deletes_it_and_its_garment_file(
    alice_api, avatar, hoodie, django_capture_on_commit_callbacks
):
    look_id = alice_api.post(
        URL, {"avatar": str(avatar.pk), "product": hoodie.pk}, format="json"
    ).json()["id"]
    tryon = TryOn.objects.select_related("job").get()
    garment = tryon.job.garment_image.name
    assert default_storage.exists(garment)

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_api.delete(f"{URL}{look_id}/")

    assert response.status_code == 204
    assert not Look.objects.exists()
    assert not TryOn.objects.exists()
    assert not AvatarJob.objects.tryons().exists()
    assert not default_storage.exists(garment)
    assert AvatarJob.objects.filter(pk=avatar.pk).exists()  # the avatar stays
    assert alice_api.get(f"{URL}{look_id}/").status_code == 404


@pytest.mark.django_db
def test_the_image_is_404_until_the_try_on_has_a_picture(alice_api, avatar, hoodie):
    look_id = alice_api.post(
        URL, {"avatar": str(avatar.pk), "product": hoodie.pk}, format="json"
    ).json()["id"]
    response = alice_api.get(f"{URL}{look_id}/image/")
    assert response.status_code == 404
    assert "no picture yet" in response.json()["error"]["message"]


@pytest.mark.django_db
def test_creating_try_ons_is_throttled_with_avatar_creation(alice_api, avatar, monkeypatch):
    monkeypatch.setattr(AvatarCreateThrottle, "THROTTLE_RATES", {"avatar_create": "2/hour"})
    products = list(Product.objects.published()[:3])

    answers = [
        alice_api.post(URL, {"avatar": str(avatar.pk), "product": p.pk}, format="json")
        for p in products
    ]

    assert [a.status_code for a in answers] == [201, 201, 429]
    assert answers[2].json()["error"]["code"] == "throttled"
    assert Look.objects.count() == 2


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_try_on_completes_through_the_worker_and_its_picture_is_served(
    start_worker, engine, alice, alice_api, demo_store
):
    start_worker()
    avatar = wait_until_finished(make_job(alice, output_format="jpeg"))
    assert avatar.status == JobStatus.COMPLETED
    body = {"avatar": str(avatar.pk), "garment_image": _data_uri(), "category": "tops"}

    created = alice_api.post(URL, body, format="json")
    assert created.status_code == 201, created.content
    job = wait_until_finished(TryOn.objects.get().job)
    assert job.status == JobStatus.COMPLETED, job.error_message

    read = alice_api.get(created.json()["url"]).json()
    assert read["status"] == JobStatus.COMPLETED
    assert read["image_url"].endswith(f"/api/v1/tryons/{read['id']}/image/")
    response = alice_api.get(read["image_url"])
    assert response.status_code == 200
    picture = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert picture.size == Image.open(avatar.results.get().image.path).size
    assert engine.stats()["runs_accepted"] == 2  # the avatar, then the try-on


@pytest.mark.django_db
def test_a_refused_avatar_means_the_garment_url_is_never_fetched(
    alice_api, bob, image_host, loopback_fetch
):
    body = {
        "avatar": str(make_finished_job(bob).pk),
        "garment_image": image_host.url("/face.jpg"),
        "category": "tops",
    }

    response = alice_api.post(URL, body, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["avatar"]
    assert image_host.requests == []
    assert loopback_fetch.connected == []
