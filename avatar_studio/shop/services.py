"""Starting try-ons: one per avatar image and garment photo, reused by every shopper who asks;
each shopper who asks gets a look of their own, the only way they reach it. And the products'
photos: stored once normalised (``shop.images``), with the demo store as seed data."""

import io
from contextlib import suppress

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from PIL import Image

from avatar_studio import fashn
from avatar_studio.avatars import services as avatar_services
from avatar_studio.avatars.models import JobStatus
from avatar_studio.avatars.refusals import NO_PRODUCT_PHOTO, Refused

from . import images
from .catalogue import DEMO_GARMENTS
from .garments import garment_png
from .models import Look, Product, ProductImage, TryOn

# The try-on's own settings. FASHN keeps nothing of a base64 run, which suits pictures of faces.
TRYON_SETTINGS = {
    "mode": fashn.DEFAULT_TRYON_MODE,
    "seed": fashn.DEFAULT_SEED,
    "output_format": fashn.DEFAULT_OUTPUT_FORMAT,
    "return_base64": True,
}


def try_on(shopper, product, avatar_result):
    """``shopper``'s look at ``product`` (its first photo) on ``avatar_result``: their own (the
    same one each time they ask), on the cached try-on or on one started now.

    The caller has checked that the shopper may use this avatar image and see this product.
    """
    photo = product.first_image()
    if photo is None:
        raise Refused(NO_PRODUCT_PHOTO)
    return try_on_garment(
        shopper,
        photo.tryon_key,
        lambda: _read(photo.image),
        product.category,
        avatar_result,
    )


def try_on_garment(shopper, garment_key, garment_bytes, category, avatar_result):
    """``shopper``'s look at the garment cached under ``garment_key`` (``TryOn.garment_slug``)
    on ``avatar_result``. ``garment_bytes()`` gives the garment's PNG; it is called only when the
    try-on is not cached yet."""
    tryon = _cached_or_started(garment_key, garment_bytes, category, avatar_result)
    look, _created = Look.objects.get_or_create(shopper=shopper, tryon=tryon)
    return look


def _read(field_file):
    with field_file.open("rb") as file:
        return file.read()


def _cached_or_started(key, garment_bytes, category, avatar_result):
    """The try-on of the garment ``key`` on ``avatar_result``: the cached one, or a new one
    started now. A cached try-on that failed is started again."""
    cached = _cached(key, avatar_result)
    if cached is not None:
        if cached.job.status == JobStatus.FAILED:
            # Refused when another shopper's request retried it a moment ago, or when its inputs
            # were refused (retrying cannot help; the look then shows the failure's advice).
            with suppress(Refused):
                avatar_services.retry_job(cached.job)
            cached.job.refresh_from_db()
        return cached

    job = None
    try:
        with transaction.atomic():
            job = avatar_services.create_tryon(
                # The picture shows the avatar owner's face: it is theirs, and goes with it.
                owner=avatar_result.job.owner,
                model_result=avatar_result,
                garment_png=garment_bytes(),
                category=category,
                **TRYON_SETTINGS,
            )
            return TryOn.objects.create(avatar_result=avatar_result, garment_slug=key, job=job)
    except IntegrityError:
        # Another shopper started the same try-on a moment ago: theirs is the one.
        if job is not None:
            job.garment_image.delete(save=False)
        return _cached(key, avatar_result)


def _cached(key, avatar_result):
    return (
        TryOn.objects.select_related("job")
        .filter(avatar_result=avatar_result, garment_slug=key)
        .first()
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
