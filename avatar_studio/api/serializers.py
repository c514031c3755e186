"""What the API reads and writes. Input fields are named after the FASHN protocol's inputs, as the
browser form is, and a bad selfie gets the browser's own message (``avatars.images``)."""

import base64
import binascii
import io
import re

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiCallback,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers

from avatar_studio import fashn
from avatar_studio.avatars import options
from avatar_studio.avatars.consent import consent_text
from avatar_studio.avatars.forms import job_inputs_from
from avatar_studio.avatars.images import SelfieRejected, check_selfie
from avatar_studio.avatars.models import JobStatus
from avatar_studio.avatars.progress import job_progress

from . import fetch, webhooks

FACE_IMAGE_REQUIRED = "Choose a photo of your face to upload."
FACE_IMAGE_KIND = (
    "Send face_image as an uploaded file (multipart/form-data), a data URI "
    "(data:image/jpeg;base64,...) or an https:// URL of the photo."
)
DATA_URI_DAMAGED = (
    "The data URI's base64 text is damaged or incomplete. Encode the photo again as "
    "data:image/jpeg;base64,... and send it whole."
)
_DATA_URI = re.compile(r"^data:[\w.+-]*/?[\w.+-]*(?:;[^,;]*)*;base64,(?P<data>.*)$", re.DOTALL)


def consent_required_message():
    return f"Set consent to true to agree before uploading your selfie: {consent_text()}"


def is_url(text):
    """True if ``text`` looks like a URL (any scheme: the fetcher says which it refuses)."""
    return re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text.strip()) is not None


def data_uri_bytes(text, kind_message):
    """The bytes of a base64 data URI; a ValidationError (``kind_message`` if it is not one)."""
    match = _DATA_URI.match(text.strip())
    if match is None:
        raise serializers.ValidationError(kind_message)
    try:
        return base64.b64decode(re.sub(r"\s+", "", match["data"]), validate=True)
    except (binascii.Error, ValueError):
        raise serializers.ValidationError(DATA_URI_DAMAGED) from None


class FaceImageField(serializers.Field):
    """A selfie given as an uploaded file, a data URI or an https:// URL (``api.fetch``),
    checked and normalised on the way in.

    Its value is the ``NormalisedSelfie`` (a clean JPEG), never the raw bytes.
    """

    default_error_messages = {"required": FACE_IMAGE_REQUIRED, "null": FACE_IMAGE_REQUIRED}

    def to_internal_value(self, data):
        if hasattr(data, "read"):
            return self._normalise(data)
        if not isinstance(data, str):
            raise serializers.ValidationError(FACE_IMAGE_KIND)
        if data.strip() == "":
            raise serializers.ValidationError(FACE_IMAGE_REQUIRED)
        if is_url(data):
            return self._fetch(data.strip())
        return self._normalise(io.BytesIO(data_uri_bytes(data, FACE_IMAGE_KIND)))

    def _fetch(self, url):
        try:
            raw = fetch.fetch_image(url, fetch.default_policy())
        except fetch.ImageURLRefused as refusal:
            raise serializers.ValidationError(str(refusal), code="image_url_refused") from None
        return self._normalise(io.BytesIO(raw))

    def _normalise(self, file):
        try:
            return check_selfie(file, max_bytes=settings.SELFIE_MAX_UPLOAD_BYTES)
        except SelfieRejected as rejection:
            raise serializers.ValidationError(str(rejection), code="invalid_selfie") from None

    def to_representation(self, value):  # write-only; never echoed back
        return None


@extend_schema_field({"type": "string", "format": "uri", "maxLength": webhooks.URL_MAX_LENGTH})
class WebhookURLField(serializers.CharField):
    """An https:// URL to call when the avatar ends, checked as selfie URLs are (api.webhooks)."""

    def __init__(self, **kwargs):
        super().__init__(max_length=webhooks.URL_MAX_LENGTH, **kwargs)

    def to_internal_value(self, data):
        url = super().to_internal_value(data)
        if not url:
            return None
        try:
            webhooks.check_webhook_url(url, webhooks.default_policy())
        except webhooks.WebhookURLRefused as refusal:
            raise serializers.ValidationError(str(refusal), code="webhook_url_refused") from None
        return url


