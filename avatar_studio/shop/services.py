"""Starting try-ons: one per avatar image and garment, reused by every shopper who asks; each
shopper who asks gets a look of their own, the only way they reach it."""

from contextlib import suppress
from types import SimpleNamespace

from django.db import IntegrityError, transaction

from avatar_studio import fashn
from avatar_studio.avatars import services as avatar_services
from avatar_studio.avatars.models import JobStatus
from avatar_studio.avatars.refusals import Refused

from .garments import garment_png
from .models import Look, TryOn

# The try-on's own settings. FASHN keeps nothing of a base64 run, which suits pictures of faces.
TRYON_SETTINGS = {
    "mode": fashn.DEFAULT_TRYON_MODE,
    "seed": fashn.DEFAULT_SEED,
    "output_format": fashn.DEFAULT_OUTPUT_FORMAT,
    "return_base64": True,
}


def try_on(shopper, garment, avatar_result):
    """``shopper``'s look at ``garment`` on ``avatar_result``: their own (the same one each time
    they ask), on the cached try-on or on one started now.

    The caller has checked that the shopper may use this avatar image.
    """
    tryon = _cached_or_started(garment, avatar_result)
    look, _created = Look.objects.get_or_create(shopper=shopper, tryon=tryon)
    return look


def try_on_image(shopper, garment_slug, category, png, avatar_result):
    """Like ``try_on``, for a garment known only by its picture (``png`` bytes) and FASHN
    category, cached under ``garment_slug``."""
    garment = SimpleNamespace(slug=garment_slug, category=category)
    tryon = _cached_or_started(garment, avatar_result, png=png)
    look, _created = Look.objects.get_or_create(shopper=shopper, tryon=tryon)
    return look


def _cached_or_started(garment, avatar_result, png=None):
    """The try-on of ``garment`` on ``avatar_result``: the cached one, or a new one started now.
    A cached try-on that failed is started again."""
    cached = _cached(garment, avatar_result)
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
                garment_png=garment_png(garment) if png is None else png,
                category=garment.category,
                **TRYON_SETTINGS,
            )
            return TryOn.objects.create(
                avatar_result=avatar_result, garment_slug=garment.slug, job=job
            )
    except IntegrityError:
        # Another shopper started the same try-on a moment ago: theirs is the one.
        if job is not None:
            job.garment_image.delete(save=False)
        return _cached(garment, avatar_result)


def _cached(garment, avatar_result):
    return (
        TryOn.objects.select_related("job")
        .filter(avatar_result=avatar_result, garment_slug=garment.slug)
        .first()
    )
