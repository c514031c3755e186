"""Download my data: a zip of the user's own images and try-ons and a JSON record of the rest,
from a POST on the account page, rate limited, and never with anyone else's data."""

import io
import json
import re
import zipfile
from pathlib import PurePosixPath

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from avatar_studio.accounts.services import create_api_token
from avatar_studio.avatars.consent import CONSENT_VERSION
from avatar_studio.avatars.models import JobStatus
from avatar_studio.avatars.review import services as review
from avatar_studio.avatars.sharing import create_share_link, revoke_share_link
from avatar_studio.embed.models import EmbedLook, Shop
from avatar_studio.shop import services as shop_services
from avatar_studio.shop.models import Look, Product

from ..support.jobs import make_finished_job, make_job, wait_until_finished
from .pages import visible_text

TEE = "sunset-logo-tee"
EXPORT = reverse("data-export")


def download(client):
    """Press "Download my data": the response, and the zip it carries."""
    response = client.post(EXPORT)
    assert response.status_code == 200, response.content[:500]
    body = b"".join(response.streaming_content)
    return response, zipfile.ZipFile(io.BytesIO(body))


def record(archive):
    return json.loads(archive.read("data.json"))


def stored_bytes(field_file):
    with default_storage.open(field_file.name, "rb") as handle:
        return handle.read()


def suffix(result):
    return PurePosixPath(result.image.name).suffix