def webhook_callback(name, event_body):
    """The schema's word on what we POST to a request's webhook_url: ``event_body``, signed."""
    return OpenApiCallback(
        name,
        "{$request.body#/webhook_url}",
        extend_schema(
            summary="An event, when it ends (docs/API.md, Webhooks)",
            description="Sent with X-Avatar-Studio-Event (the event), X-Avatar-Studio-Delivery "
            "(the id) and X-Avatar-Studio-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "
            '"<t>.<raw body>" keyed with the secret>. Every attempt at one event sends the same '
            "body.",
            request=event_body,
            responses={
                200: OpenApiResponse(
                    description="Any 2xx within 10 s acknowledges the event; anything else is "
                    "tried again with backoff, then given up."
                )
            },
        ),
    )


class RefusesUnknownFields:
    """A request body's fields must all be this serializer's: an unsupported field is refused,
    not ignored, so that a typo (``num_image``) never passes for a request made with defaults.
    Checked before the fields themselves, so a refused request fetches no selfie URL."""

    def to_internal_value(self, data):
        unknown = sorted(set(getattr(data, "keys", dict)()) - set(self.fields))
        if unknown:
            supported = ", ".join(name for name, f in self.fields.items() if not f.read_only)
            message = f"This field is not supported here. Send only: {supported}."
            raise serializers.ValidationError({name: [message] for name in unknown})
        return super().to_internal_value(data)


class AvatarOptionsSerializer(serializers.Serializer):
    """The choices that shape an avatar and its cost, as the create request and the cost
    question (``AvatarCostSerializer``) both take them."""

    aspect_ratio = serializers.ChoiceField(
        choices=fashn.ASPECT_RATIOS, default=fashn.DEFAULT_ASPECT_RATIO
    )
    # Choices and defaults are set from ``avatars.options`` when the serializer is made (the
    # settings' defaults and maxima); these are the protocol's, for reading the class alone.
    generation_mode = serializers.ChoiceField(
        choices=fashn.GENERATION_MODES,
        required=False,
        help_text="fast (about 20 s), balanced (about 1 min) or quality (about 2 min); dearer "
        "modes cost more credits.",
    )
    resolution = serializers.ChoiceField(
        choices=fashn.RESOLUTIONS,
        required=False,
        help_text="1k, 2k or 4k: about 1, 4 or 16 megapixels, shaped by aspect_ratio. Those "
        "above this service's maximum are not offered.",
    )
    num_images = serializers.ChoiceField(
        choices=list(range(fashn.NUM_IMAGES_MIN, fashn.NUM_IMAGES_MAX + 1)),
        required=False,
        help_text="How many images to choose from; each costs its credits.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        offered = options.current()
        for name, default in offered.defaults().items():
            field = self.fields[name]
            field.choices = list(offered.allowed(name))
            field.default = default
            field.error_messages["invalid_choice"] = options.not_offered_message(name, offered)


class AvatarCreateSerializer(RefusesUnknownFields, AvatarOptionsSerializer):
    # Before face_image, so that a refused webhook URL is found before a selfie URL is fetched.
    webhook_url = WebhookURLField(
        required=False,
        allow_null=True,
        allow_blank=True,
        default=None,
        help_text="Optional https:// URL we POST to when the avatar completes or fails, signed "
        "with the secret returned once in this response (see docs/API.md). Public addresses only.",
    )
    face_image = FaceImageField(write_only=True)
    prompt = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=300,
        default="",
        help_text="The body shape, e.g. 'athletic build'. Empty lets the face decide.",
    )
    seed = serializers.IntegerField(
        min_value=fashn.SEED_MIN, max_value=fashn.SEED_MAX, default=fashn.DEFAULT_SEED
    )
    output_format = serializers.ChoiceField(
        choices=fashn.OUTPUT_FORMATS, default=fashn.DEFAULT_OUTPUT_FORMAT
    )
    return_base64 = serializers.BooleanField(
        default=False,
        help_text="Private delivery: the image comes straight back to us and the avatar service "
        "keeps no copy.",
    )
    consent = serializers.BooleanField(
        help_text="Must be true: the owner agrees to the consent text shown on the upload page."
    )

    def validate_consent(self, value):
        if value is not True:
            raise serializers.ValidationError(consent_required_message())
        return value

    def job_inputs(self):
        return job_inputs_from(self.validated_data)


