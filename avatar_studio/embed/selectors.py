"""Which embedded looks a shopper may open, and where the window may say it is done."""

from django.http import Http404

from avatar_studio.shop import selectors as shop_selectors

from .models import EmbedLook


def visible_embed_look(user, embed_look_id):
    """The embedded look if its look is one ``user`` may open (``shop.selectors.visible_look``:
    the shopper who asked), else 404."""
    try:
        embed_look = EmbedLook.objects.select_related("shop").get(pk=embed_look_id)
    except (EmbedLook.DoesNotExist, ValueError):
        raise Http404("No such try-on.") from None
    # Only the shopper: the window posts to a shop, and a reviewer's window must not.
    if embed_look.look.shopper_id != user.pk:
        raise Http404("No such try-on.")
    embed_look.look = shop_selectors.visible_look(user, embed_look.look_id)
    return embed_look


def done_origin(embed_look):
    """The origin the window may post its "done" message to: the one the button was used from,
    while the shop is active and still lists it; else None (the window then posts nothing)."""
    shop = embed_look.shop
    if shop.is_active and embed_look.origin in shop.origins:
        return embed_look.origin
    return None