def ask_for_look(client, avatar_job, slug=TEE):
    """Press "See it on me" / "See it on a model" in the store: the shopper's new look."""
    response = client.post(
        reverse("shop:try-on", args=[slug]), {"avatar": avatar_job.results.get().pk}
    )
    assert response.status_code == 302
    return Look.objects.get(pk=re.search(r"look=([0-9a-f-]+)", response["Location"]).group(1))


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_zip_holds_my_data_and_nobody_elses(client, start_worker, engine, alice, bob, staff):
    engine.configure(processing_seconds=0.2)
    start_worker()
    alice.email = "alice@example.org"
    alice.save()
    mine = wait_until_finished(make_job(alice, prompt="athletic build", output_format="jpeg"))
    theirs = wait_until_finished(make_job(bob, prompt="curvy figure", output_format="png"))
    assert mine.status == theirs.status == JobStatus.COMPLETED
    for avatar in (mine, theirs):  # both shared in the store as models
        review.offer_for_display(avatar)
        review.approve(avatar, reviewer=staff)
    link = create_share_link(mine, days=7)
    old_link = create_share_link(mine, days=7)
    revoke_share_link(old_link)
    key = create_api_token(alice).key
    # Alice tries the tee on Bob's model and on her own avatar; Bob tries it, and a hoodie, on
    # Alice's avatar: those try-ons show Alice's face but are Bob's, who asked for them.
    client.force_login(alice)
    on_bobs_model = ask_for_look(client, theirs)
    client.force_login(bob)
    bobs_tee_on_alice = ask_for_look(client, mine)
    bobs_hoodie_on_alice = ask_for_look(client, mine, slug="forest-hoodie")
    client.force_login(alice)
    on_my_avatar = ask_for_look(client, mine)
    assert on_my_avatar.tryon != bobs_tee_on_alice.tryon  # each shopper's own
    for look in (on_bobs_model, on_my_avatar, bobs_tee_on_alice, bobs_hoodie_on_alice):
        assert wait_until_finished(look.tryon.job).status == JobStatus.COMPLETED
    assert bobs_hoodie_on_alice.tryon.job.owner == bob
    # Alice also made a look through a shop's button, and Bob one of his own.
    boutique = Shop.objects.create(name="Boutique Lune", allowed_origins="https://lune.example")
    EmbedLook.objects.create(
        look=on_my_avatar, shop=boutique, origin="https://lune.example", garment_name="Lune tee"
    )
    EmbedLook.objects.create(
        look=bobs_tee_on_alice, shop=boutique, origin="https://lune.example", garment_name="Nope"
    )

    client.force_login(alice)
    response, archive = download(client)

    assert response["Content-Type"] == "application/zip"
    assert re.fullmatch(
        r'attachment; filename="avatar-studio-data-\d{4}-\d{2}-\d{2}\.zip"',
        response["Content-Disposition"],
    )
    assert response["Cache-Control"] == "private, no-store"
    [my_image] = mine.results.all()
    my_tryon = on_my_avatar.tryon.job.results.get()
    bobs_model_tryon = on_bobs_model.tryon.job.results.get()
    my_tryon_name = f"try-ons/{on_my_avatar.pk}/image-0{suffix(my_tryon)}"
    bobs_model_tryon_name = f"try-ons/{on_bobs_model.pk}/image-0{suffix(bobs_model_tryon)}"
    assert sorted(archive.namelist()) == sorted(
        [
            "README.txt",
            "data.json",
            f"avatars/{mine.pk}/image-0.jpg",
            bobs_model_tryon_name,
            my_tryon_name,
        ]
    )
    assert archive.read(f"avatars/{mine.pk}/image-0.jpg") == stored_bytes(my_image.image)
    assert archive.read(my_tryon_name) == stored_bytes(my_tryon.image)
    assert archive.read(bobs_model_tryon_name) == stored_bytes(bobs_model_tryon.image)

    data = record(archive)
    assert data["account"]["username"] == "alice"
    assert data["account"]["email"] == "alice@example.org"
    assert data["account"]["date_joined"] == alice.date_joined.isoformat()
    [job] = data["jobs"]
    mine.refresh_from_db()
    assert job["id"] == str(mine.pk)
    assert job["status"] == "completed"
    assert job["created_at"] == mine.created_at.isoformat()
    assert job["fashn_inputs"]["prompt"] == "athletic build"
    assert job["fashn_inputs"]["output_format"] == "jpeg"
    assert job["fashn_inputs"]["seed"] == 42
    [attempt] = job["attempts"]
    assert attempt["credits_used"] == mine.attempts.get().credits_used > 0
    assert job["credits_used"] == attempt["credits_used"]
    assert attempt["status"] == "completed"
    assert job["error_message"] is None
    assert job["selfie"] is None  # deleted once the avatar was made
    assert job["images"][0]["file"] == f"avatars/{mine.pk}/image-0.jpg"
    assert job["images"][0]["content_type"] == "image/jpeg"
    [consent] = data["consents"]
    assert consent["job_id"] == str(mine.pk)
    assert consent["consent_version"] == CONSENT_VERSION
    assert consent["consented_at"] == mine.consented_at.isoformat()
    assert consent["public_consent_at"] == mine.public_consent_at.isoformat()
    assert consent["review_state"] == "approved"
    links = {entry["token"]: entry for entry in data["share_links"]}
    assert set(links) == {link.token, old_link.token}
    assert links[link.token]["revoked_at"] is None
    assert links[old_link.token]["revoked_at"] is not None
    assert links[link.token]["expires_at"] == link.expires_at.isoformat()
    assert data["api_token"]["created"] is not None
    looks = {entry["id"]: entry for entry in data["looks"]}
    assert set(looks) == {str(on_bobs_model.pk), str(on_my_avatar.pk)}
    assert looks[str(on_my_avatar.pk)]["worn_by"] == {
        "your_avatar": str(mine.pk),
        "image_index": 0,
    }
    assert looks[str(on_bobs_model.pk)]["worn_by"] == {"store_model": True}
    assert looks[str(on_bobs_model.pk)]["garment"]["name"] == "Sunset logo tee"
    assert data["missing_files"] == []

    [shop_look] = data["shop_looks"]
    assert shop_look["look_id"] == str(on_my_avatar.pk)
    assert (shop_look["shop"], shop_look["origin"], shop_look["garment_name"]) == (
        "Boutique Lune",
        "https://lune.example",
        "Lune tee",
    )
    assert data["outfits"] == []

    # Nothing of Bob's: not his avatar, its job or his name, not his try-ons of Alice's avatar
    # (they show her face, but Bob asked for them: they are his); and not the API key.
    texts = archive.read("data.json") + archive.read("README.txt")
    everything = b"".join(archive.read(name) for name in archive.namelist())
    hoodie_job = bobs_hoodie_on_alice.tryon.job
    for secret in (str(theirs.pk), str(bobs_tee_on_alice.pk), str(bobs_hoodie_on_alice.pk)):
        assert secret.encode() not in everything, secret
    assert str(hoodie_job.pk).encode() not in everything
    assert str(bobs_tee_on_alice.tryon.job_id).encode() not in everything
    assert b"Nope" not in texts
    assert key.encode() not in everything
    assert b"bob" not in texts.lower()
    assert stored_bytes(theirs.results.get().image) not in everything
    assert stored_bytes(hoodie_job.results.get().image) not in everything

    # Bob's export, the other way round: his avatar and his two try-ons on Alice's model, none
    # of Alice's own.
    client.force_login(bob)
    _response, bobs_archive = download(client)
    bobs = record(bobs_archive)
    assert [entry["id"] for entry in bobs["jobs"]] == [str(theirs.pk)]
    assert {entry["id"] for entry in bobs["looks"]} == {
        str(bobs_tee_on_alice.pk),
        str(bobs_hoodie_on_alice.pk),
    }
    assert {entry["worn_by"]["store_model"] for entry in bobs["looks"]} == {True}
    assert [entry["garment_name"] for entry in bobs["shop_looks"]] == ["Nope"]
    assert bobs["share_links"] == [] and bobs["api_token"] is None
    hoodie = hoodie_job.results.get()
    assert bobs_archive.read(f"try-ons/{bobs_hoodie_on_alice.pk}/image-0{suffix(hoodie)}") == (
        stored_bytes(hoodie.image)
    )
    texts = bobs_archive.read("data.json") + bobs_archive.read("README.txt")
    everything = b"".join(bobs_archive.read(name) for name in bobs_archive.namelist())
    assert str(mine.pk).encode() not in everything
    assert str(on_bobs_model.pk).encode() not in everything
    assert link.token.encode() not in everything
    assert stored_bytes(my_image.image) not in everything
    assert b"alice" not in texts.lower()


