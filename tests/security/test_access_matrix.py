"""Every URL of the app, asked by a visitor, the owner, another user and three kinds of staff.

Each row names a route, the method, the object it is asked about and the status each of the six
people must get. Another user's things are 404 (never 403: they do not exist for them). Being
staff opens the admin's door and nothing else: staff without permissions get what another user
gets; a reviewer (the "Reviewers" group, ``avatars.view_avatarjob``) and a superuser see every
job, and still change only their own.
``test_every_route_is_in_the_matrix`` fails when a route is added without a row here, so no page
ships without someone deciding who may see it. Every state-changing form is also posted without
its CSRF token and must be refused.
"""

import io
from dataclasses import dataclass, field

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from PIL import Image

from avatar_studio.avatars import sharing
from avatar_studio.avatars.models import AvatarJob, JobStatus, PredictionAttempt, result_path
from avatar_studio.avatars.pipeline import transitions
from avatar_studio.avatars.pipeline.outputs import StoredOutput
from avatar_studio.avatars.review import services as review
from avatar_studio.embed.models import EmbedLook, Shop
from avatar_studio.shop import services as shop_services
from avatar_studio.shop.models import Look, Product, ProductImage

from ..admin.conftest import reviewers_group
from ..support.jobs import make_finished_job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_store")]

# Each row's expected statuses are in this order.
ROLES = ("anonymous", "owner", "other", "staff", "reviewer", "superuser")


@dataclass
class World:
    """Alice's things (the owner), as Bob (another user), Charlie (staff without permissions),
    Rita (a reviewer) and Sam (a superuser) find them."""

    completed: AvatarJob
    failed: AvatarJob
    model: AvatarJob  # Alice's avatar, shared and approved: a model in the store
    share_token: str
    share_id: int
    look_id: object  # Alice's look at a garment on her private avatar
    model_look_id: object  # Alice's look at a garment on her avatar that is now a public model
    extra: dict = field(default_factory=dict)


def _complete_with_picture(job):
    buffer = io.BytesIO()
    Image.new("RGB", (64, 96), (210, 90, 70)).save(buffer, "JPEG")
    attempt = PredictionAttempt.objects.create(
        job=job, number=1, prediction_id=f"pred-{job.pk}", submitted_at=timezone.now()
    )
    AvatarJob.objects.filter(pk=job.pk).update(status=JobStatus.PROCESSING)
    image = default_storage.save(result_path(job, "1-0.jpg"), ContentFile(buffer.getvalue()))
    thumbnail = default_storage.save(result_path(job, "1-0-thumb.jpg"), ContentFile(b"x"))
    assert transitions.complete_job(
        job,
        attempt,
        stored_outputs=[StoredOutput(0, image, thumbnail, "image/jpeg", 64, 96)],
        credits_used=1,
    )


@pytest.fixture
def world(alice, staff):
    completed = make_finished_job(alice)
    failed = make_finished_job(alice, status="failed")
    model = make_finished_job(alice, prompt="curvy figure")
    review.offer_for_display(model)
    review.approve(model, reviewer=staff)
    link = sharing.create_share_link(completed, days=7)
    hoodie = Product.objects.get(slug="forest-hoodie")
    look = shop_services.try_on(alice, hoodie, completed.results.get())
    _complete_with_picture(look.tryon.job)
    model_look = shop_services.try_on(alice, hoodie, model.results.get())
    _complete_with_picture(model_look.tryon.job)
    return World(completed, failed, model, link.token, link.pk, look.pk, model_look.pk)


@pytest.fixture
def clients(alice, bob, staff, django_user_model):
    reviewer = django_user_model.objects.create_user("rita", is_staff=True)
    reviewer.groups.add(reviewers_group())
    superuser = django_user_model.objects.create_superuser("sam", "sam@example.com")
    assert not staff.get_all_permissions()  # is_staff alone: the admin's door, nothing more
    people = {role: Client() for role in ROLES}
    for role, user in [
        ("owner", alice),
        ("other", bob),
        ("staff", staff),
        ("reviewer", reviewer),
        ("superuser", superuser),
    ]:
        people[role].force_login(user)
    return people


@dataclass(frozen=True)
class Row:
    name: str  # the route's name, with its namespace
    method: str
    kwargs: object  # World -> URL kwargs
    expected: tuple  # status for each of ROLES
    data: object = None  # World -> POST data
    note: str = ""


def job(attr):
    return lambda w: {"job_id": getattr(w, attr).pk}


