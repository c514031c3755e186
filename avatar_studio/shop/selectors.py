"""Which avatars a shopper may dress, and which looks they may see.

A shopper dresses their own completed avatars ("See it on me") or the approved avatars their
owners chose to share ("See it on a model"; read only through
``review.approved_public_avatars()``, so a withdrawn avatar disappears from the store at once).
Either way the try-on and the look that leads to it are the shopper's who asked, private to
them whatever happens to the avatar later (until the avatar leaves the store or is deleted).
"""

import re

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404

from avatar_studio.avatars.models import AvatarJob, AvatarResult, JobStatus, PredictionModel
from avatar_studio.avatars.selectors import approved_public_avatars, may_view_all_jobs
from avatar_studio.embed.models import EmbedLook

from .models import Look, Outfit, OutfitStatus, Product, ProductImage

MODEL_PICKER_SIZE = 8
OWN_PICKER_SIZE = 12
CATALOGUE_PAGE_SIZE = 24
# A try-on of a product's photo is cached under "<product slug>-<photo id>".
_PRODUCT_KEY = re.compile(r"^(?P<slug>[-\w]+)-(?P<image>\d+)$")


# --- Products: shoppers see published ones only; each read is a fixed number of queries. -------


def _with_photos(products):
    return products.prefetch_related(
        Prefetch("images", queryset=ProductImage.objects.order_by("position", "id"))
    )


def catalogue_page(page_number):
    """One page of published products with their photos (3 queries: count, products, photos)."""
    paginator = Paginator(_with_photos(Product.objects.published()), CATALOGUE_PAGE_SIZE)
    return paginator.get_page(page_number)


def published_product(slug):
    """The published product ``slug`` with its photos (2 queries), else 404."""
    try:
        return _with_photos(Product.objects.published()).get(slug=slug)
    except Product.DoesNotExist:
        raise Http404("No such product.") from None


def product_photo(user, image_id):
    """A product photo: anyone's while the product is published; staff who may view products
    see the photos of unpublished ones too (the admin's previews). Else 404."""
    photos = ProductImage.objects.select_related("product")
    if not user.has_perm("shop.view_product"):
        photos = photos.filter(product__is_published=True)
    try:
        return photos.get(pk=image_id)
    except ProductImage.DoesNotExist:
        raise Http404("No such photo.") from None


def product_for_tryon(tryon):
    """The product whose photo ``tryon`` wears, published or not, or None (a garment from a URL,
    or a product deleted since)."""
    return products_for_tryons([tryon]).get(tryon.pk)


def products_for_tryons(tryons):
    """``{tryon pk: product}`` for those of ``tryons`` that wear a product's photo (one query).
    A key from before products were in the database is the bare product slug."""
    candidates = {}
    for tryon in tryons:
        match = _PRODUCT_KEY.match(tryon.garment_slug)
        # The longer slug first: a product may itself be named "<something>-<number>".
        candidates[tryon.pk] = [tryon.garment_slug] + ([match["slug"]] if match else [])
    slugs = {slug for names in candidates.values() for slug in names}
    products = {p.slug: p for p in Product.objects.filter(slug__in=slugs)} if slugs else {}
    found = {}
    for pk, names in candidates.items():
        product = next((products[name] for name in names if name in products), None)
        if product is not None:
            found[pk] = product
    return found


def garment_name_sent(look):
    """The name a shop's button sent with the garment picture of ``look`` (the embed window),
    or None: a look at a product goes by the product's name, and an API client sends none."""
    return (
        EmbedLook.objects.filter(look=look)
        .order_by("-created_at")
        .values_list("garment_name", flat=True)
        .first()
    )


def own_avatars(user):
    """The shopper's completed avatars, newest first, each with its images."""
    results = AvatarResult.objects.order_by("index")
    return (
        AvatarJob.objects.avatars()
        .filter(owner=user, status=JobStatus.COMPLETED)
        .order_by("-created_at")
        .prefetch_related(Prefetch("results", queryset=results))[:OWN_PICKER_SIZE]
    )


def model_avatars():
    return approved_public_avatars()[:MODEL_PICKER_SIZE]


def is_public_model(avatar_job):
    return approved_public_avatars().filter(pk=avatar_job.pk).exists()


def is_public_model_image(avatar_result):
    """A shared model's image is the one its owner picked (``AvatarJob.avatar_result``), the one
    staff reviewed: never its other candidates. A new pick takes the old image out of the store."""
    job = avatar_result.job
    return is_public_model(job) and job.avatar_result == avatar_result


