"""Browser views: upload a selfie, follow its job live, gallery, retry, delete, download, share.

Reads allow the owner and whoever may view every job (``selectors.may_view_all_jobs``: an
explicit permission, never ``is_staff`` alone); changes allow the owner only. Anyone else gets
404. Each view parses, calls one service and presents; a refused action shows the refusal's own
words.
"""

import json
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import options, quota, received_selfies, selectors, services, sharing
from .forms import PROMPT_SUGGESTIONS, AvatarRequestForm, RetryForm, ShareLinkForm
from .media import private_file_response
from .progress import job_progress
from .refusals import REMAKE_SELFIE_GONE, STORAGE_UNAVAILABLE, Refused

GALLERY_PAGE_SIZE = 24


@require_http_methods(["GET", "POST"])
def upload(request):
    """The home page: the upload form for a logged-in user, an introduction for anyone else."""
    if not request.user.is_authenticated:
        return render(request, "avatars/landing.html")
    form = AvatarRequestForm(
        request.POST or None,
        request.FILES or None,
        initial=AvatarRequestForm.initial_from(request.GET),
    )
    if request.method == "POST" and form.is_valid():
        selfie = form.selfie
        try:
            job = services.create_avatar(
                owner=request.user, selfie=selfie, inputs=form.job_inputs()
            )
        except Refused as refusal:
            form.add_error(None, refusal.message)
            status = 503 if refusal.code == STORAGE_UNAVAILABLE.code else 429
            return _upload_page(request, form, status=status)
        if selfie.is_small:
            messages.warning(request, selfie.small_photo_warning)
        return redirect("avatars:job", job_id=job.pk)
    return _upload_page(request, form)


def _upload_page(request, form, status=200):
    credits = form.estimated_credits()
    price_table = options.price_table(form.options)
    context = {
        "form": form,
        "prompt_suggestions": PROMPT_SUGGESTIONS,
        # Shown next to the button without JavaScript; upload.js keeps it current from the table.
        "credits": credits,
        "credits_phrase": options.credits_phrase(credits),
        # JSON in a data- attribute (autoescaped): the policy allows no inline script element.
        "price_table": json.dumps(price_table, ensure_ascii=False),
    }
    if not quota.is_exempt(request.user):
        context["quota_left"] = quota.left_today(request.user)
        context["quota_limit"] = quota.daily_credits()
        # Said before a photo is chosen once not even the cheapest choice fits.
        cheapest = min(price_table["credits"].values())
        context["quota_message"] = quota.used_up_message(request.user, cheapest)
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
    context["described"] = options.described(job)
    template = "avatars/_job_panel.html" if request.htmx else "avatars/job_detail.html"
    response = render(request, template, context)
    # The same URL answers a whole page or just the panel: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


def _job_context(request, job):
    is_owner = job.owner_id == request.user.pk
    remake_refusal = services.remake_refusal(job) if is_owner else None
    remake_upload_query = ""
    if remake_refusal is REMAKE_SELFIE_GONE and job.avatar_result is not None:
        # The same selfie uploaded again with these gives the remake the button would have made.
        remake_upload_query = urlencode(services.remake_inputs(job, job.avatar_result.index))
    return {
        "job": job,
        "progress": job_progress(job, timezone.now()),
        "results": list(job.results.all()),
        "prediction_id": getattr(selectors.current_attempt(job), "prediction_id", ""),
        "is_owner": is_owner,
        # Retry is offered only where the service would take it (not after an input error).
        "retry_refusal": services.retry_refusal(job) if is_owner else None,
        "share_links": list(sharing.active_share_links(job)) if is_owner else [],
        "share_form": ShareLinkForm.remembering(request.GET),
        # Candidates: the image that stands for the avatar, and the high-quality remake's offer.
        "avatar_result": job.avatar_result,
        "remake_refusal": remake_refusal,
        "remake_upload_query": remake_upload_query,
        "remake_credits_phrase": options.credits_phrase(
            options.estimated_credits(services.remake_options())
        ),
        "remakes": list(job.remakes.all()),
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
    form = RetryForm(request.POST)
    form.is_valid()
    new_seed = form.cleaned_data.get("new_seed", False)
    try:
        seed = services.retry_job(job, new_seed=new_seed)
    except Refused as refusal:
        messages.error(request, refusal.message)
    else:
        if new_seed:
            messages.success(request, f"Trying again with a new seed ({seed}).")
        else:
            messages.success(request, "Trying again with the same settings.")
    return redirect("avatars:job", job_id=job.pk)


@login_required
@require_POST
def job_pick(request, job_id, index):
    """Make one of the avatar's images "my avatar"."""
    job = selectors.get_owned_job(request.user, job_id)
    try:
        services.pick_candidate(job, index=index)
    except Refused as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(
            request,
            f"Image {index + 1} is now your avatar: your gallery, share links and the store "
            "show it.",
        )
    return redirect("avatars:job", job_id=job.pk)


@login_required
@require_POST
def job_discard_others(request, job_id):
    job = selectors.get_owned_job(request.user, job_id)
    try:
        count = services.discard_other_candidates(job)
    except Refused as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, f"Discarded {count} image{'s' if count != 1 else ''}.")
    return redirect("avatars:job", job_id=job.pk)