def result(attr):
    return lambda w: {"job_id": getattr(w, attr).pk, "index": 0}


def none(_world):
    return {}


def look(world):
    return {"look_id": world.look_id}


def _embed_look_row(world):
    """Alice's look made through a shop's button (made on first use)."""
    if "embed_look" not in world.extra:
        shop = Shop.objects.create(name="Boutique", allowed_origins="https://shop.example")
        world.extra["embed_look"] = EmbedLook.objects.create(
            look=Look.objects.get(pk=world.look_id),
            shop=shop,
            origin="https://shop.example",
            garment_name="Forest hoodie",
        )
    return world.extra["embed_look"]


def _embed_look(world):
    return _embed_look_row(world).pk


def _outfit(world):
    """Alice's one-piece outfit on her avatar, its try-on done (made on first use)."""
    if "outfit" not in world.extra:
        dress = Product.objects.get(slug="poppy-sundress")
        outfit = shop_services.start_outfit(
            world.completed.owner, world.completed.results.get(), [dress]
        )
        _complete_with_picture(outfit.steps.get().tryon.job)
        world.extra["outfit"] = outfit
    return world.extra["outfit"]


def _bobs_model_look(world):
    """Bob's look at a hoodie on Alice's public model: his try-on (made on first use)."""
    if "bobs_model_look" not in world.extra:
        bob = get_user_model().objects.get(username="bob")
        hoodie = Product.objects.get(slug="forest-hoodie")
        look = shop_services.try_on(bob, hoodie, world.model.results.get())
        _complete_with_picture(look.tryon.job)
        assert look.tryon.job.owner == bob
        world.extra["bobs_model_look"] = look
    return world.extra["bobs_model_look"]


def bobs_model_look(world):
    return {"look_id": _bobs_model_look(world).pk}


def bobs_model_tryon_job(world):
    return {"object_id": _bobs_model_look(world).tryon.job_id}


def _bobs_outfit(world):
    """Bob's one-piece outfit on Alice's public model, its try-on done (made on first use)."""
    if "bobs_outfit" not in world.extra:
        bob = get_user_model().objects.get(username="bob")
        dress = Product.objects.get(slug="poppy-sundress")
        outfit = shop_services.start_outfit(bob, world.model.results.get(), [dress])
        _complete_with_picture(outfit.steps.get().tryon.job)
        world.extra["bobs_outfit"] = outfit
    return world.extra["bobs_outfit"]


def _hidden_product(world):
    """A product staff have not published yet, with a photo (made on first use)."""
    if "hidden" not in world.extra:
        product = Product.objects.create(
            name="Secret coat", slug="secret-coat", price=99, category="tops"
        )
        photo = Product.objects.get(slug="forest-hoodie").first_image()
        ProductImage.objects.create(product=product, image=photo.image.name, position=0)
        world.extra["hidden"] = product
    return world.extra["hidden"]


LOGIN = "login"  # a redirect to the site's login page
ADMIN_LOGIN = "admin login"  # a redirect to the admin's login page

