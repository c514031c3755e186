"""The choices a user makes about an avatar's quality, size and candidates, and what they cost.

FASHN's face-to-model takes ``generation_mode``, ``resolution`` and ``num_images``; the protocol
allows every value in ``fashn.GENERATION_MODES``, ``fashn.RESOLUTIONS`` and
``NUM_IMAGES_MIN..NUM_IMAGES_MAX``. Staff narrow that down in the settings (the defaults and
maxima, ``AVATAR_DEFAULT_*`` and ``AVATAR_MAX_*``): this module is the one home of those limits,
of the words users read for each choice, and of the estimate in credits. The upload form, the
API's serializer, the service and the admin all ask it; prices themselves stay in
``fashn.credits_for``.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from avatar_studio import fashn

FIELDS = ("generation_mode", "resolution", "num_images")

# Plain words, and typical waits for the form (FASHN: about 20 s for fast at 1k, up to about
# 2 minutes).
MODE_NAMES = {"fast": "Quick draft", "balanced": "Balanced", "quality": "Best quality"}
MODE_WAITS = {"fast": "about 20 s", "balanced": "about 1 min", "quality": "about 2 min"}
MODE_LABELS = {mode: f"{name} ({MODE_WAITS[mode]})" for mode, name in MODE_NAMES.items()}
RESOLUTION_NAMES = {"1k": "Standard", "2k": "Large", "4k": "Extra large"}
NUM_IMAGES_LABEL = "How many to choose from"
# What the browser calls each field in its messages.
PLAIN_NAMES = {
    "generation_mode": "quality",
    "resolution": "image size",
    "num_images": "number of images",
}


@dataclass(frozen=True)
class Options:
    """What users may choose here, from the settings (see ``current``)."""

    default_generation_mode: str
    default_resolution: str
    default_num_images: int
    max_resolution: str
    max_num_images: int

    @property
    def generation_modes(self):
        return fashn.GENERATION_MODES

    @property
    def resolutions(self):
        """The resolutions offered: the protocol's, up to the maximum."""
        return fashn.RESOLUTIONS[: fashn.RESOLUTIONS.index(self.max_resolution) + 1]

    @property
    def num_images_choices(self):
        return tuple(range(fashn.NUM_IMAGES_MIN, self.max_num_images + 1))

    def allowed(self, field):
        """The values of ``field`` (one of ``FIELDS``) a user may choose."""
        return {
            "generation_mode": self.generation_modes,
            "resolution": self.resolutions,
            "num_images": self.num_images_choices,
        }[field]

    @property
    def best(self):
        """The best quality and the largest size offered: what a high-quality remake asks for
        (the protocol lists its modes from quickest to best)."""
        return {"generation_mode": self.generation_modes[-1], "resolution": self.max_resolution}

    def defaults(self):
        return {
            "generation_mode": self.default_generation_mode,
            "resolution": self.default_resolution,
            "num_images": self.default_num_images,
        }


def current():
    """The options as the settings give them now; ``ImproperlyConfigured`` naming a bad setting.

    Read on every call (it is cheap), so a changed setting takes effect without a restart of
    anything that imported this module; ``AvatarsConfig.ready`` calls it once at start-up so a
    bad value stops the process before it serves anyone.
    """
    mode = _one_of("AVATAR_DEFAULT_GENERATION_MODE", fashn.GENERATION_MODES)
    resolution = _one_of("AVATAR_DEFAULT_RESOLUTION", fashn.RESOLUTIONS)
    max_resolution = _one_of("AVATAR_MAX_RESOLUTION", fashn.RESOLUTIONS)
    max_images = _whole_number("AVATAR_MAX_NUM_IMAGES", fashn.NUM_IMAGES_MIN, fashn.NUM_IMAGES_MAX)
    images = _whole_number("AVATAR_DEFAULT_NUM_IMAGES", fashn.NUM_IMAGES_MIN, max_images)
    if fashn.RESOLUTIONS.index(resolution) > fashn.RESOLUTIONS.index(max_resolution):
        raise ImproperlyConfigured(
            f"AVATAR_DEFAULT_RESOLUTION is {resolution!r}, above AVATAR_MAX_RESOLUTION "
            f"({max_resolution!r}): lower the default or raise the maximum."
        )
    return Options(mode, resolution, images, max_resolution, max_images)


def _one_of(name, allowed):
    value = getattr(settings, name)
    if value not in allowed:
        raise ImproperlyConfigured(f"{name} is {value!r}; set it to one of: {', '.join(allowed)}.")
    return value


def _whole_number(name, low, high):
    value = getattr(settings, name)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ImproperlyConfigured(
            f"{name} is {value!r}; set it to a whole number from {low} to {high}."
        )
    return value


