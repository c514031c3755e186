"""Starting try-ons: the shopper's own, one per avatar image, garment photo and model, found
again when they ask again; each reached through the shopper's look. And the products' photos:
stored once normalised (``shop.images``), with the demo store as seed data.

A try-on is owned by the shopper who asked (``TryOn.shopper`` and its job's ``owner``), whoever's
avatar it dresses: it is charged to their daily allowance (``avatars.quota``), exported with their
data and deleted with their account. A repeat of one they already have costs nothing."""

import io
import logging

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from PIL import Image

from avatar_studio import fashn
from avatar_studio.avatars import options, quota
from avatar_studio.avatars import services as avatar_services
from avatar_studio.avatars.models import AvatarJob, JobStatus, PredictionModel
from avatar_studio.avatars.refusals import (
    AVATAR_NOT_WEARABLE,
    GARMENT_GONE,
    NO_PRODUCT_PHOTO,
    OUTFIT_COMBINATION,
    OUTFIT_NOT_STOPPED,
    OUTFIT_ONE_PIECE_ALONE,
    PRODUCT_UNAVAILABLE,
    QUOTA_EXCEEDED,
    UNKNOWN_TRYON_MODEL,
    Refused,
)

from . import images, selectors
from .catalogue import DEMO_GARMENTS
from .garments import garment_png
from .models import Look, Outfit, OutfitStatus, OutfitStep, Product, ProductImage, TryOn

logger = logging.getLogger(__name__)

# The try-on's own settings. FASHN keeps nothing of a base64 run, which suits pictures of faces.
TRYON_SETTINGS = {
    "mode": fashn.DEFAULT_TRYON_MODE,
    "seed": fashn.DEFAULT_SEED,
    "output_format": fashn.DEFAULT_OUTPUT_FORMAT,
    "return_base64": True,
}
# tryon-max takes no category or mode; premium is asked for at its best (the same price).
TRYON_MAX_SETTINGS = {
    "generation_mode": "quality",
    "seed": fashn.DEFAULT_SEED,
    "output_format": fashn.DEFAULT_OUTPUT_FORMAT,
    "return_base64": True,
}
# Standard unless the shopper chose otherwise: callers that do not choose keep working.
DEFAULT_TRYON_MODEL = PredictionModel.TRYON
_SETTINGS = {PredictionModel.TRYON: TRYON_SETTINGS, PredictionModel.TRYON_MAX: TRYON_MAX_SETTINGS}
# What the shopper chooses between, in their words.
_TRYON_NAMES = {
    PredictionModel.TRYON: "Standard try-on",
    PredictionModel.TRYON_MAX: "Premium try-on",
}


def tryon_choices():
    """The try-ons a shopper may choose, cheapest first: (model name, label, credits)."""
    return [
        (model.value, _TRYON_NAMES[model], tryon_cost(model))
        for model in (PredictionModel.TRYON, PredictionModel.TRYON_MAX)
    ]


def tryon_cost(model_name):
    """The credits one try-on with ``model_name`` costs, with the store's settings."""
    settings = _SETTINGS[model_name]
    return options.tryon_credits(model_name, generation_mode=settings.get("generation_mode"))


def tryon_name(model_name):
    return _TRYON_NAMES.get(model_name, model_name)


def try_on(shopper, product, avatar_result, *, model_name=PredictionModel.TRYON):
    """``shopper``'s look at ``product`` (its first photo) on ``avatar_result``: their own (the
    same one each time they ask), on the cached try-on or on one started now.

    ``model_name`` is tryon-v1.6 (standard) or tryon-max (premium); anything else is refused.
    The caller has checked that the shopper may use this avatar image and see this product.
    """
    _check_model(model_name)
    photo = product.first_image()
    if photo is None:
        raise Refused(NO_PRODUCT_PHOTO)
    return try_on_garment(
        shopper,
        photo.tryon_key,
        lambda: _read(photo.image),
        product.category,
        avatar_result,
        model_name=model_name,
    )


def try_on_garment(
    shopper,
    garment_key,
    garment_bytes,
    category,
    avatar_result,
    *,
    model_name=PredictionModel.TRYON,
):
    """``shopper``'s look at the garment cached under ``garment_key`` (``TryOn.garment_slug``)
    and ``model_name`` on ``avatar_result``. ``garment_bytes()`` gives the garment's PNG; it is
    called only when the try-on is not cached yet."""
    _check_model(model_name)
    tryon = _cached_or_started(
        shopper, garment_key, garment_bytes, category, avatar_result, model_name
    )
    look, _created = Look.objects.get_or_create(shopper=shopper, tryon=tryon)
    return look


def delete_tryon(look):
    """Delete the shopper's try-on that ``look`` leads to: its job, pictures and garment image
    (the files once the deletion commits, ``avatars.files``), the look, and the looks made of it
    through shops' buttons. An outfit step that used it is left not started. Credits spent are
    not given back (the ledger keeps them)."""
    AvatarJob.objects.filter(pk=look.tryon.job_id).delete()


def _check_model(model_name):
    if model_name not in _SETTINGS:
        raise Refused(UNKNOWN_TRYON_MODEL)


