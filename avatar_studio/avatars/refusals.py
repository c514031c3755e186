"""Why a user action is refused: one typed reason, in the same words through every door.

A service raises ``Refused(reason)``; the browser shows ``reason.message`` as a message, the API
answers ``{"error": {"code": reason.code, "message": reason.message}}`` and the admin reports it
as an action message. No door writes its own wording for a refusal, so the three cannot drift.
"""

from dataclasses import dataclass

from avatar_studio import fashn

from .pipeline.failures import SELFIE_MISSING, message_for


@dataclass(frozen=True)
class Reason:
    """``code`` is stable, for programs; ``message`` says what happened and what to do."""

    code: str
    message: str


class Refused(Exception):
    """A user action the rules do not allow. ``retry_after`` (seconds) when waiting helps."""

    def __init__(self, reason, *, retry_after=None):
        super().__init__(reason.message)
        self.reason = reason
        self.retry_after = retry_after

    @property
    def code(self):
        return self.reason.code

    @property
    def message(self):
        return self.reason.message


QUOTA_EXCEEDED = "quota_exceeded"


def quota_exceeded(message):
    # The message names the limit and when it resets, so it is made by ``quota``.
    return Reason(QUOTA_EXCEEDED, message)


# --- Retrying ----------------------------------------------------------------------------------

RETRY_COMPLETED = Reason(
    "not_failed",
    "This avatar is already made, so there is nothing to retry: only a failed "
    "avatar can be retried.",
)
RETRY_RUNNING = Reason(
    "not_failed",
    "This avatar is still being made. Only a failed avatar can be retried, so that "
    "a second attempt never runs alongside the first.",
)
SELFIE_GONE = Reason("selfie_gone", message_for(SELFIE_MISSING))
GARMENT_GONE = Reason(
    "garment_gone",
    "The garment picture of this try-on has been deleted, as our privacy policy says, so it "
    "cannot be retried. Ask for the try-on again to make a new one.",
)
# FASHN said the inputs themselves are the problem (``fashn.PERMANENT_RUNTIME_ERRORS``): the
# same photo fails again whatever the seed, so each error's reason repeats that failure's own
# advice. One reason, with one message, per error name.
INPUT_REJECTED = {
    error_name: Reason(
        "input_rejected",
        f"This photo cannot make an avatar as it is, so retrying cannot help. "
        f"{message_for(error_name)} Upload another photo to try again.",
    )
    for error_name in fashn.PERMANENT_RUNTIME_ERRORS
}
TRYON_INPUT_REJECTED = {
    error_name: Reason(
        "input_rejected",
        f"This try-on cannot be made as it is, so retrying cannot help. "
        f"{message_for(error_name, tryon=True)}",
    )
    for error_name in fashn.PERMANENT_RUNTIME_ERRORS
}

# --- Public display ----------------------------------------------------------------------------

NOT_MADE_YET = Reason(
    "not_completed", "This avatar is still being made. Wait until it is ready, then try again."
)
NOTHING_TO_SHOW = Reason(
    "not_completed", "This avatar could not be made, so there is no image to show."
)
ALREADY_OFFERED = Reason("already_offered", "This avatar is already offered for public display.")
NOT_OFFERED = Reason(
    "not_offered", "This avatar is not offered for public display: it stays private."
)
ALREADY_APPROVED = Reason("already_approved", "This avatar is already approved for display.")
ALREADY_REJECTED = Reason("already_rejected", "This avatar is already rejected for display.")
REASON_REQUIRED = Reason(
    "reason_required", "Say why the avatar is rejected: its owner reads the reason."
)

# --- Candidates --------------------------------------------------------------------------------

NO_SUCH_IMAGE = Reason(
    "no_such_image",
    "This avatar has no image with that number. Reload the page to see the images it has.",
)
PICK_WHILE_OFFERED = Reason(
    "offered_for_display",
    "This avatar is offered for public display with the image our staff review. Withdraw it "
    "from display first, then pick another image.",
)
REMAKE_SELFIE_GONE = Reason(
    "selfie_gone",
    "The selfie this avatar was made from has been deleted, as our privacy policy says, so it "
    "cannot be made again. Upload your selfie again to make a new avatar.",
)
ALREADY_BEST = Reason(
    "already_best",
    "This avatar is already made at the best quality and the largest size offered here.",
)

# --- Any action --------------------------------------------------------------------------------

CHANGED_MEANWHILE = Reason(
    "changed_meanwhile",
    "This avatar changed while you were acting on it. Reload the page and look at it again.",
)
# Our file storage (the S3 bucket, the disk) did not answer: nothing was saved or reserved.
STORAGE_UNAVAILABLE = Reason(
    "storage_unavailable",
    "We could not store the picture just now, so nothing was saved and no credits were used. "
    "Please try again in a minute.",
)
# Seconds the API's Retry-After suggests after STORAGE_UNAVAILABLE.
STORAGE_RETRY_AFTER_SECONDS = 30


# --- The store ---------------------------------------------------------------------------------

NO_PRODUCT_PHOTO = Reason(
    "no_product_photo", "This product has no photo to try on yet. Try another product."
)
UNKNOWN_TRYON_MODEL = Reason(
    "unknown_tryon_model",
    f"That try-on is not offered. Choose {fashn.TRYON} (standard) or {fashn.TRYON_MAX} (premium).",
)
OUTFIT_COMBINATION = Reason(
    "outfit_combination",
    "An outfit is one top with one pair of bottoms, or a one-piece on its own. "
    "Choose a top and bottoms, or a single one-piece.",
)
OUTFIT_ONE_PIECE_ALONE = Reason(
    "outfit_one_piece_alone",
    "A one-piece is worn on its own: it cannot be combined with another garment. "
    "Choose the one-piece alone, or a top and bottoms.",
)
OUTFIT_NOT_STOPPED = Reason(
    "outfit_not_stopped",
    "This outfit has not stopped: each garment goes on once the one before it is on. "
    "Reload the page to see how far it got.",
)
PRODUCT_UNAVAILABLE = Reason(
    "product_unavailable", "That product is not in the store. Choose another one."
)
AVATAR_NOT_WEARABLE = Reason(
    "avatar_not_wearable",
    "You cannot dress that avatar. Choose one of your own completed avatars or a store model.",
)
