from django.core.files.base import ContentFile

from avatar_studio.avatars import services
from avatar_studio.avatars.models import AvatarJob

from .faces import astronaut_jpeg
from .waiting import wait_for


def make_job(owner, selfie=None, **inputs):
    """Create a job through the service, as the upload view does (its submit step is scheduled)."""
    fields = {
        "prompt": "athletic build",
        "aspect_ratio": "2:3",
        "seed": 42,
        "output_format": "png",
        "return_base64": False,
        **inputs,
    }
    return services.create_job(
        owner=owner,
        selfie_name="selfie.jpg",
        selfie_file=ContentFile(selfie or astronaut_jpeg()),
        **fields,
    )


def wait_until_finished(job, timeout=30.0):
    """Wait until the job is completed or failed, and return it fresh from the database."""

    def finished():
        fresh = AvatarJob.objects.get(pk=job.pk)
        return fresh if fresh.is_terminal else None

    return wait_for(finished, timeout=timeout, message=f"job {job.pk} to finish")
