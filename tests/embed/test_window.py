"""The window a shop's button opens: every way a request can be wrong is refused with a clear
page and creates nothing; a good one makes the shopper's own look at the shop's garment, and the
window tells only the shop's registered origin that it is done.

The garment pictures come from a real HTTPS host on loopback, which the injected fetch policy
(``conftest.fetch_policy``) lets stand in for the public internet; nothing else is connected to.
"""

import html
import io
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from avatar_studio.accounts.deletion import delete_account
from avatar_studio.avatars.models import AvatarJob, JobStatus, PredictionModel
from avatar_studio.avatars.pipeline import transitions
from avatar_studio.embed import services
from avatar_studio.embed.models import EmbedLook, Shop
from avatar_studio.shop import images
from avatar_studio.shop.models import Look, TryOn

from ..shop.test_looks import finish_with_picture
from ..support.credits import spend
from ..support.jobs import make_finished_job
from .conftest import SHOP_ORIGIN
from .garmenthost import garment_png

pytestmark = pytest.mark.django_db


def window_url(shop, garment_host, **changes):
    params = {
        "key": shop.key,
        "origin": SHOP_ORIGIN,
        "garment_image": garment_host.url("/shirt.png"),
        "name": "Linen shirt",
        "category": "tops",
        **changes,
    }
    return reverse("embed:try") + "?" + urlencode(params)


def choose(client, url, avatar_job, consent=True):
    data = {"avatar": avatar_job.avatar_result.pk}
    if consent:
        data["consent"] = "yes"
    return client.post(url, data)


def nothing_created():
    return (
        not Look.objects.exists()
        and not TryOn.objects.exists()
        and not EmbedLook.objects.exists()
        and not AvatarJob.objects.filter(model_name=PredictionModel.TRYON).exists()
    )


# --- refusals ----------------------------------------------------------------------------------


def _revoked(shop, garment_host):
    old = shop.key
    services.rotate_key(shop)
    return {"key": old}


def _inactive(shop, garment_host):
    Shop.objects.filter(pk=shop.pk).update(is_active=False)
    return {}


REFUSALS = [
    ("unknown key", lambda s, h: {"key": "pk_not-a-registered-key"}, 403, "not registered"),
    ("revoked key", _revoked, 403, "not registered"),
    ("inactive shop", _inactive, 403, "switched off"),
    (
        "origin not listed",
        lambda s, h: {"origin": "https://copycat.example"},
        403,
        "did not register",
    ),
    ("bad category", lambda s, h: {"category": "shoes"}, 400, "category"),
    ("no name", lambda s, h: {"name": "  "}, 400, "no garment name"),
    (
        "non-https URL",
        lambda s, h: {"garment_image": f"http://images.test:{h.port}/shirt.png"},
        400,
        "Only https://",
    ),
    (
        "private address",
        lambda s, h: {"garment_image": "https://intranet.test/shirt.png"},
        400,
        "private or local",
    ),
    ("not an image", lambda s, h: {"garment_image": h.url("/page.html")}, 400, "not an image"),
    ("missing picture", lambda s, h: {"garment_image": h.url("/gone.png")}, 400, "HTTP 404"),
]


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [refusal[1:] for refusal in REFUSALS],
    ids=[refusal[0] for refusal in REFUSALS],
)
def test_a_bad_request_is_refused_and_creates_nothing(
    client, alice, shop, garment_host, fetch_policy, change, status, words
):
    avatar = make_finished_job(alice)
    client.force_login(alice)
    url = window_url(shop, garment_host, **change(shop, garment_host))

    response = choose(client, url, avatar)

    assert response.status_code == status
    assert words in response.content.decode()
    assert nothing_created()


@pytest.mark.parametrize(
    "change",
    [refusal[1] for refusal in REFUSALS[:8]],
    ids=[refusal[0] for refusal in REFUSALS[:8]],
)
def test_a_bad_request_is_refused_before_logging_in(
    client, shop, garment_host, fetch_policy, change
):
    response = client.get(window_url(shop, garment_host, **change(shop, garment_host)))

    assert 400 <= response.status_code < 500
    assert "This try-on cannot start" in response.content.decode()
    assert "Log in" not in response.content.decode().split("<main", 1)[1]
    # Refused by what the address says, before any connection is made.
    assert fetch_policy.connected == []


def test_a_private_address_is_refused_before_any_connection(
    client, alice, shop, garment_host, fetch_policy
):
    avatar = make_finished_job(alice)
    client.force_login(alice)
    url = window_url(shop, garment_host, garment_image="https://intranet.test/shirt.png")

    assert choose(client, url, avatar).status_code == 400

    assert fetch_policy.connected == []


def test_without_consent_nothing_is_made(client, alice, shop, garment_host, fetch_policy):
    avatar = make_finished_job(alice)
    client.force_login(alice)

    response = choose(client, window_url(shop, garment_host), avatar, consent=False)

    assert response.status_code == 400
    assert "the try-on shows your avatar" in response.content.decode()
    assert nothing_created()