pytestmark_db = pytest.mark.django_db
# Every test here may ask the store for a look: the demo store's products are loaded for each.
pytestmark = pytest.mark.usefixtures("demo_store")


@pytestmark_db
def test_a_kept_selfie_is_in_the_zip_with_the_failure(client, alice):
    failed = make_finished_job(alice, status="failed", error_name="PipelineError")
    assert failed.selfie  # kept for Retry
    client.force_login(alice)

    _response, archive = download(client)

    assert archive.read(f"avatars/{failed.pk}/selfie.jpg") == stored_bytes(failed.selfie)
    [job] = record(archive)["jobs"]
    assert job["status"] == "failed"
    assert job["selfie"] == f"avatars/{failed.pk}/selfie.jpg"
    assert job["error_name"] == "PipelineError"
    assert job["error_message"] == failed.error_message != ""


@pytestmark_db
def test_a_file_deleted_meanwhile_is_skipped_and_noted(client, alice):
    gone = make_finished_job(alice)
    kept = make_finished_job(alice)
    default_storage.delete(gone.results.get().image.name)
    client.force_login(alice)

    _response, archive = download(client)

    assert f"avatars/{gone.pk}/image-0.png" not in archive.namelist()
    assert archive.read(f"avatars/{kept.pk}/image-0.png") == stored_bytes(kept.results.get().image)
    data = record(archive)
    assert data["missing_files"] == [
        {
            "file": f"avatars/{gone.pk}/image-0.png",
            "what": "avatar image",
            "reason": "deleted meanwhile",
        }
    ]
    [entry] = [job for job in data["jobs"] if job["id"] == str(gone.pk)]
    assert entry["images"][0]["file"] is None


@pytestmark_db
def test_anonymous_is_sent_to_log_in(client):
    response = client.post(EXPORT)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytestmark_db
def test_a_get_does_not_start_an_export(client, alice):
    client.force_login(alice)

    assert client.get(EXPORT).status_code == 405


@pytestmark_db
def test_the_post_needs_the_csrf_token(alice):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    assert client.post(EXPORT).status_code == 403


@pytestmark_db
def test_exports_are_limited_per_account(client, alice, bob, settings):
    settings.ACCOUNT_DATA_EXPORTS_PER_WINDOW = 2
    settings.ACCOUNT_REQUEST_WINDOW_SECONDS = 3600
    make_finished_job(alice)
    client.force_login(alice)
    download(client)
    download(client)

    response = client.post(EXPORT)

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    assert response["Content-Type"].startswith("text/html")
    text = visible_text(response)
    assert "You have downloaded your data several times in a short while" in text
    assert re.search(r"Try again in \d+ minutes?\.", text)
    # Another account has its own allowance.
    client.force_login(bob)
    download(client)


