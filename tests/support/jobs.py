import io

from django.core.files.base import ContentFile
from PIL import Image

from avatar_studio.avatars import services
from avatar_studio.avatars.images import NormalisedSelfie
from avatar_studio.avatars.models import AvatarJob
from avatar_studio.avatars.pipeline import transitions
from avatar_studio.avatars.pipeline.outputs import StoredOutput

from .faces import astronaut_jpeg
from .waiting import wait_for


def as_selfie(jpeg):
    """A selfie as the intake hands it to the service (the bytes are trusted to be a JPEG);
    what the intake itself returned (``images.check_selfie``) passes through."""
    if not isinstance(jpeg, bytes):
        return jpeg
    with Image.open(io.BytesIO(jpeg)) as image:
        width, height = image.size
    return NormalisedSelfie(jpeg=jpeg, width=width, height=height)


def make_job(owner, selfie=None, **inputs):
    """Create a job through the service, as the upload view does (its submit step is scheduled;
    it reserves its credits from the owner's daily allowance)."""
    fields = {
        "prompt": "athletic build",
        "aspect_ratio": "2:3",
        "seed": 42,
        "output_format": "png",
        "return_base64": False,
        **inputs,
    }
    return services.create_avatar(
        owner=owner, selfie=as_selfie(selfie or astronaut_jpeg()), inputs=fields
    )


def wait_until_finished(job, timeout=30.0):
    """Wait until the job is completed or failed, and return it fresh from the database."""

    def finished():
        fresh = AvatarJob.objects.get(pk=job.pk)
        return fresh if fresh.is_terminal else None

    return wait_for(finished, timeout=timeout, message=f"job {job.pk} to finish")


def make_finished_job(owner, *, status="completed", error_name="PipelineError", **inputs):
    """A job that already ran (no worker needed): completed with one stored image, or failed."""
    job = make_job(owner, **inputs)
    return end_job(job, status=status, error_name=error_name)


def end_job(job, *, status="completed", error_name="PipelineError"):
    """End ``job`` (an avatar's or a try-on's) as the pipeline would, with no worker: one more
    prediction attempt, then completed with one stored 64x96 image, or failed with
    ``error_name``. Returns the job fresh from the database."""
    import io
    import uuid

    from django.core.files.storage import default_storage
    from django.utils import timezone
    from PIL import Image

    from avatar_studio.avatars.models import JobStatus, PredictionAttempt, result_path
    from avatar_studio.avatars.pipeline.outputs import make_thumbnail

    number = job.attempts.count() + 1
    attempt = PredictionAttempt.objects.create(
        job=job,
        number=number,
        prediction_id=f"pred-{uuid.uuid4().hex[:12]}",
        submitted_at=timezone.now(),
    )
    AvatarJob.objects.filter(pk=job.pk).update(
        status=JobStatus.PROCESSING, submitted_at=timezone.now()
    )
    if status == "failed":
        transitions.fail_job(job, error_name)
    else:
        buffer = io.BytesIO()
        Image.new("RGB", (64, 96), (200, 180, 160)).save(buffer, "PNG")
        image = default_storage.save(
            result_path(job, f"{number}-0.png"), ContentFile(buffer.getvalue())
        )
        thumbnail = default_storage.save(
            result_path(job, f"{number}-0-thumb.jpg"),
            ContentFile(make_thumbnail(buffer.getvalue())),
        )
        stored = [StoredOutput(0, image, thumbnail, "image/png", 64, 96)]
        transitions.complete_job(job, attempt, stored_outputs=stored, credits_used=1)
    return AvatarJob.objects.get(pk=job.pk)
