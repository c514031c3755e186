"""Which avatars a shopper may dress, and which try-ons they may see.

A shopper dresses their own completed avatars ("See it on me"; the try-on is private to them)
or the approved avatars their owners chose to share ("See it on a model"; read only through
``review.approved_public_avatars()``, so a withdrawn avatar disappears from the store at once).
"""

from django.db.models import Prefetch
from django.http import Http404

from avatar_studio.avatars.models import AvatarJob, AvatarResult, JobStatus, PredictionModel
from avatar_studio.avatars.selectors import approved_public_avatars, may_view_all_jobs

from .models import TryOn

MODEL_PICKER_SIZE = 8
OWN_PICKER_SIZE = 12


def own_avatars(user):
    """The shopper's completed avatars, newest first, each with its images."""
    results = AvatarResult.objects.order_by("index")
    return (
        AvatarJob.objects.avatars()
        .filter(owner=user, status=JobStatus.COMPLETED)
        .order_by("-created_at")
        .prefetch_related(Prefetch("results", queryset=results))[:OWN_PICKER_SIZE]
    )


def model_avatars():
    return approved_public_avatars()[:MODEL_PICKER_SIZE]


def is_public_model(avatar_job):
    return approved_public_avatars().filter(pk=avatar_job.pk).exists()


def may_wear(user, avatar_result):
    """True if ``user`` may dress this avatar image: their own, or a shared model."""
    job = avatar_result.job
    if job.model_name != PredictionModel.FACE_TO_MODEL or job.status != JobStatus.COMPLETED:
        return False
    return job.owner_id == user.pk or is_public_model(job)


def wearable_result(user, result_id):
    """The avatar image ``result_id`` if the shopper may dress it, else 404."""
    try:
        result = AvatarResult.objects.select_related("job").get(pk=result_id)
    except (AvatarResult.DoesNotExist, ValueError, TypeError):
        raise Http404("No such avatar.") from None
    if not may_wear(user, result):
        raise Http404("No such avatar.")
    return result


def public_model_result(result_id):
    """A shared model's image, for anyone in the store; 404 once it is no longer shared."""
    try:
        result = AvatarResult.objects.select_related("job").get(pk=result_id)
    except (AvatarResult.DoesNotExist, ValueError, TypeError):
        raise Http404("No such model.") from None
    if not is_public_model(result.job):
        raise Http404("No such model.")
    return result


def visible_tryon(user, tryon_id):
    """The try-on if the shopper may see it (it is on one of their avatars or on a shared model)."""
    try:
        tryon = TryOn.objects.select_related("job", "avatar_result__job").get(pk=tryon_id)
    except (TryOn.DoesNotExist, ValueError, TypeError):
        raise Http404("No such try-on.") from None
    if not (may_view_all_jobs(user) or may_wear(user, tryon.avatar_result)):
        raise Http404("No such try-on.")
    return tryon