ROWS = [
    # Accounts
    Row("signup", "GET", none, (200, 302, 302, 302, 302, 302), note="signed-in people are sent on"),
    Row("signup-sent", "GET", none, (200, 200, 200, 200, 200, 200)),
    Row(
        "signup-finish",
        "GET",
        lambda w: {"token": "not-a-token"},
        (200, 200, 200, 200, 200, 200),
        note="an invalid link shows 'this link does not work'",
    ),
    Row("login", "GET", none, (200, 200, 200, 200, 200, 200)),
    Row("logout", "GET", none, (405, 405, 405, 405, 405, 405), note="log out is a POST form"),
    Row("account", "GET", none, (LOGIN, 200, 200, 200, 200, 200)),
    Row("account-delete", "GET", none, (LOGIN, 200, 200, 200, 200, 200)),
    Row(
        "api-token-create",
        "POST",
        none,
        (LOGIN, 200, 200, 200, 200, 200),
        note="each person's own token: the page shows the new key once",
    ),
    Row(
        "api-token-revoke",
        "POST",
        none,
        (LOGIN, 302, 302, 302, 302, 302),
        note="each person's own token",
    ),
    Row(
        "data-export",
        "POST",
        none,
        (LOGIN, 200, 200, 200, 200, 200),
        note="each person's own data: a zip of what is theirs, never another's",
    ),
    Row("password_change", "GET", none, (LOGIN, 200, 200, 200, 200, 200)),
    Row("password_change_done", "GET", none, (LOGIN, 200, 200, 200, 200, 200)),
    Row("password_reset", "GET", none, (200, 200, 200, 200, 200, 200)),
    Row("password_reset_done", "GET", none, (200, 200, 200, 200, 200, 200)),
    Row("password_reset_complete", "GET", none, (200, 200, 200, 200, 200, 200)),
    Row(
        "password_reset_confirm",
        "GET",
        lambda w: {"uidb64": "MQ", "token": "not-a-token"},
        (200, 200, 200, 200, 200, 200),
        note="an invalid link shows 'this link is invalid'",
    ),
    # Core
    Row("healthz", "GET", none, (200, 200, 200, 200, 200, 200)),
    Row("privacy", "GET", none, (200, 200, 200, 200, 200, 200)),
    Row(
        "metrics",
        "GET",
        none,
        (404, 404, 404, 404, 404, 404),
        note="off without METRICS_TOKEN; its bearer alone (tests/ops/test_metrics_endpoint.py)",
    ),
    # The browser flow: Alice's avatars
    Row(
        "avatars:upload",
        "GET",
        none,
        (200, 200, 200, 200, 200, 200),
        note="the landing page for visitors",
    ),
    Row("avatars:gallery", "GET", none, (LOGIN, 200, 200, 200, 200, 200)),
    Row("avatars:job", "GET", job("completed"), (LOGIN, 200, 404, 404, 200, 200)),
    Row("avatars:job-status", "GET", job("completed"), (LOGIN, 200, 404, 404, 200, 200)),
    Row("avatars:selfie", "GET", job("failed"), (LOGIN, 200, 404, 404, 200, 200)),
    Row("avatars:result", "GET", result("completed"), (LOGIN, 200, 404, 404, 200, 200)),
    Row("avatars:result-thumbnail", "GET", result("completed"), (LOGIN, 200, 404, 404, 200, 200)),
    Row("avatars:result-download", "GET", result("completed"), (LOGIN, 200, 404, 404, 200, 200)),
    Row("avatars:job-delete", "GET", job("completed"), (LOGIN, 200, 404, 404, 404, 404)),
    Row("avatars:job-retry", "POST", job("failed"), (LOGIN, 302, 404, 404, 404, 404)),
    Row("avatars:job-pick", "POST", result("completed"), (LOGIN, 302, 404, 404, 404, 404)),
    Row("avatars:job-remake", "POST", result("completed"), (LOGIN, 302, 404, 404, 404, 404)),
    Row("avatars:job-discard-others", "POST", job("completed"), (LOGIN, 302, 404, 404, 404, 404)),
    Row("avatars:share-create", "POST", job("completed"), (LOGIN, 302, 404, 404, 404, 404)),
    Row(
        "avatars:share-revoke",
        "POST",
        lambda w: {"job_id": w.completed.pk, "link_id": w.share_id},
        (LOGIN, 302, 404, 404, 404, 404),
    ),
    Row("avatars:showcase-offer", "POST", job("completed"), (LOGIN, 302, 404, 404, 404, 404)),
    Row("avatars:showcase-withdraw", "POST", job("model"), (LOGIN, 302, 404, 404, 404, 404)),
    Row(
        "avatars:shared", "GET", lambda w: {"token": w.share_token}, (200, 200, 200, 200, 200, 200)
    ),
    Row(
        "avatars:shared-image",
        "GET",
        lambda w: {"token": w.share_token, "index": 0},
        (200, 200, 200, 200, 200, 200),
    ),
    Row("avatars:showcase", "GET", none, (200, 200, 200, 200, 200, 200)),
    Row(
        "avatars:showcase-image",
        "GET",
        lambda w: {"result_id": w.model.results.get().pk},
        (200, 200, 200, 200, 200, 200),
    ),
    Row(
        "avatars:showcase-image",
        "GET",
        lambda w: {"result_id": w.completed.results.get().pk},
        (404, 404, 404, 404, 404, 404),
        note="a private avatar is not shown, even to its owner, at this address",
    ),
    Row(
        "avatars:fashn-webhook",
        "POST",
        lambda w: {"token": "no-such-secret"},
        (404, 404, 404, 404, 404, 404),
        note="FASHN calls it without a session; only a live secret does anything",
    ),
    # The JSON API
    Row("api:avatars", "GET", none, (401, 200, 200, 200, 200, 200)),
    Row("api:avatar-cost", "GET", none, (401, 200, 200, 200, 200, 200), note="a price, no data"),
    Row("api:avatar", "GET", job("completed"), (401, 200, 404, 404, 404, 404)),
    Row("api:avatar", "DELETE", job("completed"), (401, 204, 404, 404, 404, 404)),
    Row("api:avatar-retry", "POST", job("failed"), (401, 202, 404, 404, 404, 404)),
    Row(
        "api:avatar-pick",
        "POST",
        job("completed"),
        (401, 200, 404, 404, 404, 404),
        data=lambda w: {"index": 0},
    ),
    Row(
        "api:avatar-remake",
        "POST",
        job("completed"),
        (401, 201, 404, 404, 404, 404),
        data=lambda w: {"index": 0},
    ),
    Row("api:avatar-discard-others", "POST", job("completed"), (401, 200, 404, 404, 404, 404)),
    Row("api:avatar-result", "GET", result("completed"), (401, 200, 404, 404, 404, 404)),
    Row("api:avatar-result-thumbnail", "GET", result("completed"), (401, 200, 404, 404, 404, 404)),
    Row("api:tryons", "GET", none, (401, 200, 200, 200, 200, 200), note="each their own"),
    Row(
        "api:tryons",
        "POST",
        none,
        (401, 201, 400, 400, 400, 400),
        data=lambda w: {
            "avatar": str(w.completed.pk),
            "product": Product.objects.get(slug="sunset-logo-tee").pk,
        },
        note="only the owner may dress the avatar",
    ),
    Row("api:tryon", "GET", look, (401, 200, 404, 404, 404, 404)),
    Row("api:tryon", "DELETE", look, (401, 204, 404, 404, 404, 404)),
    Row("api:tryon-image", "GET", look, (401, 200, 404, 404, 404, 404)),
    Row("api:schema", "GET", none, (200, 200, 200, 200, 200, 200)),
    Row("api:docs", "GET", none, (200, 200, 200, 200, 200, 200)),
    Row("api:redoc", "GET", none, (200, 200, 200, 200, 200, 200)),
    # The store
    Row("shop:catalogue", "GET", none, (200, 200, 200, 200, 200, 200)),
    Row("shop:product", "GET", lambda w: {"slug": "forest-hoodie"}, (200, 200, 200, 200, 200, 200)),
    Row(
        "shop:garment-image",
        "GET",
        lambda w: {"slug": "forest-hoodie"},
        (200, 200, 200, 200, 200, 200),
    ),
    Row(
        "shop:product-photo",
        "GET",
        lambda w: {"image_id": Product.objects.get(slug="forest-hoodie").first_image().pk},
        (200, 200, 200, 200, 200, 200),
    ),
    Row(
        "shop:try-on",
        "POST",
        lambda w: {"slug": "oxford-shirt"},
        (LOGIN, 302, 404, 404, 404, 404),
        data=lambda w: {"avatar": w.completed.results.get().pk},
        note="Alice's private avatar: only she may dress it",
    ),
    Row(
        "shop:try-on",
        "POST",
        lambda w: {"slug": "oxford-shirt"},
        (LOGIN, 302, 302, 302, 302, 302),
        data=lambda w: {"avatar": w.model.results.get().pk},
        note="a shared model: any shopper may dress it",
    ),
    Row("shop:look", "GET", lambda w: {"look_id": w.look_id}, (LOGIN, 200, 404, 404, 200, 200)),
    Row(
        "shop:look-image",
        "GET",
        lambda w: {"look_id": w.look_id},
        (LOGIN, 200, 404, 404, 200, 200),
    ),
    Row(
        "shop:look",
        "GET",
        lambda w: {"look_id": w.model_look_id},
        (LOGIN, 200, 404, 404, 200, 200),
        note="on a public model: still only the shopper who asked",
    ),
    Row(
        "shop:look-image",
        "GET",
        lambda w: {"look_id": w.model_look_id},
        (LOGIN, 200, 404, 404, 200, 200),
        note="on a public model: still only the shopper who asked",
    ),
    Row(
        "shop:model-thumbnail",
        "GET",
        lambda w: {"result_id": w.model.results.get().pk},
        (200, 200, 200, 200, 200, 200),
    ),
    Row(
        "shop:model-thumbnail",
        "GET",
        lambda w: {"result_id": w.completed.results.get().pk},
        (404, 404, 404, 404, 404, 404),
        note="a private avatar is no model",
    ),
    Row(
        "shop:outfit-start",
        "POST",
        none,
        (LOGIN, 302, 404, 404, 404, 404),
        data=lambda w: {"avatar": w.completed.results.get().pk, "product": "poppy-sundress"},
        note="Alice's private avatar: only she may dress it",
    ),
    Row(
        "shop:outfit",
        "GET",
        lambda w: {"outfit_id": _outfit(w).pk},
        (LOGIN, 200, 404, 404, 404, 404),
        note="only the shopper who made it",
    ),
    Row(
        "shop:outfit-step-image",
        "GET",
        lambda w: {"outfit_id": _outfit(w).pk, "order": 1},
        (LOGIN, 200, 404, 404, 404, 404),
        note="only the shopper who made it",
    ),
    Row(
        "shop:outfit-continue",
        "POST",
        lambda w: {"outfit_id": _outfit(w).pk},
        (LOGIN, 302, 404, 404, 404, 404),
        note="only the shopper who made it (hers has not stopped: refused, back to its page)",
    ),
    # A shopper's try-on on another's public model: Bob's, not the model owner's (Alice's)
    Row(
        "shop:look",
        "GET",
        bobs_model_look,
        (LOGIN, 404, 200, 404, 200, 200),
        note="Bob's try-on on Alice's model: his, not the model owner's",
    ),
    Row(
        "shop:look-image",
        "GET",
        bobs_model_look,
        (LOGIN, 404, 200, 404, 200, 200),
        note="Bob's try-on on Alice's model: his, not the model owner's",
    ),
    Row(
        "api:tryon",
        "GET",
        bobs_model_look,
        (401, 404, 404, 404, 404, 404),
        note="the API serves try-ons of one's own avatars; a model's are the store's",
    ),
    Row(
        "avatars:result-thumbnail",
        "GET",
        lambda w: {"job_id": _bobs_model_look(w).tryon.job_id, "index": 0},
        (LOGIN, 404, 404, 404, 200, 200),
        note="a try-on is reached through its look, even by its shopper",
    ),
    Row(
        "shop:outfit",
        "GET",
        lambda w: {"outfit_id": _bobs_outfit(w).pk},
        (LOGIN, 404, 200, 404, 404, 404),
        note="Bob's outfit on Alice's model: only Bob's",
    ),
    Row(
        "shop:outfit-step-image",
        "GET",
        lambda w: {"outfit_id": _bobs_outfit(w).pk, "order": 1},
        (LOGIN, 404, 200, 404, 404, 404),
        note="Bob's outfit on Alice's model: only Bob's",
    ),
    # Products staff have not published: not in the store for anyone
    Row(
        "shop:product",
        "GET",
        lambda w: {"slug": _hidden_product(w).slug},
        (404, 404, 404, 404, 404, 404),
        note="unpublished: staff see it in the admin only",
    ),
    Row(
        "shop:product-photo",
        "GET",
        lambda w: {"image_id": _hidden_product(w).first_image().pk},
        (404, 404, 404, 404, 404, 200),
        note="unpublished: only who may view products (the admin's previews)",
    ),
    # The admin: is_staff opens its door; what is inside takes a permission
    Row("admin:index", "GET", none, (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200, 200, 200)),
    # The embedded button's window
    Row("embed:try", "GET", none, (403, 403, 403, 403, 403, 403), note="no shop key: refused"),
    Row("embed:try", "POST", none, (403, 403, 403, 403, 403, 403), note="no shop key: refused"),
    Row(
        "embed:look",
        "GET",
        lambda w: {"embed_look_id": _embed_look(w)},
        (LOGIN, 200, 404, 404, 404, 404),
        note="only the shopper: the window posts to a shop",
    ),
    Row(
        "embed:look-panel",
        "GET",
        lambda w: {"embed_look_id": _embed_look(w)},
        (LOGIN, 200, 404, 404, 404, 404),
        note="only the shopper: the window posts to a shop",
    ),
    Row(
        "embed:look-retry",
        "POST",
        lambda w: {"embed_look_id": _embed_look(w)},
        (LOGIN, 302, 404, 404, 404, 404),
        note="only the shopper retries their try-on",
    ),
    Row(
        "admin:embed_shop_changelist",
        "GET",
        none,
        (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 200),
        note="shops are the superuser's",
    ),
    Row(
        "admin:embed_shop_rotate_key",
        "POST",
        lambda w: {"shop_id": _embed_look_row(w).shop_id},
        (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 302),
        note="shops are the superuser's",
    ),
    Row(
        "admin:avatars_avatarjob_changelist",
        "GET",
        none,
        (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 200, 200),
    ),
    Row(
        "admin:avatars_avatarjob_change",
        "GET",
        lambda w: {"object_id": w.completed.pk},
        (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 200, 200),
    ),
    Row(
        "admin:avatars_avatarjob_dashboard",
        "GET",
        none,
        (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 200, 200),
    ),
    Row(
        "admin:avatars_tryonjob_changelist",
        "GET",
        none,
        (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 200, 200),
        note="try-ons: who may view every job",
    ),
    Row(
        "admin:avatars_tryonjob_change",
        "GET",
        bobs_model_tryon_job,
        (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 200, 200),
        note="Bob's try-on on Alice's model, for staff who may view every job",
    ),
    Row(
        "admin:shop_product_changelist",
        "GET",
        none,
        (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 200),
        note="products are the store staff's",
    ),
    Row(
        "admin:shop_product_change",
        "GET",
        lambda w: {"object_id": _hidden_product(w).pk},
        (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 200),
        note="an unpublished product, in the admin only",
    ),
    Row(
        "admin:shop_product_add",
        "GET",
        none,
        (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 200),
    ),
    Row(
        "admin:embed_shop_change",
        "GET",
        lambda w: {"object_id": _embed_look_row(w).shop_id},
        (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 200),
        note="shops are the superuser's",
    ),
    Row(
        "admin:shop_tryon_changelist",
        "GET",
        none,
        (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 200),
        note="reviewers are given no store permission",
    ),
    Row(
        "admin:shop_outfit_changelist",
        "GET",
        none,
        (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 200, 200),
        note="outfits show faces: whoever may view every job",
    ),
]

