"""Avatar jobs: one row per user request, one attempt row per FASHN prediction.

Status changes are never written here or from views: every transition goes through
``avatars.pipeline.transitions``, which guards it with a compare-and-swap update.
"""

import secrets
import uuid

from django.conf import settings
from django.db import models

from avatar_studio.fashn import (
    ASPECT_RATIOS,
    DEFAULT_ASPECT_RATIO,
    DEFAULT_OUTPUT_FORMAT,
    DEFAULT_SEED,
    DEFAULT_TRYON_CATEGORY,
    DEFAULT_TRYON_MODE,
    FACE_TO_MODEL,
    GENERATION_MODES,
    OUTPUT_FORMATS,
    RESOLUTIONS,
    TRYON,
    TRYON_CATEGORIES,
    TRYON_MAX,
    TRYON_MODES,
)


def _choices(values):
    return [(value, value) for value in values]


def selfie_upload_to(job, filename):
    """A normalised selfie is a .jpg; a HEIC waiting for its normalisation (``received_selfies``)
    is a .heic, for the moments until the pipeline's first step."""
    extension = ".heic" if filename.endswith(".heic") else ".jpg"
    return f"selfies/{job.owner_id}/{job.id}{extension}"


def garment_upload_to(job, filename):
    return f"garments/{job.owner_id}/{job.id}.png"


class PredictionModel(models.TextChoices):
    """Which FASHN model a job runs. Avatars are face-to-model jobs; the store's try-ons run
    tryon-v1.6 or tryon-max on a completed avatar, through the same pipeline, slots and retries."""

    FACE_TO_MODEL = FACE_TO_MODEL, "Avatar (face-to-model)"
    TRYON = TRYON, "Try-on (tryon-v1.6)"
    TRYON_MAX = TRYON_MAX, "Premium try-on (tryon-max)"


# The models that dress an avatar in a garment.
TRYON_MODELS = (PredictionModel.TRYON, PredictionModel.TRYON_MAX)


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SUBMITTING = "submitting", "Submitting"
    SUBMITTED = "submitted", "Submitted"
    IN_QUEUE = "in_queue", "In queue"
    PROCESSING = "processing", "Processing"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


# A prediction exists at FASHN and is being polled.
PREDICTING_STATUSES = (JobStatus.SUBMITTED, JobStatus.IN_QUEUE, JobStatus.PROCESSING)
ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.SUBMITTING, *PREDICTING_STATUSES)
TERMINAL_STATUSES = (JobStatus.COMPLETED, JobStatus.FAILED)


class ReviewState(models.TextChoices):
    """Whether an avatar may be shown to people other than its owner.

    The public showcase and the store's model gallery show approved avatars only; an owner's own
    use of their avatar never waits for review. Transitions live in ``avatars.review.services``.
    """

    PRIVATE = "private", "Private"  # the owner has not offered it for public display
    PENDING = "pending", "Pending review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class AvatarJobQuerySet(models.QuerySet):
    def avatars(self):
        """Avatars made from selfies: what galleries, the API and review deal with."""
        return self.filter(model_name=PredictionModel.FACE_TO_MODEL)

    def tryons(self):
        return self.filter(model_name__in=TRYON_MODELS)