def _read(field_file):
    with field_file.open("rb") as file:
        return file.read()


def _cached_or_started(shopper, key, garment_bytes, category, avatar_result, model_name):
    """``shopper``'s try-on of the garment ``key`` by ``model_name`` on ``avatar_result``: the
    one they asked for before, or a new one started now, its credits reserved from their
    allowance (``Refused`` with ``quota_exceeded``, and nothing created, when too few are left).
    A cached try-on that failed is started again, reserving again."""
    cached = _cached(shopper, key, avatar_result, model_name)
    if cached is not None and avatar_services.retry_refusal(cached.job) == GARMENT_GONE:
        # Failed, and its garment image deleted since under the retention policy: it cannot be
        # sent again, so it makes way for a new one.
        cached.job.delete()
        cached = None
    if cached is not None:
        if cached.job.status == JobStatus.FAILED:
            try:
                avatar_services.retry_job(cached.job)
            except Refused as refusal:
                # Out of credits is for the shopper to know. Otherwise it was retried a moment
                # ago (another tab), or its inputs were refused (retrying cannot help): the look
                # then shows the failure's advice.
                if refusal.code == QUOTA_EXCEEDED:
                    raise
            cached.job.refresh_from_db()
        return cached

    job = None
    try:
        with transaction.atomic():
            job = avatar_services.create_tryon(
                # The shopper asked for it: theirs, charged to them, gone with their account.
                owner=shopper,
                model_result=avatar_result,
                garment_png=garment_bytes(),
                model_name=model_name,
                # tryon-max guesses the garment's kind from its photo: it takes no category.
                **({"category": category} if model_name == PredictionModel.TRYON else {}),
                **_SETTINGS[model_name],
            )
            return TryOn.objects.create(
                shopper=shopper,
                avatar_result=avatar_result,
                garment_slug=key,
                model_name=model_name,
                job=job,
            )
    except IntegrityError:
        # The same shopper started the same try-on a moment ago (another tab): that one it is.
        if job is not None:
            job.garment_image.delete(save=False)
        return _cached(shopper, key, avatar_result, model_name)


def _cached(shopper, key, avatar_result, model_name):
    return (
        TryOn.objects.select_related("job")
        .filter(
            shopper=shopper, avatar_result=avatar_result, garment_slug=key, model_name=model_name
        )
        .first()
    )


# --- Outfits: a top then bottoms, or a one-piece, each try-on dressing the previous picture ----

# The order garments go on: the bottoms over the picture of the top.
_OUTFIT_ORDER = {"tops": 0, "bottoms": 1}


def start_outfit(shopper, avatar_result, products, *, model_name=DEFAULT_TRYON_MODEL):
    """``shopper``'s outfit of ``products`` on ``avatar_result``, its first try-on started (or
    found in the cache); each next one starts when the one before completes (``advance_outfit``).

    ``products`` is a top and bottoms (in either order: the top goes on first) or one one-piece;
    a None in it stands for a product that does not exist. Anything else is refused and nothing
    is created.
    """
    _check_model(model_name)
    products = list(products)
    if not selectors.may_wear(shopper, avatar_result):
        raise Refused(AVATAR_NOT_WEARABLE)
    _check_in_store(products)
    products = _outfit_order(products)
    if any(product.first_image() is None for product in products):
        raise Refused(NO_PRODUCT_PHOTO)
    _check_outfit_fits(shopper, avatar_result, products, model_name)
    with transaction.atomic():
        outfit = Outfit.objects.create(
            shopper=shopper, avatar_result=avatar_result, model_name=model_name
        )
        OutfitStep.objects.bulk_create(
            OutfitStep(outfit=outfit, order=order, product=product)
            for order, product in enumerate(products, start=1)
        )
    # After the commit: a first try-on that completes from now on finds its step and signals
    # the next one; one that already had, the call below advances.
    try:
        advance_outfit(outfit)
    except Refused:
        # Out of credits for the first step: a refused outfit leaves nothing behind.
        outfit.delete()
        raise
    return outfit


def continue_outfit(shopper, outfit):
    """Start the step of ``shopper``'s outfit that could not start when the garment before it was
    on (``OutfitStep.not_started_because``), now that what refused it may be resolved: checked
    as a new outfit would be (its products in the store, the rest of it within the allowance),
    the steps already done coming from the cache at no cost. ``Refused``, the step's reason
    updated, if it still cannot start."""
    steps = selectors.outfit_steps(outfit)
    if selectors.outfit_status(steps) != OutfitStatus.STOPPED:
        raise Refused(OUTFIT_NOT_STOPPED)
    products = [step.product for step in steps]
    try:
        _check_in_store(products)
        _check_outfit_fits(shopper, outfit.avatar_result, products, outfit.model_name)
        advance_outfit(outfit)
    except Refused as refusal:
        outfit.steps.filter(tryon__isnull=True).exclude(not_started_because="").update(
            not_started_because=refusal.message
        )
        raise


def _check_in_store(products):
    # A None stands for a product that does not exist.
    if any(product is None or not product.is_published for product in products):
        raise Refused(PRODUCT_UNAVAILABLE)