# Routes deliberately left out of the matrix, and why.
NOT_IN_MATRIX = {
    "api:<catch-all>": "answers 404 in the API's error shape for any other /api/ path",
}


def _outcome(response):
    """The status, or which login page a redirect goes to."""
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith(reverse("admin:login")):
            return ADMIN_LOGIN
        if location.startswith(reverse("login")):
            return LOGIN
    return response.status_code


def _ask(client, row, world):
    url = reverse(row.name, kwargs=row.kwargs(world))
    data = row.data(world) if row.data else None
    if row.method == "GET":
        return client.get(url)
    if row.method == "POST":
        return client.post(url, data or {})
    return client.generic(row.method, url)


@pytest.mark.parametrize("row", ROWS, ids=lambda row: f"{row.method} {row.name} {row.note}")
def test_who_gets_what(row, world, clients):
    answers = {}
    # The owner last: their requests may change or delete the object the others ask about.
    for role in sorted(ROLES, key=lambda role: role == "owner"):
        answers[role] = _outcome(_ask(clients[role], row, world))
    assert tuple(answers[role] for role in ROLES) == row.expected


def test_another_users_404_says_nothing_about_the_avatar(world, clients):
    response = clients["other"].get(reverse("avatars:job", args=[world.completed.pk]))

    assert response.status_code == 404
    body = response.content.decode()
    assert str(world.completed.pk) not in body
    assert "alice" not in body