class AvatarCreateMultipartSerializer(AvatarCreateSerializer):
    """The create request as a multipart form, for the schema: face_image is a file."""

    face_image = serializers.FileField(
        help_text="The selfie: JPEG, PNG, WebP or HEIC, up to 15 MB."
    )


class AvatarCreateJSONSerializer(AvatarCreateSerializer):
    """The create request as JSON, for the schema: face_image is a data URI or https URL."""

    face_image = serializers.RegexField(
        r"^(data:image/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=\s]+|https://\S+)$",
        help_text="The selfie as a data URI (data:image/jpeg;base64,...) or an https:// URL "
        "that we fetch: public addresses only, at most 15 MB, within 10 seconds.",
    )


class AvatarCostSerializer(RefusesUnknownFields, AvatarOptionsSerializer):
    """What a create request with these choices would cost, asked before sending it."""


class AvatarCostAnswerSerializer(serializers.Serializer):
    aspect_ratio = serializers.CharField()
    generation_mode = serializers.CharField()
    resolution = serializers.CharField()
    num_images = serializers.IntegerField()
    width = serializers.IntegerField(help_text="About how many pixels wide each image is.")
    height = serializers.IntegerField(help_text="About how many pixels high each image is.")
    credits = serializers.IntegerField(
        help_text="The FASHN credits these choices use (at most: failed predictions cost none)."
    )


class RetrySerializer(RefusesUnknownFields, serializers.Serializer):
    new_seed = serializers.BooleanField(
        default=False, help_text="Try again with a random seed instead of the same one."
    )


class CandidateSerializer(RefusesUnknownFields, serializers.Serializer):
    """Which of an avatar's images an action is about (pick, remake)."""

    index = serializers.IntegerField(
        min_value=0,
        max_value=fashn.NUM_IMAGES_MAX - 1,
        help_text="The image's index, as in the avatar's results (0 is the first).",
    )


class ProgressSerializer(serializers.Serializer):
    step = serializers.CharField(source="step_label")
    percent = serializers.IntegerField()
    elapsed_seconds = serializers.IntegerField()
    is_active = serializers.BooleanField()


class ResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    content_type = serializers.CharField()
    image_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    def _url(self, name, result):
        path = reverse(name, args=[result.job_id, result.index])
        return self.context["request"].build_absolute_uri(path)

    @extend_schema_field(OpenApiTypes.URI)
    def get_image_url(self, result):
        return self._url("api:avatar-result", result)

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumbnail_url(self, result):
        return self._url("api:avatar-result-thumbnail", result)


class WebhookDeliverySerializer(serializers.Serializer):
    id = serializers.UUIDField(
        help_text="Also sent as X-Avatar-Studio-Delivery and the event's id."
    )
    event = serializers.ChoiceField(choices=webhooks.AVATAR_EVENTS)
    state = serializers.ChoiceField(
        choices=["pending", "delivered", "failed"],
        help_text="pending: being sent or waiting to retry; failed: gave up after the last "
        "attempt.",
    )
    attempts = serializers.IntegerField()
    last_status_code = serializers.IntegerField(
        allow_null=True, help_text="Your endpoint's HTTP status at the last attempt."
    )
    last_error = serializers.CharField(
        help_text="Why the last attempt failed (a timeout, your endpoint's answer); empty if none."
    )
    created_at = serializers.DateTimeField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    gave_up_at = serializers.DateTimeField(allow_null=True)


class WebhookSerializer(serializers.Serializer):
    """An avatar's webhook as reads show it: the URL and its newest delivery, never the secret."""

    url = serializers.CharField()
    last_delivery = WebhookDeliverySerializer(allow_null=True)


