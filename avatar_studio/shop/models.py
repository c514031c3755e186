"""Try-ons: one garment on one avatar image for one shopper, made once and then served from the
cache; and looks, each shopper's handle on a try-on they asked for.

The prediction itself is an ``AvatarJob`` (model ``tryon-v1.6`` or ``tryon-max``) run by the
avatar pipeline and owned by the shopper who asked: a try-on shows a face, so it is the record of
that shopper's request, charged to their daily allowance, in their data export, and deleted with
their account. Two shoppers dressing the same shared model each get their own. It also goes when
the avatar it dresses is deleted (the face is its owner's): ``TryOn.avatar_result`` cascades.
"""

import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from avatar_studio import fashn
from avatar_studio.avatars.models import AvatarJob, AvatarResult, PredictionModel

# FASHN's garment categories; "auto" is a try-on setting, not what a product is.
CATEGORY_CHOICES = [
    (c, c.replace("-", " ").capitalize()) for c in fashn.TRYON_CATEGORIES if c != "auto"
]


class ProductQuerySet(models.QuerySet):
    def published(self):
        return self.filter(is_published=True)


class Product(models.Model):
    """A garment the store sells; shoppers see it only once it is published."""

    name = models.CharField(max_length=120)
    # Short enough that "<slug>-<image pk>" fits TryOn.garment_slug.
    slug = models.SlugField(max_length=48, unique=True)
    price = models.DecimalField(max_digits=8, decimal_places=2, validators=[MinValueValidator(0)])
    description = models.TextField(blank=True)
    category = models.CharField(max_length=16, choices=CATEGORY_CHOICES)
    is_published = models.BooleanField("published", default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["is_published", "created_at", "id"], name="product_listing")
        ]

    def __str__(self):
        return self.name

    def first_image(self):
        """The photo try-ons use: the first in order (from a prefetch when there is one)."""
        images = list(self.images.all())
        return images[0] if images else None


def product_image_upload_to(image, filename):
    return f"products/{uuid.uuid4().hex}.png"


class ProductImage(models.Model):
    """One garment photo of a product, normalised by ``shop.images`` before it is stored."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(upload_to=product_image_upload_to)
    width = models.PositiveIntegerField(editable=False, default=0)
    height = models.PositiveIntegerField(editable=False, default=0)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return f"{self.product} photo {self.position}"

    @property
    def tryon_key(self):
        """The try-on cache key (``TryOn.garment_slug``): a new photo is a new garment to FASHN."""
        return f"{self.product.slug}-{self.pk}"


class TryOn(models.Model):
    """A garment on an avatar image, asked for by ``shopper``.

    ``shopper`` is always ``job.owner`` (``shop.services`` sets both from one argument): it is
    kept here because the cache's unique constraint cannot reach across to the job's table.
    """

    shopper = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tryons"
    )
    avatar_result = models.ForeignKey(AvatarResult, on_delete=models.CASCADE, related_name="+")
    garment_slug = models.SlugField(max_length=64)
    # Which try-on model drew it (the job's model_name, kept here for the cache key): rows made
    # before tryon-max existed are tryon-v1.6.
    model_name = models.CharField(
        max_length=16,
        choices=[(m.value, m.label) for m in (PredictionModel.TRYON, PredictionModel.TRYON_MAX)],
        default=PredictionModel.TRYON,
    )
    job = models.OneToOneField(AvatarJob, on_delete=models.CASCADE, related_name="tryon")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # The cache: asking again for the same garment on the same image with the same
            # model finds the same try-on; each shopper has their own.
            models.UniqueConstraint(
                fields=["shopper", "avatar_result", "garment_slug", "model_name"],
                name="one_tryon_per_shopper_avatar_garment_and_model",
            )
        ]

    def __str__(self):
        return f"{self.garment_slug} on {self.avatar_result}"


class Look(models.Model):
    """A shopper's handle on their ``tryon``, at an address nobody can guess: the id is a random
    UUID, not a row number (the look's URL, the API and the embedded window carry it).

    ``shopper`` is always ``tryon.shopper``: a look never leads to another shopper's try-on.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shopper = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="looks"
    )
    tryon = models.ForeignKey(TryOn, on_delete=models.CASCADE, related_name="looks")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # Asking again for the same try-on finds the same look (one per try-on, as a try-on
            # has one shopper).
            models.UniqueConstraint(fields=["shopper", "tryon"], name="one_look_per_shopper")
        ]

    def __str__(self):
        return f"{self.tryon} for {self.shopper}"


class Outfit(models.Model):
    """A shopper's look at several garments at once: a top then bottoms, or one one-piece.

    Each step is a cached try-on dressing the previous step's picture (the first dresses
    ``avatar_result``); the next step starts when the previous one completes
    (``shop.outfits.on_job_finished``). The id is a random UUID: the outfit's URL carries it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shopper = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="outfits"
    )
    avatar_result = models.ForeignKey(AvatarResult, on_delete=models.CASCADE, related_name="+")
    model_name = models.CharField(max_length=16, default=PredictionModel.TRYON)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"Outfit {self.pk} for {self.shopper}"


class OutfitStatus(models.TextChoices):
    """How far an outfit got, from its steps (``shop.selectors.outfit_status``)."""

    PROCESSING = "processing", "Processing"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    STOPPED = "stopped", "Stopped: next garment not started"


class OutfitStep(models.Model):
    """One garment of an outfit, in the order it is put on; ``tryon`` once it has started.

    ``not_started_because`` is the refusal's message when the garment before it was on but this
    one could not start (the shopper's credits ran out between the steps, the product lost its
    photo): the shopper reads it on the outfit's page and may continue once it is resolved.
    """

    outfit = models.ForeignKey(Outfit, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField()
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    tryon = models.ForeignKey(
        TryOn, on_delete=models.SET_NULL, null=True, blank=True, related_name="outfit_steps"
    )
    not_started_because = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["order"]
        constraints = [
            models.UniqueConstraint(fields=["outfit", "order"], name="one_outfit_step_per_order")
        ]

    def __str__(self):
        return f"{self.outfit} step {self.order}: {self.product}"