def _route_names():
    names = set()

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace or namespace
                walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern):
                name = pattern.name or "<catch-all>"
                names.add(f"{namespace}:{name}" if namespace else name)

    walk(get_resolver().url_patterns, None)
    return names


def test_every_route_is_in_the_matrix():
    site_routes = {name for name in _route_names() if not name.startswith("admin:")}
    covered = {row.name for row in ROWS} | set(NOT_IN_MATRIX)

    assert site_routes - covered == set()


# --- CSRF ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "row",
    [row for row in ROWS if row.method == "POST" and row.name != "avatars:fashn-webhook"],
    ids=lambda row: f"{row.name} {row.note}",
)
def test_forms_without_their_csrf_token_are_refused(row, world, alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    row.kwargs(world)  # what the row asks about is made on first use: before, not by the request
    before = AvatarJob.objects.order_by("pk").values_list("pk", "status", "review_state")
    before = list(before)

    response = _ask(client, row, world)

    assert response.status_code == 403
    after = AvatarJob.objects.order_by("pk").values_list("pk", "status", "review_state")
    assert list(after) == before


def test_the_api_refuses_session_writes_without_csrf(world, alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    response = client.delete(reverse("api:avatar", args=[world.completed.pk]))

    assert response.status_code == 403
    assert AvatarJob.objects.filter(pk=world.completed.pk).exists()