class AvatarJob(models.Model):
    """One FASHN job a user asked for: an avatar from a selfie, or a try-on of an avatar."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="avatar_jobs"
    )
    model_name = models.CharField(
        max_length=16, choices=PredictionModel.choices, default=PredictionModel.FACE_TO_MODEL
    )
    selfie = models.ImageField(upload_to=selfie_upload_to, blank=True)

    # The FASHN face-to-model inputs, named as in the protocol (seed, output_format and
    # return_base64 serve tryon-v1.6 too, and num_images is its num_samples).
    prompt = models.CharField(max_length=500, blank=True)
    aspect_ratio = models.CharField(
        max_length=5, choices=_choices(ASPECT_RATIOS), default=DEFAULT_ASPECT_RATIO
    )
    seed = models.PositiveBigIntegerField(default=DEFAULT_SEED)
    output_format = models.CharField(
        max_length=4, choices=_choices(OUTPUT_FORMATS), default=DEFAULT_OUTPUT_FORMAT
    )
    return_base64 = models.BooleanField(default=False)
    resolution = models.CharField(max_length=2, choices=_choices(RESOLUTIONS), blank=True)
    generation_mode = models.CharField(max_length=8, choices=_choices(GENERATION_MODES), blank=True)
    num_images = models.PositiveSmallIntegerField(null=True, blank=True)

    # The tryon-v1.6 inputs: the avatar image worn (model_image), a copy of the garment image
    # (so the job does not depend on the catalogue staying the same), category and mode.
    model_result = models.ForeignKey(
        "AvatarResult",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tryon_jobs",
    )
    garment_image = models.ImageField(upload_to=garment_upload_to, blank=True)
    category = models.CharField(max_length=10, choices=_choices(TRYON_CATEGORIES), blank=True)
    mode = models.CharField(max_length=11, choices=_choices(TRYON_MODES), blank=True)

    # Candidates: the image the owner picked as "my avatar" among the results (none picked: the
    # first; see ``avatar_result``), and the avatar this one was remade from in high quality.
    chosen_result = models.ForeignKey(
        "AvatarResult", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    origin = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="remakes"
    )

    # Which consent text the owner agreed to before uploading, and when.
    consent_version = models.CharField(max_length=32, blank=True)
    consented_at = models.DateTimeField(null=True, blank=True)

    status = models.CharField(
        max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True
    )
    # The user-facing failure: FASHN's error name (or one of ours) and what to do about it.
    error_name = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    max_attempts = models.PositiveSmallIntegerField(default=3)

    # Scheduling: the next submit or poll step is due at next_action_at, and only the task that
    # carries step_token may run it. A claimed step pushes next_action_at out by a lease, so the
    # sweeper finds a step whose worker died.
    next_action_at = models.DateTimeField(null=True, blank=True, db_index=True)
    step_token = models.UUIDField(null=True, blank=True)
    waiting_for_slot = models.BooleanField(default=False)
    deadline_at = models.DateTimeField()
    # The secret in the webhook_url of the current submission (FASHN webhooks in). A new one per
    # attempt, so a late call about an earlier attempt finds nothing.
    webhook_token = models.CharField(max_length=64, null=True, blank=True, unique=True)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    # Public display: the owner offers a completed avatar (public_consent_at), staff decide.
    review_state = models.CharField(
        max_length=8, choices=ReviewState.choices, default=ReviewState.PRIVATE, db_index=True
    )
    public_consent_at = models.DateTimeField(null=True, blank=True)
    # Why staff rejected it, in words shown to the owner.
    review_reason = models.TextField(blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = AvatarJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "model_name", "-created_at"])]
        permissions = [
            ("review_avatarjob", "Can approve or reject avatars for public display"),
            ("retry_avatarjob", "Can retry failed avatar jobs"),
        ]

    def __str__(self):
        return f"Avatar {self.id} ({self.status})"

    @property
    def is_terminal(self):
        return self.status in TERMINAL_STATUSES

    @property
    def is_tryon(self):
        return self.model_name in TRYON_MODELS

    @property
    def avatar_result(self):
        """The one image that stands for this avatar wherever a single picture is shown (gallery,
        share links, review, the store): the owner's pick, else the first; None before any.

        Reads ``results`` as prefetched, so a page of jobs costs no query per job.
        """
        results = list(self.results.all())
        chosen = [result for result in results if result.pk == self.chosen_result_id]
        return (chosen or results or [None])[0]

    def tryon_inputs(self, model_image, garment_image):
        """The try-on inputs for the job's model (tryon-v1.6 or tryon-max), with both images
        passed in as data URIs or URLs. tryon-max calls the garment ``product_image`` and takes
        no category or mode, but a generation mode."""
        from avatar_studio.fashn import TryOnInputs, TryOnMaxInputs

        if self.model_name == PredictionModel.TRYON_MAX:
            return TryOnMaxInputs(
                model_image=model_image,
                product_image=garment_image,
                generation_mode=self.generation_mode or None,
                num_images=self.num_images,
                seed=self.seed,
                output_format=self.output_format,
                return_base64=self.return_base64,
            )
        return TryOnInputs(
            model_image=model_image,
            garment_image=garment_image,
            category=self.category or DEFAULT_TRYON_CATEGORY,
            mode=self.mode or DEFAULT_TRYON_MODE,
            seed=self.seed,
            num_samples=self.num_images or 1,
            output_format=self.output_format,
            return_base64=self.return_base64,
        )

    def fashn_inputs(self, face_image):
        """The protocol inputs for this job, with the selfie passed in as a data URI or URL."""
        from avatar_studio.fashn import FaceToModelInputs

        return FaceToModelInputs(
            face_image=face_image,
            prompt=self.prompt,
            aspect_ratio=self.aspect_ratio,
            seed=self.seed,
            output_format=self.output_format,
            return_base64=self.return_base64,
            resolution=self.resolution or None,
            generation_mode=self.generation_mode or None,
            num_images=self.num_images,
        )


class PredictionAttempt(models.Model):
    """One FASHN prediction made for a job. Created only once FASHN has issued an id."""

    job = models.ForeignKey(AvatarJob, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    prediction_id = models.CharField(max_length=128, unique=True)
    # FASHN's status string, as last seen (starting, in_queue, processing, completed, failed...).
    status = models.CharField(max_length=16, default="starting")
    error_name = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    credits_used = models.PositiveIntegerField(null=True, blank=True)
    poll_count = models.PositiveIntegerField(default=0)
    submitted_at = models.DateTimeField()
    last_polled_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When the prediction really ended lies between these two: the last status call that found it
    # still running was sent at ``running_seen_at`` (None if the first one found it ended), and
    # the first that found it ended answered at ``end_seen_at``. The poll cadence learns from
    # them, not from ``finished_at``, which adds our own detection and storage time.
    running_seen_at = models.DateTimeField(null=True, blank=True)
    end_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "number"], name="unique_attempt_number")
        ]

    def __str__(self):
        return f"Attempt {self.number} of {self.job_id}: {self.prediction_id} ({self.status})"


def result_path(job, filename):
    return f"avatars/{job.owner_id}/{job.pk}/{filename}"


def result_upload_to(result, filename):
    return result_path(result.job, filename)


class AvatarResult(models.Model):
    """One output image of a completed job, copied into our storage (FASHN URLs expire)."""

    job = models.ForeignKey(AvatarJob, on_delete=models.CASCADE, related_name="results")
    index = models.PositiveSmallIntegerField()
    image = models.ImageField(
        upload_to=result_upload_to, width_field="width", height_field="height"
    )
    thumbnail = models.ImageField(upload_to=result_upload_to)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    content_type = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["job", "index"]
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="unique_result_index")]

    def __str__(self):
        return f"Result {self.index} of {self.job_id}"


def new_share_token():
    return secrets.token_urlsafe(24)


class ShareLink(models.Model):
    """A link to one completed avatar that anyone can open until it expires or is revoked.

    Only the avatar is shared: never the selfie, the inputs or the owner's name.
    """

    job = models.ForeignKey(AvatarJob, on_delete=models.CASCADE, related_name="share_links")
    token = models.CharField(max_length=64, unique=True, default=new_share_token)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Share link for {self.job_id} until {self.expires_at:%Y-%m-%d}"

    def is_active(self, now):
        return self.revoked_at is None and self.expires_at > now


class TryOnJobManager(models.Manager.from_queryset(AvatarJobQuerySet)):
    def get_queryset(self):
        return super().get_queryset().tryons()


class TryOnJob(AvatarJob):
    """The store's try-ons alone: the admin lists them apart from avatars.

    The same rows as ``AvatarJob`` (``model_name`` tryon-v1.6). It has no permissions of its own
    (``default_permissions``): a try-on is a job, and the job permissions govern it, as they do
    who may see its pictures (``selectors.may_view_all_jobs``).
    """

    objects = TryOnJobManager()

    class Meta:
        proxy = True
        verbose_name = "try-on"
        verbose_name_plural = "try-ons"
        default_permissions = ()

    def __str__(self):
        return f"Try-on {self.id} ({self.status})"