def test_another_users_avatar_cannot_be_picked(
    client, alice, bob, shop, garment_host, fetch_policy
):
    bobs_avatar = make_finished_job(bob)
    client.force_login(alice)

    response = choose(client, window_url(shop, garment_host), bobs_avatar)

    assert response.status_code == 404
    assert nothing_created()


# --- the window's steps --------------------------------------------------------------------------


def test_a_visitor_is_asked_to_log_in_and_comes_back(client, shop, garment_host, fetch_policy):
    url = window_url(shop, garment_host)

    response = client.get(url)

    assert response.status_code == 200
    page = response.content.decode()
    login = re.search(r'href="(/accounts/login/\?[^"]+)"', page).group(1)
    assert parse_qs(urlsplit(html.unescape(login)).query)["next"] == [url]
    assert "Corner Boutique" in response.content.decode()


def test_a_shopper_picks_among_their_own_avatars(
    client, alice, bob, shop, garment_host, fetch_policy
):
    own = make_finished_job(alice)
    bobs = make_finished_job(bob)
    client.force_login(alice)

    page = client.get(window_url(shop, garment_host)).content.decode()

    assert f'value="{own.avatar_result.pk}"' in page
    assert f'value="{bobs.avatar_result.pk}"' not in page
    assert 'name="consent"' in page


def test_the_try_on_is_the_shoppers_look_at_the_garment_from_the_url(
    client, alice, shop, garment_host, fetch_policy
):
    avatar = make_finished_job(alice)
    client.force_login(alice)

    response = choose(client, window_url(shop, garment_host), avatar)

    embed_look = EmbedLook.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("embed:look", args=[embed_look.pk])
    look = Look.objects.get()
    assert embed_look.look == look and look.shopper == alice
    assert (embed_look.shop, embed_look.origin, embed_look.garment_name) == (
        shop,
        SHOP_ORIGIN,
        "Linen shirt",
    )
    tryon = look.tryon
    assert tryon.avatar_result == avatar.avatar_result
    normalised = images.normalise_garment(io.BytesIO(garment_png()))
    assert tryon.garment_slug == images.garment_key(normalised)
    assert tryon.job.category == "tops"
    with tryon.job.garment_image.open("rb") as stored:
        assert stored.read().startswith(b"\x89PNG")
    assert garment_host.requests == ["/shirt.png"]


def test_a_jpeg_garment_is_stored_as_png(client, alice, shop, garment_host, fetch_policy):
    avatar = make_finished_job(alice)
    client.force_login(alice)

    choose(
        client, window_url(shop, garment_host, garment_image=garment_host.url("/shirt.jpg")), avatar
    )

    with TryOn.objects.get().job.garment_image.open("rb") as stored:
        assert stored.read().startswith(b"\x89PNG")


def test_the_same_garment_again_reuses_the_try_on(client, alice, shop, garment_host, fetch_policy):
    avatar = make_finished_job(alice)
    client.force_login(alice)
    url = window_url(shop, garment_host)

    choose(client, url, avatar)
    choose(client, url, avatar)

    assert TryOn.objects.count() == 1
    assert Look.objects.count() == 1
    assert AvatarJob.objects.filter(model_name=PredictionModel.TRYON).count() == 1


def test_a_shopper_out_of_credits_is_told_so_and_nothing_is_made(
    client, alice, shop, garment_host, fetch_policy, settings, media_root
):
    settings.AVATAR_DAILY_CREDITS = 2
    avatar = make_finished_job(alice)
    spend(alice, 2)
    client.force_login(alice)

    response = choose(client, window_url(shop, garment_host), avatar)

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 24 * 3600
    text = html.unescape(response.content.decode())
    assert "You've used all 2 credits of today's allowance; it resets at 00:00 UTC." in text
    assert "Nothing was saved" in text
    assert nothing_created()
    assert not (media_root / "garments").exists() or not any(
        path.is_file() for path in (media_root / "garments").rglob("*")
    )


def test_the_done_message_goes_to_the_registered_origin_only_once_finished(
    client, alice, shop, garment_host, fetch_policy
):
    avatar = make_finished_job(alice)
    client.force_login(alice)
    choose(client, window_url(shop, garment_host), avatar)
    embed_look = EmbedLook.objects.get()
    page = reverse("embed:look", args=[embed_look.pk])

    assert 'id="embed-done"' not in client.get(page).content.decode()

    finish_with_picture(embed_look.look.tryon.job)
    finished = client.get(page).content.decode()
    assert f'id="embed-done" data-origin="{SHOP_ORIGIN}"' in finished
    assert reverse("shop:look-image", args=[embed_look.look.pk]) in finished

    # The shop switched off, or the origin taken off its list: the window tells nobody.
    shop.allowed_origins = "https://elsewhere.example"
    shop.save()
    assert 'id="embed-done"' not in client.get(page).content.decode()


def test_only_the_shopper_opens_the_window_of_their_look(
    client, alice, bob, shop, garment_host, fetch_policy
):
    avatar = make_finished_job(alice)
    client.force_login(alice)
    choose(client, window_url(shop, garment_host), avatar)
    embed_look = EmbedLook.objects.get()

    client.force_login(bob)

    assert client.get(reverse("embed:look", args=[embed_look.pk])).status_code == 404
    assert client.get(reverse("embed:look-panel", args=[embed_look.pk])).status_code == 404


