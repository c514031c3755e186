from django.conf import settings
from django.db import models
from django.utils import timezone


class CreditState(models.TextChoices):
    # Taken from the allowance when the job was sent; what it may cost at most.
    RESERVED = "reserved", "Reserved"
    # The job completed: ``charged`` is what FASHN reported (None if it reported nothing).
    CHARGED = "charged", "Charged"
    # The job failed: FASHN does not charge failed predictions, so nothing is counted.
    REFUNDED = "refunded", "Refunded"


class CreditUse(models.Model):
    """One job's use of credits, kept when the job (or its owner) is deleted."""

    # SET_NULL: a deleted account's spending still counts on the dashboard.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Not a foreign key: the row outlives the job.
    job_id = models.UUIDField(db_index=True)
    model_name = models.CharField(max_length=64)
    estimated = models.PositiveIntegerField()
    charged = models.PositiveIntegerField(null=True, blank=True)
    state = models.CharField(
        max_length=16, choices=CreditState.choices, default=CreditState.RESERVED
    )
    # Taken from the owner's daily allowance (staff are exempt; try-ons take none).
    counted = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "created_at"], name="credits_owner_day"),
            models.Index(fields=["state", "settled_at"], name="credits_settled"),
        ]

    def __str__(self):
        return f"{self.model_name} {self.job_id}: {self.state}"
