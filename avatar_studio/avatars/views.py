"""Browser views: upload a selfie, follow its job live, gallery, retry, delete, download, share.

Reads allow the owner and staff; changes allow the owner only. Anyone else gets 404.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.base import ContentFile
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import quota, selectors, services
from .consent import CONSENT_VERSION
from .forms import PROMPT_SUGGESTIONS, AvatarRequestForm, RetryForm, ShareLinkForm
from .media import private_file_response
from .progress import job_progress

GALLERY_PAGE_SIZE = 24
SELFIE_GONE = (
    "The selfie for this avatar has been deleted, so it cannot be retried. Upload your selfie "
    "again to make a new avatar."
)


@require_http_methods(["GET", "POST"])
def upload(request):
    """The home page: the upload form for a logged-in user, an introduction for anyone else."""
    if not request.user.is_authenticated:
        return render(request, "avatars/landing.html")
    form = AvatarRequestForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        selfie = form.selfie
        try:
            with quota.daily_quota(request.user):
                job = services.create_job(
                    owner=request.user,
                    selfie_name="selfie.jpg",
                    selfie_file=ContentFile(selfie.jpeg),
                    consent_version=CONSENT_VERSION,
                    consented_at=timezone.now(),
                    **form.job_inputs(),
                )
        except quota.QuotaExceeded as exceeded:
            form.add_error(None, str(exceeded))
            return _upload_page(request, form, status=429)
        if selfie.is_small:
            messages.warning(
                request,
                f"Your photo is small ({selfie.width}×{selfie.height} pixels), so the avatar may "
                "look soft. A photo of 512 pixels or more gives a sharper result.",
            )
        return redirect("avatars:job", job_id=job.pk)
    return _upload_page(request, form)


def _upload_page(request, form, status=200):
    context = {"form": form, "prompt_suggestions": PROMPT_SUGGESTIONS}
    if not quota.is_exempt(request.user):
        limit = settings.AVATAR_DAILY_QUOTA
        context["quota_left"] = max(0, limit - quota.used_today(request.user))
        context["quota_limit"] = limit
        if context["quota_left"] == 0:
            context["quota_message"] = quota.exceeded_message(limit)
    return render(request, "avatars/upload.html", context, status=status)


@login_required
@require_GET
def gallery(request):
    filter_name = request.GET.get("status", "all")
    if filter_name not in selectors.GALLERY_FILTERS:
        filter_name = "all"
    page = Paginator(selectors.gallery_jobs(request.user, filter_name), GALLERY_PAGE_SIZE)
    page = page.get_page(request.GET.get("page"))
    return render(
        request,
        "avatars/gallery.html",
        {
            "page": page,
            "filter_name": filter_name,
            "filters": [(name, label) for name, (label, _) in selectors.GALLERY_FILTERS.items()],
        },
    )


@login_required
@require_GET
def job_detail(request, job_id):
    job = selectors.get_visible_job(request.user, job_id)
    context = _job_context(request, job)
    template = "avatars/_job_panel.html" if request.htmx else "avatars/job_detail.html"
    response = render(request, template, context)
    # The same URL answers a whole page or just the panel: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


def _job_context(request, job):
    is_owner = job.owner_id == request.user.pk
    return {
        "job": job,
        "progress": job_progress(job, timezone.now()),
        "results": list(job.results.all()),
        "prediction_id": getattr(services.current_attempt(job), "prediction_id", ""),
        "is_owner": is_owner,
        "share_links": list(selectors.active_share_links(job)) if is_owner else [],
        "share_form": ShareLinkForm(),
    }


@login_required
@require_GET
def job_status(request, job_id):
    """The job's state as JSON."""
    job = selectors.get_visible_job(request.user, job_id)
    progress = job_progress(job, timezone.now())
    return JsonResponse(
        {
            "id": str(job.pk),
            "status": job.status,
            "step": progress.step_label,
            "percent": progress.percent,
            "elapsed_seconds": progress.elapsed_seconds,
            "error_name": job.error_name,
            "error_message": job.error_message,
            "results": [
                reverse("avatars:result", args=[job.pk, result.index])
                for result in job.results.all()
            ],
        }
    )


@login_required
@require_POST
def job_retry(request, job_id):
    job = selectors.get_owned_job(request.user, job_id)
    if not job.is_tryon and not job.selfie and job.status == "failed":
        # Deleted under the retention policy (avatars.retention): nothing left to send again.
        messages.error(request, job.error_message or SELFIE_GONE)
        return redirect("avatars:job", job_id=job.pk)
    form = RetryForm(request.POST)
    form.is_valid()
    new_seed = form.seed()
    if services.retry_job(job, new_seed=new_seed):
        if new_seed is None:
            messages.success(request, "Trying again with the same settings.")
        else:
            messages.success(request, f"Trying again with a new seed ({new_seed}).")
    else:
        messages.error(request, "Only a failed avatar can be retried.")
    return redirect("avatars:job", job_id=job.pk)


@login_required
@require_http_methods(["GET", "POST"])
def job_delete(request, job_id):
    job = selectors.get_owned_job(request.user, job_id)
    if request.method == "POST":
        services.delete_job(job)
        messages.success(request, "The avatar, its selfie and its images were deleted.")
        return redirect("avatars:gallery")
    return render(request, "avatars/job_confirm_delete.html", {"job": job})


@login_required
@require_POST
def share_create(request, job_id):
    job = selectors.get_owned_job(request.user, job_id)
    form = ShareLinkForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose how long the link should work.")
    elif services.create_share_link(job, days=form.cleaned_data["days"]) is None:
        messages.error(request, "Only a completed avatar can be shared.")
    else:
        messages.success(request, "Share link created. Anyone with the link can see this avatar.")
    return redirect("avatars:job", job_id=job.pk)


@login_required
@require_POST
def share_revoke(request, job_id, link_id):
    job = selectors.get_owned_job(request.user, job_id)
    link = job.share_links.filter(pk=link_id).first()
    if link is None:
        raise Http404("No such link.")
    services.revoke_share_link(link)
    messages.success(request, "The link no longer works.")
    return redirect("avatars:job", job_id=job.pk)


@require_GET
def shared_avatar(request, token):
    """A shared avatar, for anyone holding the link. Shows only the avatar, never the selfie."""
    try:
        link = selectors.active_share_link(token)
    except Http404:
        return render(request, "avatars/share_gone.html", status=404)
    return render(
        request,
        "avatars/shared.html",
        {"link": link, "job": link.job, "results": list(link.job.results.all())},
    )


@require_GET
def shared_image(request, token, index):
    link = selectors.active_share_link(token)
    result = _result(link.job, index)
    return private_file_response(result.image)


@login_required
@require_GET
def selfie_file(request, job_id):
    job = selectors.get_visible_job(request.user, job_id)
    return private_file_response(job.selfie)


@login_required
@require_GET
def result_file(request, job_id, index):
    job = selectors.get_visible_job(request.user, job_id)
    return private_file_response(_result(job, index).image)


@login_required
@require_GET
def result_thumbnail(request, job_id, index):
    job = selectors.get_visible_job(request.user, job_id)
    return private_file_response(_result(job, index).thumbnail)


@login_required
@require_GET
def result_download(request, job_id, index):
    job = selectors.get_visible_job(request.user, job_id)
    result = _result(job, index)
    extension = result.image.name.rsplit(".", 1)[-1]
    name = f"avatar-{str(job.pk)[:8]}-{index + 1}.{extension}"
    return private_file_response(result.image, download_name=name)


def _result(job, index):
    result = job.results.filter(index=index).first()
    if result is None:
        raise Http404("No such image.")
    return result