def not_offered_message(field, options=None, *, name=None):
    """What a door says about a value of ``field`` that is not offered here.

    The API names the field as sent (``resolution must be one of: 1k, 2k. ...``); the browser
    passes ``name``, its plain word for the field ("image size").
    """
    allowed = ", ".join(str(value) for value in (options or current()).allowed(field))
    if name:
        return f"That {name} is not offered here. Choose one of: {allowed}."
    return f"{field} must be one of: {allowed}. Choose one of these."


def check(inputs, options=None):
    """``inputs`` with the three options filled in from the defaults where missing or blank.

    ``ValueError`` (with ``not_offered_message``'s words) for a value not offered here: the
    doors refuse those first, with the field named, so this only stops a caller that skipped
    them.
    """
    options = options or current()
    completed = dict(inputs)
    for field, default in options.defaults().items():
        value = completed.get(field)
        if value in (None, ""):
            completed[field] = value = default
        if value not in options.allowed(field):
            raise ValueError(not_offered_message(field, options))
    return completed


# FASHN's tryon-v1.6 price: one credit per image.
TRYON_CREDITS_PER_IMAGE = 1


def tryon_credits(model_name, *, generation_mode=None, num_images=None):
    """The most a try-on with ``model_name`` (tryon-v1.6 or tryon-max) can cost in credits.

    ``ValueError`` for a model that is not a try-on, or a value the protocol does not have.
    """
    if model_name == fashn.TRYON:
        return TRYON_CREDITS_PER_IMAGE * (num_images or 1)
    if model_name == fashn.TRYON_MAX:
        return fashn.tryon_max_credits_for(generation_mode=generation_mode, num_images=num_images)
    raise ValueError(f"{model_name!r} is not a try-on model")


def estimated_credits(inputs):
    """The most these inputs can cost in FASHN credits (``fashn.credits_for``).

    ``inputs`` is a mapping (a form's or serializer's job inputs) or an ``AvatarJob``; a blank
    value is left to FASHN, which ``credits_for`` counts at its dearest. A try-on job is priced
    by ``tryon_credits``.
    """

    def value(name):
        found = inputs.get(name) if isinstance(inputs, Mapping) else getattr(inputs, name, None)
        return None if found in ("", None) else found

    if getattr(inputs, "is_tryon", False):
        return tryon_credits(
            inputs.model_name,
            generation_mode=value("generation_mode"),
            num_images=value("num_images"),
        )
    return fashn.credits_for(
        generation_mode=value("generation_mode"),
        resolution=value("resolution"),
        num_images=value("num_images"),
    )


def image_size(resolution, aspect_ratio):
    """How many pixels wide and high an image of ``resolution`` at ``aspect_ratio`` is."""
    return fashn.image_size(resolution, aspect_ratio)


def resolution_label(resolution, aspect_ratio):
    width, height = image_size(resolution, aspect_ratio)
    return f"{RESOLUTION_NAMES[resolution]} ({width}×{height} px)"


def described(job):
    """What an avatar was asked for, in the upload form's words, for its page: (label, value)
    pairs. A blank option (an avatar made before these could be chosen) was left to FASHN."""
    left_to_fashn = "chosen by the service"
    return [
        ("Quality", MODE_NAMES.get(job.generation_mode, left_to_fashn)),
        (
            "Image size",
            resolution_label(job.resolution, job.aspect_ratio) if job.resolution else left_to_fashn,
        ),
        ("Images to choose from", str(job.num_images or 1)),
        ("Cost", credit_count(estimated_credits(job))),
    ]


def num_images_label(options=None):
    """The field's label with its range, e.g. "How many to choose from: 1–4"."""
    choices = (options or current()).num_images_choices
    if len(choices) == 1:
        return f"{NUM_IMAGES_LABEL}: {choices[0]}"
    return f"{NUM_IMAGES_LABEL}: {choices[0]}–{choices[-1]}"


def price_table(options=None):
    """What the upload page's script needs to show the cost and sizes as choices change.

    ``credits`` holds the estimate for every combination offered, keyed
    ``"<generation_mode>|<resolution>|<num_images>"``, each from ``fashn.credits_for``;
    ``sizes`` holds each resolution's label at each aspect ratio.
    """
    options = options or current()
    credits = {
        f"{mode}|{resolution}|{count}": fashn.credits_for(
            generation_mode=mode, resolution=resolution, num_images=count
        )
        for mode in options.generation_modes
        for resolution in options.resolutions
        for count in options.num_images_choices
    }
    sizes = {
        ratio: {
            resolution: resolution_label(resolution, ratio) for resolution in options.resolutions
        }
        for ratio in fashn.ASPECT_RATIOS
    }
    return {"credits": credits, "sizes": sizes}


def credit_count(credits):
    return f"{credits} credit" + ("" if credits == 1 else "s")


def credits_phrase(credits):
    return f"This uses {credit_count(credits)}"
