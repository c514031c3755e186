"""The API's own records: an avatar's webhook (its URL and signing secret) and each event
delivered to it, with its attempts. The delivery state machine is ``api.deliveries``."""

import uuid

from django.db import models
from django.utils import timezone


class AvatarWebhook(models.Model):
    """The ``webhook_url`` given when an avatar was created through the API."""

    job = models.OneToOneField(
        "avatars.AvatarJob", on_delete=models.CASCADE, related_name="api_webhook"
    )
    url = models.CharField(max_length=2000)
    # Stored as is because it must be readable to sign. Shown once, in the create response;
    # never again (not in reads, the admin or logs).
    secret = models.CharField(max_length=80)
    # The API's address as the client called it ("https://host/"): the links in each event.
    api_base_url = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    # The newest delivery, so a list of avatars shows delivery state without another query.
    last_delivery = models.ForeignKey(
        "WebhookDelivery", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self):
        return self.url


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Gave up"


class WebhookDelivery(models.Model):
    """One event (an avatar completed or failed) for one webhook, and its attempts to deliver it.

    The body is fixed when the event happens, so every attempt sends the same bytes (with a fresh
    signature timestamp). Only the task carrying the current ``token`` may make an attempt, and it
    first claims the delivery until ``claimed_until``: two attempts never run at once.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    webhook = models.ForeignKey(AvatarWebhook, on_delete=models.CASCADE, related_name="deliveries")
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
