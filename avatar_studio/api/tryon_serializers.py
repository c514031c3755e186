"""What the try-on API reads and writes: one of the caller's avatars dressed in a published
product or in a garment picture the client sends (an upload, a data URI or an https URL).

Checks run cheapest first: unknown fields, the avatar, the product or category, the webhook URL,
and only then is a garment URL fetched, so a refused request fetches nothing.
"""

import io

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from avatar_studio.avatars import options
from avatar_studio.avatars.models import TRYON_MODELS, AvatarJob, JobStatus, PredictionModel
from avatar_studio.avatars.progress import job_progress
from avatar_studio.shop import images
from avatar_studio.shop import selectors as shop_selectors
from avatar_studio.shop.models import CATEGORY_CHOICES, Product

from . import webhooks
from .serializers import (
    CreatedWebhookSerializer,
    ProgressSerializer,
    RefusesUnknownFields,
    WebhookDeliverySerializer,
    WebhookSerializer,
    WebhookURLField,
    data_uri_bytes,
    is_url,
)

CATEGORIES = [value for value, _label in CATEGORY_CHOICES]
NO_SUCH_AVATAR = "No such avatar of yours. Send the id of one of your avatars."
AVATAR_NOT_READY = "This avatar is not completed: only a completed avatar can be dressed."
NO_SUCH_PRODUCT = "No such product in the store."
ONE_GARMENT = "Send either product or garment_image, not both."
NO_GARMENT = "Send a product id, or a garment_image with its category."
CATEGORY_REQUIRED = f"Say what the garment is: one of {', '.join(CATEGORIES)}."
CATEGORY_WITH_PRODUCT = "A product has its own category: send category only with garment_image."
GARMENT_KIND = (
    "Send garment_image as an uploaded file (multipart/form-data), a data URI "
    "(data:image/png;base64,...) or an https:// URL of the picture."
)


class GarmentImageField(serializers.Field):
    """A garment picture as an upload, a data URI or an https URL: kept as given here and
    fetched and normalised (``shop.images``) only once every other field has passed."""

    def to_internal_value(self, data):
        if hasattr(data, "read"):
            return data
        if not isinstance(data, str) or not data.strip():
            raise serializers.ValidationError(GARMENT_KIND)
        if is_url(data):
            return data.strip()
        return io.BytesIO(data_uri_bytes(data, GARMENT_KIND))

    def to_representation(self, value):  # write-only; never echoed back
        return None


def garment_png(value):
    """The normalised PNG of a ``GarmentImageField`` value; ValidationError if it is none."""
    try:
        if isinstance(value, str):
            return images.fetch_garment(value)
        return images.normalise_garment(value)
    except images.GarmentPhotoRejected as rejected:
        raise serializers.ValidationError({"garment_image": [str(rejected)]}) from None


class TryOnCreateSerializer(RefusesUnknownFields, serializers.Serializer):
    avatar = serializers.UUIDField(
        help_text="One of your completed avatars (its id): its chosen image is dressed."
    )
    product = serializers.IntegerField(
        required=False, min_value=1, help_text="A published product's id, from the store."
    )
    garment_image = GarmentImageField(required=False, write_only=True)
    category = serializers.ChoiceField(
        choices=CATEGORIES,
        required=False,
        help_text="What the garment_image is; only with garment_image.",
    )

    model = serializers.ChoiceField(
        choices=list(TRYON_MODELS),
        default=PredictionModel.TRYON.value,
        help_text="tryon-v1.6 (standard) or tryon-max (premium, dearer: see its credits).",
    )
    webhook_url = WebhookURLField(
        required=False,
        allow_null=True,
        allow_blank=True,
        default=None,
        help_text="Optional https:// URL we POST to when the try-on completes or fails (events "
        "tryon.completed and tryon.failed; at once if it already has), signed with the secret "
        "returned once in this response (see docs/API.md). Public addresses only. Each request "
        "that gives one gets its own webhook and events, also for a try-on already asked for.",
    )

    def validate_avatar(self, value):
        user = self.context["request"].user
        job = AvatarJob.objects.avatars().filter(owner=user, pk=value).first()
        if job is None:
            raise serializers.ValidationError(NO_SUCH_AVATAR)
        result = job.avatar_result if job.status == JobStatus.COMPLETED else None
        if result is None or not shop_selectors.may_wear(user, result):
            raise serializers.ValidationError(AVATAR_NOT_READY)
        return result

    def validate_product(self, value):
        product = Product.objects.published().filter(pk=value).first()
        if product is None:
            raise serializers.ValidationError(NO_SUCH_PRODUCT)
        return product

    def validate(self, attrs):
        has_product, has_garment = "product" in attrs, "garment_image" in attrs
        if has_product and has_garment:
            raise serializers.ValidationError({"garment_image": [ONE_GARMENT]})
        if not (has_product or has_garment):
            raise serializers.ValidationError({"product": [NO_GARMENT]})
        if has_product and "category" in attrs:
            raise serializers.ValidationError({"category": [CATEGORY_WITH_PRODUCT]})
        if has_garment:
            if "category" not in attrs:
                raise serializers.ValidationError({"category": [CATEGORY_REQUIRED]})
            attrs["garment_png"] = garment_png(attrs.pop("garment_image"))
        return attrs