class CreatedWebhookSerializer(WebhookSerializer):
    secret = serializers.CharField(
        help_text="Signs every delivery (X-Avatar-Studio-Signature). Shown only here, once: "
        "store it now."
    )


def _webhook_of(job):
    try:
        return job.api_webhook
    except ObjectDoesNotExist:
        return None


class AvatarSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=JobStatus.choices)
    progress = serializers.SerializerMethodField()
    error_name = serializers.CharField(help_text="Empty unless the avatar failed.")
    error_message = serializers.CharField(
        help_text="What happened and what to do about it; empty unless the avatar failed."
    )
    prompt = serializers.CharField()
    aspect_ratio = serializers.CharField()
    seed = serializers.IntegerField()
    output_format = serializers.CharField()
    return_base64 = serializers.BooleanField()
    generation_mode = serializers.CharField(
        help_text="fast, balanced or quality; empty if FASHN chose (older avatars)."
    )
    resolution = serializers.CharField(help_text="1k, 2k or 4k; empty for FASHN's default, 1k.")
    num_images = serializers.IntegerField(
        allow_null=True, help_text="Images asked for; null for FASHN's default, 1."
    )
    credits = serializers.SerializerMethodField(
        help_text="The most this avatar costs in FASHN credits, from its quality, resolution "
        "and number of images. Failed predictions are not charged."
    )
    created_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    results = ResultSerializer(many=True)
    chosen_index = serializers.SerializerMethodField(
        help_text="The index of the image that stands for the avatar wherever one picture is "
        "shown (gallery, share links, the store): the owner's pick (POST .../pick/), else the "
        "first. Null until the avatar has images."
    )
    origin = serializers.SerializerMethodField(
        help_text="The avatar this one was made from in high quality (POST .../remake/), or null."
    )
    webhook = serializers.SerializerMethodField(
        help_text="The webhook_url given at creation and its newest delivery; null if none."
    )

    @extend_schema_field(OpenApiTypes.INT)
    def get_chosen_index(self, job):
        result = job.avatar_result
        return None if result is None else result.index

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_origin(self, job):
        if job.origin_id is None:
            return None
        return self.context["request"].build_absolute_uri(
            reverse("api:avatar", args=[job.origin_id])
        )

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, job):
        return self.context["request"].build_absolute_uri(reverse("api:avatar", args=[job.pk]))

    @extend_schema_field(OpenApiTypes.INT)
    def get_credits(self, job):
        return options.estimated_credits(job)

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, job):
        return ProgressSerializer(job_progress(job, timezone.now())).data

    @extend_schema_field(WebhookSerializer(allow_null=True))
    def get_webhook(self, job):
        webhook = _webhook_of(job)
        return None if webhook is None else WebhookSerializer(webhook).data


class AvatarEventSerializer(AvatarSerializer):
    """The avatar in a webhook event: as reads show it, without the webhook's own state."""

    webhook = None


class AvatarWebhookEventSerializer(serializers.Serializer):
    """What we POST to an avatar's webhook_url (``deliveries.event_body``), for the schema."""

    id = serializers.UUIDField(
        help_text="The delivery's id, also in X-Avatar-Studio-Delivery: the same for every "
        "attempt at this event."
    )
    event = serializers.ChoiceField(choices=webhooks.AVATAR_EVENTS)
    created_at = serializers.DateTimeField()
    avatar = AvatarEventSerializer(
        help_text="The avatar as GET /api/v1/avatars/<id>/ showed it when it ended, without "
        "its webhook."
    )


class AvatarCreatedSerializer(AvatarSerializer):
    warnings = serializers.ListField(
        child=serializers.CharField(), help_text="Advice about the selfie, e.g. that it is small."
    )
    webhook = serializers.SerializerMethodField(
        help_text="The webhook_url and, this once, its signing secret; null if none was given."
    )

    @extend_schema_field(CreatedWebhookSerializer(allow_null=True))
    def get_webhook(self, job):
        webhook = _webhook_of(job)
        return None if webhook is None else CreatedWebhookSerializer(webhook).data