def test_the_window_keeps_its_opener_and_nothing_else_does(
    client, alice, shop, garment_host, fetch_policy
):
    window = client.get(window_url(shop, garment_host))
    login_back = client.get(reverse("login") + "?next=/embed/try/%3Fkey%3Dx")
    login = client.get(reverse("login"))
    # Logging in posts to the same address, ?next= included, and is redirected to the window.
    logged_in = client.post(
        reverse("login") + "?next=/embed/try/",
        {"username": "alice", "password": "alice-password-1", "next": "/embed/try/"},
    )

    assert window["Cross-Origin-Opener-Policy"] == "unsafe-none"
    assert login_back["Cross-Origin-Opener-Policy"] == "unsafe-none"
    assert login["Cross-Origin-Opener-Policy"] == "same-origin"
    assert logged_in.status_code == 302 and logged_in["Location"] == "/embed/try/"
    assert logged_in["Cross-Origin-Opener-Policy"] == "unsafe-none"
    # Framing stays forbidden everywhere.
    assert window["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in window["Content-Security-Policy"]


def _failed_look(client, alice, shop, garment_host, error_name):
    avatar = make_finished_job(alice)
    client.force_login(alice)
    choose(client, window_url(shop, garment_host), avatar)
    embed_look = EmbedLook.objects.get()
    job = embed_look.look.tryon.job
    AvatarJob.objects.filter(pk=job.pk).update(status=JobStatus.PROCESSING)
    assert transitions.fail_job(job, error_name)
    return embed_look


def test_a_failed_try_on_names_the_garment_and_is_tried_again_from_the_window(
    client, alice, shop, garment_host, fetch_policy
):
    embed_look = _failed_look(client, alice, shop, garment_host, "PipelineError")
    window = reverse("embed:look", args=[embed_look.pk])
    retry = reverse("embed:look-retry", args=[embed_look.pk])

    page = client.get(window).content.decode()
    # The store's own panel for the same look knows the shop's name for the garment too.
    panel = client.get(reverse("shop:look", args=[embed_look.look.pk])).content.decode()
    response = client.post(retry)

    assert "Linen shirt on your avatar" in page and "could not be made" in page
    assert f'action="{retry}"' in page and ">Retry</button>" in page
    assert "Linen shirt on your avatar" in panel and "The garment" not in panel
    assert response.status_code == 302 and response["Location"] == window
    assert response["Cross-Origin-Opener-Policy"] == "unsafe-none"  # the window keeps its opener
    job = AvatarJob.objects.get(pk=embed_look.look.tryon.job_id)
    assert job.status == JobStatus.QUEUED
    assert ">Retry</button>" not in client.get(window).content.decode()  # running again


def test_a_try_on_whose_inputs_were_refused_is_not_offered_again(
    client, alice, bob, shop, garment_host, fetch_policy
):
    embed_look = _failed_look(client, alice, shop, garment_host, "PoseError")
    retry = reverse("embed:look-retry", args=[embed_look.pk])

    page = client.get(reverse("embed:look", args=[embed_look.pk])).content.decode()
    refused = client.post(retry, follow=True)
    client.force_login(bob)
    bobs_try = client.post(retry)

    assert "could not be made" in page and ">Retry</button>" not in page
    # Sent anyway: the retry service refuses it, in its own words, and nothing changes.
    assert "retrying cannot help" in refused.content.decode()
    assert bobs_try.status_code == 404
    assert AvatarJob.objects.get(pk=embed_look.look.tryon.job_id).status == JobStatus.FAILED


# --- shops -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "origin",
    [
        "shop.example",
        "https://shop.example/",
        "https://shop.example/path",
        "HTTPS://Shop.example",
        "https://shop.example:443",
        "https://user@shop.example",
        "ftp://shop.example",
        "https://shop.example?x=1",
        "https://" + "a" * 250 + ".example",
    ],
)
def test_an_origin_must_be_exact(origin):
    shop = Shop(name="Boutique", allowed_origins=f"https://fine.example\n{origin}")

    with pytest.raises(ValidationError):
        shop.full_clean()


def test_exact_origins_are_accepted():
    shop = Shop(
        name="Boutique",
        allowed_origins="https://shop.example\nhttps://shop.example:8443\nhttp://127.0.0.1:8123",
    )

    shop.full_clean()

    assert shop.key.startswith("pk_")
    assert shop.origins == [
        "https://shop.example",
        "https://shop.example:8443",
        "http://127.0.0.1:8123",
    ]


def test_deleting_the_shoppers_account_takes_their_embedded_looks(
    client, alice, shop, garment_host, fetch_policy
):
    avatar = make_finished_job(alice)
    client.force_login(alice)
    choose(client, window_url(shop, garment_host), avatar)
    assert EmbedLook.objects.exists()

    delete_account(alice)

    assert not EmbedLook.objects.exists()
    assert not Look.objects.exists()
    assert Shop.objects.filter(pk=shop.pk).exists()