@login_required
@require_POST
def job_remake(request, job_id, index):
    """Make one image of the avatar again, alone, in high quality: a new avatar."""
    job = selectors.get_owned_job(request.user, job_id)
    try:
        remake = services.remake_in_high_quality(job, index=index)
    except Refused as refusal:
        messages.error(request, refusal.message)
        return redirect("avatars:job", job_id=job.pk)
    messages.success(request, "Making your avatar in high quality. It will be here when ready.")
    return redirect("avatars:job", job_id=remake.pk)


@login_required
@require_http_methods(["GET", "POST"])
def job_delete(request, job_id):
    job = selectors.get_owned_job(request.user, job_id)
    if request.method == "POST":
        services.delete_avatar(job)
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
        return redirect("avatars:job", job_id=job.pk)
    try:
        sharing.create_share_link(job, days=form.cleaned_data["days"])
    except Refused as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, "Share link created. Anyone with the link can see this avatar.")
    # Back to the page with the duration just chosen still chosen, for the next link.
    job_page = reverse("avatars:job", args=[job.pk])
    return redirect(f"{job_page}?{urlencode({'days': form.cleaned_data['days']})}#share")


@login_required
@require_POST
def share_revoke(request, job_id, link_id):
    job = selectors.get_owned_job(request.user, job_id)
    link = job.share_links.filter(pk=link_id).first()
    if link is None:
        raise Http404("No such link.")
    sharing.revoke_share_link(link)
    messages.success(request, "The link no longer works.")
    return redirect("avatars:job", job_id=job.pk)


@require_GET
def shared_avatar(request, token):
    """A shared avatar, for anyone holding the link. Shows only the avatar, never the selfie."""
    try:
        link = sharing.active_share_link(token)
    except Http404:
        return render(request, "avatars/share_gone.html", status=404)
    # The avatar's one image (its owner's pick), never the other candidates.
    return render(
        request,
        "avatars/shared.html",
        {"link": link, "job": link.job, "result": link.job.avatar_result},
    )


@require_GET
def shared_image(request, token, index):
    link = sharing.active_share_link(token)
    result = link.job.avatar_result
    if result is None or result.index != index:
        raise Http404("No such image.")
    return private_file_response(result.image)


@login_required
@require_GET
def selfie_file(request, job_id):
    job = selectors.get_visible_job(request.user, job_id)
    received_selfies.normalise_received(job)  # a received HEIC (with its GPS) is never served
    return private_file_response(job.selfie)


@login_required
@require_GET
def result_file(request, job_id, index):
    job = selectors.get_visible_job(request.user, job_id)
    return private_file_response(selectors.job_result(job, index).image)


@login_required
@require_GET
def result_thumbnail(request, job_id, index):
    job = selectors.get_job_for_images(request.user, job_id)
    return private_file_response(selectors.job_result(job, index).thumbnail)


@login_required
@require_GET
def result_download(request, job_id, index):
    job = selectors.get_visible_job(request.user, job_id)
    result = selectors.job_result(job, index)
    extension = result.image.name.rsplit(".", 1)[-1]
    name = f"avatar-{str(job.pk)[:8]}-{index + 1}.{extension}"
    return private_file_response(result.image, download_name=name)
