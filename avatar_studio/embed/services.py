"""The embedded button: checking what a shop's page asks for, and starting the try-on.

The window trusts nothing in its address: the key must belong to an active shop, the origin must
be on that shop's list, the category one of FASHN's, and the garment picture a public https image
(fetched by ``api.fetch``, which refuses private addresses). The try-on itself is the store's
(``shop.services``): cached by the garment's bytes, so the same picture from any shop is made once
per avatar image.
"""

import io
from dataclasses import dataclass

from django.db import transaction
from django.http import Http404

from avatar_studio import fashn
from avatar_studio.api import fetch
from avatar_studio.avatars.refusals import Refused
from avatar_studio.shop import images
from avatar_studio.shop import selectors as shop_selectors
from avatar_studio.shop import services as shop_services

from . import refusals
from .models import KEY_PREFIX, EmbedLook, Shop, new_key

MAX_NAME = 100


@dataclass(frozen=True)
class TryRequest:
    """What a shop's button asked for, checked (but the garment picture not yet fetched)."""

    shop: Shop
    origin: str
    garment_url: str
    name: str
    category: str


def check_request(*, key, origin, garment_url, name, category):
    """The request if the shop may make it; else raises ``Refused``. Resolves the garment's host
    (it must be public) but connects to nothing: the picture is fetched by ``try_on``."""
    shop = Shop.objects.filter(key=key).first() if key.startswith(KEY_PREFIX) else None
    if shop is None:
        raise Refused(refusals.UNKNOWN_KEY)
    if not shop.is_active:
        raise Refused(refusals.SHOP_INACTIVE)
    if origin not in shop.origins:
        raise Refused(refusals.ORIGIN_NOT_ALLOWED)
    if category not in fashn.TRYON_CATEGORIES:
        raise Refused(refusals.BAD_CATEGORY)
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise Refused(refusals.NO_NAME)
    try:
        target = fetch.parse_target(garment_url)
        policy = fetch.default_policy()
        fetch.checked_address(target.host, target.port, policy.resolve, policy.address_allowed)
    except fetch.UnsafeURL:
        # Refused in the fetcher's own words, which it says before connecting to anything.
        _fetch_garment(garment_url)
    return TryRequest(shop, origin, garment_url, name, category)


def try_on(shopper, request, avatar_result_id, *, consent):
    """Start (or find) ``shopper``'s look at the shop's garment on one of their own avatar
    images; returns the ``EmbedLook``. Raises ``Refused`` (or 404 for an avatar not theirs)."""
    if not consent:
        raise Refused(refusals.NO_CONSENT)
    avatar_result = shop_selectors.wearable_result(shopper, avatar_result_id)
    if avatar_result.job.owner_id != shopper.pk:
        # A shared model is the store's; the button dresses the shopper's own avatars.
        raise Http404("No such avatar.")
    png = garment_png(_fetch_garment(request.garment_url))
    # The cache key is the picture, not its address: the same garment from any URL is made once.
    slug = images.garment_key(png)
    with transaction.atomic():
        look = shop_services.try_on_garment(
            shopper, slug, lambda: png, request.category, avatar_result
        )
        return EmbedLook.objects.create(
            look=look, shop=request.shop, origin=request.origin, garment_name=request.name
        )


def rotate_key(shop):
    """Give ``shop`` a new key; the old one is refused from now on."""
    shop.key = new_key()
    shop.save(update_fields=["key"])
    return shop.key


def garment_png(data):
    """``data`` (an image's bytes) as the normalised PNG every garment picture is kept as
    (``shop.images``, as the API's and the store's); raises ``Refused`` if it is not one."""
    try:
        return images.normalise_garment(io.BytesIO(data))
    except images.GarmentPhotoRejected:
        raise Refused(refusals.NOT_AN_IMAGE) from None


def _fetch_garment(url):
    try:
        return fetch.fetch_image(url, fetch.default_policy())
    except fetch.ImageURLRefused as refusal:
        raise Refused(refusals.bad_garment_url(str(refusal))) from None
