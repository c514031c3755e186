"""Browser views: upload a selfie, follow its job, see the results. Owner (or staff) only."""

import mimetypes

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.base import ContentFile
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from . import services
from .forms import PROMPT_SUGGESTIONS, AvatarRequestForm
from .models import JobStatus
from .selectors import get_visible_job, visible_jobs

# The steps a job shows on its page, in order.
PROGRESS_STEPS = [
    (JobStatus.QUEUED, "Queued"),
    (JobStatus.SUBMITTED, "Submitted"),
    (JobStatus.IN_QUEUE, "In queue"),
    (JobStatus.PROCESSING, "Processing"),
    (JobStatus.COMPLETED, "Completed"),
]
_STEP_INDEX = {
    JobStatus.QUEUED: 0,
    JobStatus.SUBMITTING: 0,
    JobStatus.SUBMITTED: 1,
    JobStatus.IN_QUEUE: 2,
    JobStatus.PROCESSING: 3,
    JobStatus.COMPLETED: 4,
    JobStatus.FAILED: 4,
}


@login_required
def upload(request):
    if request.method == "POST":
        form = AvatarRequestForm(request.POST, request.FILES)
        if form.is_valid():
            selfie = form.selfie
            job = services.create_job(
                owner=request.user,
                selfie_name="selfie.jpg",
                selfie_file=ContentFile(selfie.jpeg),
                **form.job_inputs(),
            )
            if selfie.is_small:
                messages.warning(
                    request,
                    f"Your photo is small ({selfie.width}×{selfie.height}); the avatar may look "
                    "soft. A larger photo gives a sharper result.",
                )
            return redirect("avatars:job", job_id=job.pk)
    else:
        form = AvatarRequestForm()
    return render(
        request,
        "avatars/upload.html",
        {"form": form, "prompt_suggestions": PROMPT_SUGGESTIONS},
    )


@login_required
def gallery(request):
    jobs = visible_jobs(request.user).filter(owner=request.user).prefetch_related("results")
    return render(request, "avatars/gallery.html", {"jobs": jobs[:100]})


@login_required
def job_detail(request, job_id):
    job = get_visible_job(request.user, job_id)
    current = _STEP_INDEX[job.status]
    steps = [
        {
            "label": label,
            "done": index < current or job.status == JobStatus.COMPLETED,
            "current": index == current and not job.is_terminal,
        }
        for index, (_status, label) in enumerate(PROGRESS_STEPS)
    ]
    return render(
        request,
        "avatars/job_detail.html",
        {
            "job": job,
            "steps": steps,
            "results": job.results.all(),
            "attempts": job.attempts.all(),
            "prediction_id": getattr(services.current_attempt(job), "prediction_id", ""),
        },
    )


@login_required
@require_GET
def job_status(request, job_id):
    """The job's state as JSON, for pages that update without reloading."""
    job = get_visible_job(request.user, job_id)
    return JsonResponse(
        {
            "id": str(job.pk),
            "status": job.status,
            "error_name": job.error_name,
            "error_message": job.error_message,
            "results": [
                reverse("avatars:result", args=[job.pk, result.index, "image"])
                for result in job.results.all()
            ],
        }
    )


@login_required
@require_POST
def job_retry(request, job_id):
    job = get_visible_job(request.user, job_id)
    if services.retry_job(job):
        messages.success(request, "Trying again with the same settings.")
    else:
        messages.error(request, "Only a failed avatar can be retried.")
    return redirect("avatars:job", job_id=job.pk)


@login_required
@require_GET
def selfie_file(request, job_id):
    job = get_visible_job(request.user, job_id)
    if not job.selfie:
        raise Http404("The selfie has been deleted.")
    return _private_file(job.selfie)


@login_required
@require_GET
def result_file(request, job_id, index, kind):
    if kind not in ("image", "thumbnail"):
        raise Http404("No such image.")
    job = get_visible_job(request.user, job_id)
    result = job.results.filter(index=index).first()
    if result is None:
        raise Http404("No such image.")
    return _private_file(result.image if kind == "image" else result.thumbnail)


def _private_file(field_file):
    try:
        handle = field_file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is gone.") from None
    content_type = mimetypes.guess_type(field_file.name)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response