def may_wear(user, avatar_result):
    """True if ``user`` may dress this avatar image: any of their own, or a shared model's."""
    job = avatar_result.job
    if job.model_name != PredictionModel.FACE_TO_MODEL or job.status != JobStatus.COMPLETED:
        return False
    return job.owner_id == user.pk or is_public_model_image(avatar_result)


def wearable_result(user, result_id):
    """The avatar image ``result_id`` if the shopper may dress it, else 404."""
    try:
        result = AvatarResult.objects.select_related("job").get(pk=result_id)
    except (AvatarResult.DoesNotExist, ValueError, TypeError):
        raise Http404("No such avatar.") from None
    if not may_wear(user, result):
        raise Http404("No such avatar.")
    return result


def public_model_result(result_id):
    """A shared model's image, for anyone in the store; 404 once it is no longer shared."""
    try:
        result = AvatarResult.objects.select_related("job").get(pk=result_id)
    except (AvatarResult.DoesNotExist, ValueError, TypeError):
        raise Http404("No such model.") from None
    if not is_public_model_image(result):
        raise Http404("No such model.")
    return result


def visible_look(user, look_id):
    """The look if ``user`` asked for it and may still dress its avatar, else 404.

    Whoever may view every job (``avatars.selectors.may_view_all_jobs``, an explicit permission)
    may open any look; ``is_staff`` alone opens none but the user's own.
    """
    looks = Look.objects.select_related("tryon__job", "tryon__avatar_result__job")
    privileged = may_view_all_jobs(user)
    if not privileged:
        looks = looks.filter(shopper=user)
    try:
        look = looks.get(pk=look_id)
    except (Look.DoesNotExist, ValidationError, ValueError, TypeError):
        raise Http404("No such try-on.") from None
    # A model withdrawn from the store takes every look at it along, at once.
    if not (privileged or may_wear(user, look.tryon.avatar_result)):
        raise Http404("No such try-on.")
    return look


def own_looks(user):
    """``user``'s looks at their own avatars (the API's try-ons), newest first: the looks
    ``visible_look`` shows them on an avatar they still own and may dress."""
    return (
        Look.objects.filter(
            shopper=user,
            tryon__avatar_result__job__owner=user,
            tryon__avatar_result__job__model_name=PredictionModel.FACE_TO_MODEL,
            tryon__avatar_result__job__status=JobStatus.COMPLETED,
        )
        .select_related("tryon__job", "tryon__avatar_result")
        .order_by("-created_at", "-pk")
    )


def own_look(user, look_id):
    """One of ``own_looks(user)``, else 404 (another user's look does not exist for them)."""
    try:
        return own_looks(user).get(pk=look_id)
    except (Look.DoesNotExist, ValidationError, ValueError, TypeError):
        raise Http404("No such try-on.") from None


# --- Outfits ------------------------------------------------------------------------------------


def products_by_slug(slugs):
    """The products named by ``slugs``, in that order, None for a slug no product has (the
    service refuses those, and unpublished ones, with a reason)."""
    found = {p.slug: p for p in _with_photos(Product.objects.filter(slug__in=slugs))}
    return [found.get(slug) for slug in slugs]


def outfit_partners(product):
    """The published products that make an outfit with ``product``: bottoms for a top, tops for
    bottoms, none for anything else (a one-piece is worn alone)."""
    other = {"tops": "bottoms", "bottoms": "tops"}.get(product.category)
    if other is None:
        return Product.objects.none()
    return Product.objects.published().filter(category=other)


def own_outfit(user, outfit_id):
    """The outfit if ``user`` made it and may still dress its avatar, else 404."""
    try:
        outfit = Outfit.objects.select_related("avatar_result__job").get(pk=outfit_id, shopper=user)
    except (Outfit.DoesNotExist, ValidationError, ValueError, TypeError):
        raise Http404("No such outfit.") from None
    if not may_wear(user, outfit.avatar_result):
        raise Http404("No such outfit.")
    return outfit


def outfit_steps(outfit):
    """The outfit's steps in order, each with its product, try-on and job."""
    return list(outfit.steps.select_related("product", "tryon__job"))


def outfit_status(steps):
    """An ``OutfitStatus``: failed once a step failed (the outfit stops there), stopped when a
    step could not start after the one before it was on, completed once every step has, else
    processing."""
    statuses = [step.tryon.job.status if step.tryon else None for step in steps]
    if JobStatus.FAILED in statuses:
        return OutfitStatus.FAILED
    if any(step.not_started_because for step in steps):
        return OutfitStatus.STOPPED
    if statuses and all(status == JobStatus.COMPLETED for status in statuses):
        return OutfitStatus.COMPLETED
    return OutfitStatus.PROCESSING
