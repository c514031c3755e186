"""What a failed avatar tells its owner: what happened and what to do, per error name.

FASHN's runtime error names come first; the names after them are our own, for failures that
happen around FASHN rather than inside it.
"""

from ..images import DAMAGED_HEIC

SUBMISSION_UNCONFIRMED = "SubmissionUnconfirmed"
DEADLINE_EXCEEDED = "DeadlineExceeded"
RESULT_UNAVAILABLE = "ResultUnavailable"
PREDICTION_LOST = "PredictionLost"
SERVICE_MISCONFIGURED = "ServiceMisconfigured"
OUT_OF_CREDITS = "OutOfCredits"
REQUEST_REFUSED = "RequestRefused"
SELFIE_MISSING = "SelfieMissing"
TRYON_INPUT_MISSING = "TryOnInputMissing"
SELFIE_DAMAGED = "SelfieDamaged"  # a HEIC whose full decode failed (``received_selfies``)

_MESSAGES = {
    "ImageLoadError": (
        "The avatar service could not read your selfie. Upload it again as a JPEG or PNG "
        "photo; if it was edited or exported by an app, try the original photo."
    ),
    "ContentModerationError": (
        "The avatar service refused this photo under its content rules. Use an everyday "
        "selfie of yourself, fully clothed, with nothing else in the frame."
    ),
    "InputValidationError": (
        "No usable face was found in your selfie. Use a photo where you face the camera in "
        "even light, without sunglasses, with your face filling about a third of the frame."
    ),
    "PoseError": (
        "Your pose could not be used. Face the camera straight on, head upright, and try again."
    ),
    "PipelineError": (
        "The avatar service had an internal error and we tried again several times without "
        "success. Press Retry in a few minutes; failed attempts are not charged."
    ),
    "ThirdPartyError": (
        "A provider the avatar service relies on failed repeatedly. Press Retry in a few "
        "minutes; failed attempts are not charged."
    ),
    "3rdPartyProviderError": (
        "A provider the avatar service relies on failed repeatedly. Press Retry in a few "
        "minutes; failed attempts are not charged."
    ),
    "UnavailableError": (
        "The avatar service is unavailable right now. Press Retry in a few minutes."
    ),
    "InternalServerError": (
        "The avatar service had an internal error. Press Retry in a few minutes."
    ),
    "canceled": "The avatar service canceled this avatar. Press Retry to make it again.",
    "time_out": "The avatar service took too long with this avatar. Press Retry to try again.",
    SUBMISSION_UNCONFIRMED: (
        "We lost contact with the avatar service while sending your selfie and could not "
        "confirm it arrived. To be sure you are not charged twice we did not send it again "
        "on our own: press Retry to send it once more."
    ),
    DEADLINE_EXCEEDED: (
        "Your avatar took far longer than it should and we stopped waiting. Press Retry to "
        "try again."
    ),
    RESULT_UNAVAILABLE: (
        "Your avatar was made but we could not download it from the avatar service. Press "
        "Retry to make it again."
    ),
    PREDICTION_LOST: (
        "The avatar service no longer knows about this avatar. Press Retry to make it again."
    ),
    SERVICE_MISCONFIGURED: (
        "The avatar service refused our credentials. This is our fault, not yours: the team "
        "has been alerted. Please try again later."
    ),
    OUT_OF_CREDITS: (
        "The studio has run out of avatar credits. The team has been alerted; please try "
        "again later."
    ),
    SELFIE_MISSING: (
        "The selfie for this avatar is no longer stored, so it cannot be sent again. Upload "
        "your selfie once more to make a new avatar."
    ),
    TRYON_INPUT_MISSING: (
        "The avatar or the garment image for this try-on is no longer stored. Start the "
        "try-on again from the product page."
    ),
    SELFIE_DAMAGED: DAMAGED_HEIC,
    REQUEST_REFUSED: (
        "The avatar service refused the request as invalid. Check your settings and try "
        "again, or upload a different photo."
    ),
}

# Every name a job or an attempt can fail with that has its own message: the bounded set the
# metrics label failures with (``ops.counters``).
KNOWN_ERROR_NAMES = frozenset(_MESSAGES)

_FALLBACK = "Something went wrong while making your avatar. Press Retry to try again."


# A try-on's inputs are an avatar image and a garment picture, not a selfie: where FASHN refused
# them, the shopper is told about those.
_TRYON_MESSAGES = {
    "ImageLoadError": (
        "The try-on service could not read the garment picture or the avatar image. Try another "
        "picture of the garment, or another of your avatars."
    ),
    "ContentModerationError": (
        "The try-on service refused this garment picture or avatar under its content rules. "
        "Try another picture of the garment, or another of your avatars."
    ),
    "InputValidationError": (
        "The try-on service could not use this garment picture with this avatar. Try a clear "
        "picture of the garment alone on a plain background, or another of your avatars."
    ),
    "PoseError": (
        "The try-on service could not dress this avatar's pose. Try another of your avatars, "
        "one facing the camera with the arms down."
    ),
}


def message_for(error_name, *, tryon=False):
    """What a job that failed with ``error_name`` tells its owner (a try-on's in its own words
    where its inputs were refused)."""
    if tryon and error_name in _TRYON_MESSAGES:
        return _TRYON_MESSAGES[error_name]
    return _MESSAGES.get(error_name, _FALLBACK)