@pytestmark_db
def test_the_account_page_offers_the_download_as_a_post(client, alice):
    client.force_login(alice)

    response = client.get(reverse("account"))

    html = response.content.decode()
    form = re.search(rf'<form method="post" action="{EXPORT}">\s*(<input[^>]+>)', html)
    assert form and 'name="csrfmiddlewaretoken"' in form.group(1)
    assert "Download my data" in visible_text(response)


@pytestmark_db
def test_files_are_read_through_the_storage_api_and_large_ones_spill_to_disk(
    client, alice, settings, monkeypatch
):
    """On a storage with no filesystem behind it (Django's in-memory one stands in for S3), with
    an image larger than the part of the zip kept in memory."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import InMemoryStorage

    from avatar_studio.accounts import export

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    failed = make_finished_job(alice, status="failed")
    done = make_finished_job(alice)
    assert isinstance(done.results.get().image.storage._wrapped, InMemoryStorage)
    name = done.results.get().image.name
    large = bytes(range(256)) * (40 * 1024)  # 10 MB
    default_storage.delete(name)
    assert default_storage.save(name, ContentFile(large)) == name
    monkeypatch.setattr(export, "IN_MEMORY_BYTES", 1024 * 1024)
    rolled = []
    original = export.tempfile.SpooledTemporaryFile

    def spooled(*args, **kwargs):
        rolled.append(original(*args, **kwargs))
        return rolled[-1]

    monkeypatch.setattr(export.tempfile, "SpooledTemporaryFile", spooled)
    client.force_login(alice)

    _response, archive = download(client)

    assert rolled and rolled[0]._rolled  # the zip went to disk, not memory
    assert archive.read(f"avatars/{done.pk}/image-0.png") == large
    assert archive.read(f"avatars/{failed.pk}/selfie.jpg") == stored_bytes(failed.selfie)
    assert record(archive)["missing_files"] == []


@pytestmark_db
def test_a_look_at_a_model_that_left_the_store_keeps_its_record_not_its_picture(
    client, alice, bob, staff
):
    from ..shop.test_looks import finish_with_picture

    model = make_finished_job(bob, prompt="curvy figure")
    review.offer_for_display(model)
    review.approve(model, reviewer=staff)
    client.force_login(alice)
    look = ask_for_look(client, model)
    finish_with_picture(look.tryon.job)
    review.withdraw_from_display(model)

    _response, archive = download(client)

    assert not any(name.startswith("try-ons/") for name in archive.namelist())
    [entry] = record(archive)["looks"]
    assert entry["id"] == str(look.pk)
    assert entry["images"] == []
    assert "left the store" in entry["note"]


@pytestmark_db
def test_an_outfit_on_a_model_is_in_the_shoppers_data_with_its_steps_not_the_models_owners(
    client, alice, bob, staff
):
    from ..shop.test_looks import finish_with_picture
    from ..shop.test_outfits import make_bottoms

    model = make_finished_job(bob, prompt="curvy figure")
    review.offer_for_display(model)
    review.approve(model, reviewer=staff)
    top = Product.objects.get(slug=TEE)
    outfit = shop_services.start_outfit(alice, model.results.get(), [make_bottoms(), top])
    first = outfit.steps.get(order=1).tryon
    finish_with_picture(first.job)
    shop_services.advance_outfit(outfit)
    second = outfit.steps.get(order=2).tryon
    assert second.shopper == first.shopper == alice
    client.force_login(alice)

    _response, archive = download(client)

    [entry] = record(archive)["outfits"]
    assert entry["id"] == str(outfit.pk)
    assert entry["worn_by"] == {"store_model": True}
    assert [step["garment"]["slug"] for step in entry["steps"]] == [TEE, "indigo-trousers"]
    done, running = entry["steps"]
    assert (done["status"], running["status"]) == ("completed", "queued")
    name = f"outfits/{outfit.pk}/step-1/image-0.jpg"
    assert done["images"][0]["file"] == name
    assert archive.read(name) == stored_bytes(first.job.results.get().image)
    assert running["images"] == []
    assert done["attempts"][0]["prediction_id"] == f"pred-{first.job_id}"
    # Bob, whose model it was made on, finds none of it in his.
    client.force_login(bob)
    _response, bobs_archive = download(client)
    bobs = record(bobs_archive)
    assert bobs["outfits"] == [] and bobs["looks"] == []
    assert not any(n.startswith(("outfits/", "try-ons/")) for n in bobs_archive.namelist())
