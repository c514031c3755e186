"""Which avatars a shopper may dress, and which looks they may see.

A shopper dresses their own completed avatars ("See it on me") or the approved avatars their
owners chose to share ("See it on a model"; read only through
``review.approved_public_avatars()``, so a withdrawn avatar disappears from the store at once).
Either way the look is private to the shopper who asked, whatever happens to the avatar later:
the cached try-on picture is shared, the look that leads to it is not.
"""

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404

from avatar_studio.avatars.models import AvatarJob, AvatarResult, JobStatus, PredictionModel
from avatar_studio.avatars.selectors import approved_public_avatars, may_view_all_jobs

from .models import Look

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


def is_public_model_image(avatar_result):
    """A shared model's image is the one its owner picked (``AvatarJob.avatar_result``), the one
    staff reviewed: never its other candidates. A new pick takes the old image out of the store."""
    job = avatar_result.job
    return is_public_model(job) and job.avatar_result == avatar_result


def may_wear(user, avatar_result):
    """True if ``user`` may dress this avatar image: any of their own, or a shared model's."""
    job = avatar_result.job
    if job.model_name != PredictionModel.FACE_TO_MODEL or job.status != JobStatus.COMPLETED:
        return False
    return job.owner_id == user.pk or is_public_model_image(avatar_result)


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
    if not is_public_model_image(result):
        raise Http404("No such model.")
    return result


def visible_look(user, look_id):
    """The look if ``user`` asked for it and may still dress its avatar, else 404.

    Whoever may view every job (``avatars.selectors.may_view_all_jobs``, an explicit permission)
    may open any look; ``is_staff`` alone opens none but the user's own.
    """
    looks = Look.objects.select_related("tryon__job", "tryon__avatar_result__job")
    privileged = may_view_all_jobs(user)
    if not privileged:
        looks = looks.filter(shopper=user)
    try:
        look = looks.get(pk=look_id)
    except (Look.DoesNotExist, ValidationError, ValueError, TypeError):
        raise Http404("No such try-on.") from None
    # A model withdrawn from the store takes every look at it along, at once.
    if not (privileged or may_wear(user, look.tryon.avatar_result)):
        raise Http404("No such try-on.")
    return look
