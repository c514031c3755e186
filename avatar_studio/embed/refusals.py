"""Why the embedded button's window refuses a request: ``Reason``s, as everywhere else
(``avatars.refusals``), worded for the shopper who sees them in the window."""

from avatar_studio import fashn
from avatar_studio.avatars.refusals import Reason

UNKNOWN_KEY = Reason(
    "embed_unknown_key",
    "This shop's button is not registered with Avatar Studio (or its key was replaced). "
    "The shop needs to update its button.",
)
SHOP_INACTIVE = Reason(
    "embed_shop_inactive", "This shop's button is switched off. Try on the shop's own site."
)
ORIGIN_NOT_ALLOWED = Reason(
    "embed_origin_not_allowed",
    "This button was used from a site its shop did not register. Open the shop's own site.",
)
BAD_CATEGORY = Reason(
    "embed_bad_category",
    "The shop sent a garment category we cannot try on. It must be one of: "
    + ", ".join(fashn.TRYON_CATEGORIES)
    + ".",
)
NO_NAME = Reason("embed_bad_name", "The shop sent no garment name (or one over 100 characters).")
NOT_AN_IMAGE = Reason(
    "embed_not_an_image",
    "The garment's picture is not an image we can read (PNG, JPEG or WebP). The shop needs to "
    "link the picture itself.",
)
NO_CONSENT = Reason(
    "embed_no_consent",
    "Tick the box to agree that the try-on shows your avatar's face, then try again.",
)


def bad_garment_url(message):
    """The garment URL was refused by the safe fetcher; ``message`` says why."""
    return Reason("embed_bad_garment_url", f"The shop's garment picture cannot be used: {message}")