class TryOnCreateMultipartSerializer(TryOnCreateSerializer):
    """The create request as a multipart form, for the schema: garment_image is a file."""

    garment_image = serializers.FileField(
        required=False, help_text="The garment's picture: JPEG, PNG, WebP or HEIC, up to 15 MB."
    )


class TryOnCreateJSONSerializer(TryOnCreateSerializer):
    """The create request as JSON, for the schema: garment_image is a data URI or https URL."""

    garment_image = serializers.RegexField(
        r"^(data:image/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=\s]+|https://\S+)$",
        required=False,
        help_text="The garment's picture as a data URI (data:image/png;base64,...) or an "
        "https:// URL that we fetch: public addresses only, at most 15 MB, within 10 seconds.",
    )


class TryOnWebhookDeliverySerializer(WebhookDeliverySerializer):
    event = serializers.ChoiceField(choices=webhooks.TRYON_EVENTS)


class TryOnWebhookSerializer(WebhookSerializer):
    """A try-on's webhook as reads show it: the URL and its newest delivery, never the secret."""

    last_delivery = TryOnWebhookDeliverySerializer(allow_null=True)


class CreatedTryOnWebhookSerializer(CreatedWebhookSerializer):
    last_delivery = TryOnWebhookDeliverySerializer(allow_null=True)


def newest_webhook(look):
    """The look's newest webhook (``Webhook`` orders newest first; a list prefetches them)."""
    return next(iter(look.api_webhooks.all()), None)


class TryOnSerializer(serializers.Serializer):
    """A look: the caller's way to one try-on picture."""

    id = serializers.UUIDField()
    url = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=JobStatus.choices, source="tryon.job.status")
    progress = serializers.SerializerMethodField()
    error_message = serializers.CharField(
        source="tryon.job.error_message",
        help_text="What happened and what to do about it; empty unless the try-on failed.",
    )
    avatar = serializers.UUIDField(
        source="tryon.avatar_result.job_id", help_text="The avatar dressed (its id)."
    )
    avatar_url = serializers.SerializerMethodField()
    product = serializers.SerializerMethodField(
        help_text="The product's id; null for a garment sent as garment_image."
    )
    garment_key = serializers.CharField(
        source="tryon.garment_slug",
        help_text="The garment as the try-on cache knows it: url-<sha256> of a garment_image's "
        "normalised PNG, or <product slug>-<photo id>.",
    )
    category = serializers.CharField(source="tryon.job.category")
    model = serializers.CharField(
        source="tryon.job.model_name", help_text="tryon-v1.6 (standard) or tryon-max (premium)."
    )
    credits = serializers.SerializerMethodField(
        help_text="The most this try-on costs in FASHN credits."
    )
    image_url = serializers.SerializerMethodField(
        help_text="The try-on picture once completed; null before."
    )
    created_at = serializers.DateTimeField()
    webhook = serializers.SerializerMethodField(
        help_text="The webhook_url of your newest request for this try-on that gave one, and its "
        "newest delivery; null if none."
    )

    def _absolute(self, name, *args):
        return self.context["request"].build_absolute_uri(reverse(name, args=args))

    def get_credits(self, look) -> int:
        return options.estimated_credits(look.tryon.job)

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, look):
        return self._absolute("api:tryon", look.pk)

    @extend_schema_field(OpenApiTypes.URI)
    def get_avatar_url(self, look):
        return self._absolute("api:avatar", look.tryon.avatar_result.job_id)

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, look):
        return ProgressSerializer(job_progress(look.tryon.job, timezone.now())).data

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_product(self, look):
        products = self.context.get("products")
        if products is None:
            product = shop_selectors.product_for_tryon(look.tryon)
        else:
            product = products.get(look.tryon.pk)
        return None if product is None else product.pk

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_image_url(self, look):
        if look.tryon.job.status != JobStatus.COMPLETED:
            return None
        return self._absolute("api:tryon-image", look.pk)

    @extend_schema_field(TryOnWebhookSerializer(allow_null=True))
    def get_webhook(self, look):
        webhook = newest_webhook(look)
        return None if webhook is None else TryOnWebhookSerializer(webhook).data


class TryOnEventSerializer(TryOnSerializer):
    """The try-on in a webhook event: as reads show it, without the webhook's own state."""

    webhook = None


class TryOnCreatedSerializer(TryOnSerializer):
    """The create response, for the schema: the webhook with its secret, this once."""

    webhook = CreatedTryOnWebhookSerializer(
        allow_null=True,
        help_text="The webhook_url given in this request and, this once, its signing secret; "
        "null if this request gave none.",
    )


class TryOnWebhookEventSerializer(serializers.Serializer):
    """What we POST to a try-on's webhook_url (``deliveries.event_body``), for the schema."""

    id = serializers.UUIDField(
        help_text="The delivery's id, also in X-Avatar-Studio-Delivery: the same for every "
        "attempt at this event."
    )
    event = serializers.ChoiceField(choices=webhooks.TRYON_EVENTS)
    created_at = serializers.DateTimeField()
    tryon = TryOnEventSerializer(
        help_text="The try-on as GET /api/v1/tryons/<id>/ showed it when it ended, without "
        "its webhook."
    )
