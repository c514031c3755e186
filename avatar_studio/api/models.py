"""The API's own records: a webhook (its URL and signing secret), given when an avatar or a
try-on was asked for, and each event delivered to it, with its attempts. The delivery state
machine is ``api.deliveries``."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone


class Webhook(models.Model):
    """The ``webhook_url`` given with a create request: of an avatar (``job``) or of a try-on
    (``look``, the caller's way to it), exactly one of the two.

    An avatar has at most one. A try-on may have several: the try-on cache answers every
    request for the same avatar image and garment with the same look, and each request that
    gives a webhook_url gets its own webhook, secret and events.
    """

    job = models.OneToOneField(
        "avatars.AvatarJob",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_webhook",
    )
    look = models.ForeignKey(
        "shop.Look", null=True, blank=True, on_delete=models.CASCADE, related_name="api_webhooks"
    )
    url = models.CharField(max_length=2000)
    # Stored as is because it must be readable to sign. Shown once, in the create response;
    # never again (not in reads, the admin or logs).
    secret = models.CharField(max_length=80)
    # The API's address as the client called it ("https://host/"): the links in each event.
    api_base_url = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    # The newest delivery, so a list shows delivery state without another query.
    last_delivery = models.ForeignKey(
        "WebhookDelivery", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # When the job ended, as its newest event told (``finished_at``): the end is told once even
    # when the request that adds the webhook and the job's own end both find it.
    told_end_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(job__isnull=False, look__isnull=True)
                | Q(job__isnull=True, look__isnull=False),
                name="webhook_of_an_avatar_or_a_tryon",
            )
        ]

    def __str__(self):
        return self.url

    @property
    def subject(self):
        """What its events are about: "avatar" or "tryon"."""
        return "avatar" if self.job_id is not None else "tryon"

    @property
    def ended_job(self):
        """The job whose end its events tell: the avatar's, or the try-on's prediction."""
        return self.job if self.job_id is not None else self.look.tryon.job

    def describe(self):
        """For logs: which avatar or try-on (never the secret)."""
        return f"job {self.job_id}" if self.job_id is not None else f"try-on {self.look_id}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Gave up"


class WebhookDelivery(models.Model):
    """One event (an avatar or a try-on completed or failed) for one webhook, and its attempts
    to deliver it.

    The body is fixed when the event happens, so every attempt sends the same bytes (with a fresh
    signature timestamp). Only the task carrying the current ``token`` may make an attempt, and it
    first claims the delivery until ``claimed_until``: two attempts never run at once.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=32)
    payload = models.TextField()
    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    gave_up_at = models.DateTimeField(null=True, blank=True)
    token = models.UUIDField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self):
        return f"{self.event} {self.id}"