def _check_outfit_fits(shopper, avatar_result, products, model_name):
    # Each step reserves its own credits when it starts; refused now if the rest of the outfit
    # does not fit, rather than stopping half-dressed.
    quota.check_left(
        shopper, _outfit_cost(shopper, avatar_result, products, model_name), what="outfit"
    )


def _outfit_order(products):
    """The products in the order they go on, or refused when they do not make an outfit."""
    categories = [product.category for product in products]
    if "one-pieces" in categories:
        if len(products) != 1:
            raise Refused(OUTFIT_ONE_PIECE_ALONE)
        return products
    if sorted(categories) != ["bottoms", "tops"]:
        raise Refused(OUTFIT_COMBINATION)
    return sorted(products, key=lambda product: _OUTFIT_ORDER[product.category])


def _outfit_cost(shopper, avatar_result, products, model_name):
    """The credits the outfit's steps will reserve: each one not in the shopper's cache yet (or
    failed there, so retried), following the chain as far as the cache has pictures."""
    credits = 0
    model_image = avatar_result
    for product in products:
        cached = None
        if model_image is not None:
            cached = _cached(shopper, product.first_image().tryon_key, model_image, model_name)
        if cached is None or cached.job.status == JobStatus.FAILED:
            credits += tryon_cost(model_name)
        done = cached is not None and cached.job.status == JobStatus.COMPLETED
        model_image = cached.job.results.order_by("index").first() if done else None
    return credits


def advance_outfit(outfit):
    """Start the outfit's next try-on if the one before it has completed. Safe to call again
    and from several workers at once: a step is started once (a try-on is made once per image,
    garment and model: the cache), and a failed step stops the outfit there."""
    model_image = outfit.avatar_result
    for step in outfit.steps.select_related("product", "tryon__job"):
        tryon = step.tryon
        if tryon is None:
            # A cached try-on may have completed already: then the next step starts now too.
            try:
                tryon = _product_tryon(outfit.shopper, step.product, model_image, outfit.model_name)
            except Refused as refusal:
                if step.order > 1:  # a refused first step refuses the whole outfit instead
                    OutfitStep.objects.filter(pk=step.pk, tryon__isnull=True).update(
                        not_started_because=refusal.message
                    )
                raise
            OutfitStep.objects.filter(pk=step.pk, tryon__isnull=True).update(
                tryon=tryon, not_started_because=""
            )
        if tryon.job.status != JobStatus.COMPLETED:
            return
        model_image = tryon.job.results.order_by("index").first()
        if model_image is None:
            return


def on_job_finished(sender, job_id, status, **kwargs):
    """``avatars.pipeline.signals.job_finished`` receiver: a try-on that completed starts the
    next step of every outfit waiting on it (a failed one leaves them stopped)."""
    if str(status) != JobStatus.COMPLETED:
        return
    for outfit in Outfit.objects.filter(steps__tryon__job_id=job_id).distinct():
        try:
            advance_outfit(outfit)
        except Refused as refusal:
            # The shopper spent their allowance elsewhere between the steps (``start_outfit``
            # checked the whole outfit fitted), or the product lost its photo: the outfit stops
            # there, the reason on the step, until the shopper continues it (``continue_outfit``).
            logger.info("outfit %s: next step not started: %s", outfit.pk, refusal.code)


def _product_tryon(shopper, product, avatar_result, model_name):
    photo = product.first_image()
    if photo is None:
        raise Refused(NO_PRODUCT_PHOTO)
    return _cached_or_started(
        shopper,
        photo.tryon_key,
        lambda: _read(photo.image),
        product.category,
        avatar_result,
        model_name,
    )


def store_photo(image, png):
    """Put the normalised ``png`` into ``image`` (a ProductImage) and save it.

    A new photo on an existing row becomes a new row (and the old one goes, its file after the
    commit): the try-on cache key names the row, so a changed photo is never served from a
    try-on of the old one.
    """
    old_pk = image.pk
    if old_pk is not None:
        image.pk = None
        image._state.adding = True
    with Image.open(io.BytesIO(png)) as picture:
        image.width, image.height = picture.size
    image.image.save("photo.png", ContentFile(png), save=False)
    try:
        with transaction.atomic():
            image.save()
            if old_pk is not None:
                ProductImage.objects.filter(pk=old_pk).delete()
    except BaseException:
        image.image.delete(save=False)
        raise
    return image


@transaction.atomic
def load_demo_products():
    """The demo garments as published products with their drawn photos; returns how many
    products were created. Existing products keep what staff gave them."""
    created = 0
    for garment in DEMO_GARMENTS:
        product, is_new = Product.objects.get_or_create(
            slug=garment.slug,
            defaults={
                "name": garment.name,
                "price": garment.price,
                "description": garment.description,
                "category": garment.category,
                "is_published": True,
            },
        )
        created += is_new
        if not product.images.exists():
            png = images.normalise_garment(io.BytesIO(garment_png(garment)))
            store_photo(ProductImage(product=product, position=0), png)
    return created
