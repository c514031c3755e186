"""The window a shop's "See it on me" button opens: a top-level popup of our own pages.

Its address carries what the shop's page sent (key, origin, garment); every request checks it
again (``services.check_request``), so nothing the shop sends is trusted from one step to the next.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from avatar_studio.avatars import services as avatar_services
from avatar_studio.avatars.progress import job_progress
from avatar_studio.avatars.refusals import QUOTA_EXCEEDED, Refused
from avatar_studio.shop import selectors as shop_selectors
from avatar_studio.shop import services as shop_services

from . import refusals, selectors, services

# Refusals of the shop itself (not of what the shopper did): the button may not be used at all.
_FORBIDDEN = {
    refusals.UNKNOWN_KEY.code,
    refusals.SHOP_INACTIVE.code,
    refusals.ORIGIN_NOT_ALLOWED.code,
}


@require_http_methods(["GET", "POST"])
def try_window(request):
    try:
        tryon_request = services.check_request(
            key=request.GET.get("key", ""),
            origin=request.GET.get("origin", ""),
            garment_url=request.GET.get("garment_image", ""),
            name=request.GET.get("name", ""),
            category=request.GET.get("category", ""),
        )
    except Refused as refusal:
        return _refused(request, refusal)
    context = {"tryon_request": tryon_request, "next": request.get_full_path()}
    if not request.user.is_authenticated:
        return render(request, "embed/sign_in.html", context)
    if request.method == "POST":
        try:
            embed_look = services.try_on(
                request.user,
                tryon_request,
                request.POST.get("avatar"),
                consent=request.POST.get("consent") == "yes",
            )
        except Refused as refusal:
            if refusal.code != refusals.NO_CONSENT.code:
                return _refused(request, refusal)
            context["error"] = refusal.message
            return _choose(request, context, status=400)
        return redirect("embed:look", embed_look.pk)
    return _choose(request, context)


@login_required
@require_GET
def look(request, embed_look_id):
    return render(request, "embed/look.html", _look_context(request.user, embed_look_id))


@login_required
@require_GET
def look_panel(request, embed_look_id):
    """The look's panel alone, which htmx fetches again until the try-on ends."""
    return render(request, "embed/_look.html", _look_context(request.user, embed_look_id))


@login_required
@require_POST
def retry_look(request, embed_look_id):
    """Send a failed try-on again, from the window (its own address: the window keeps its
    opener only on its own pages, ``middleware``)."""
    embed_look = selectors.visible_embed_look(request.user, embed_look_id)
    try:
        avatar_services.retry_job(embed_look.look.tryon.job)
    except Refused as refusal:
        messages.error(request, refusal.message)
    return redirect("embed:look", embed_look.pk)


def _choose(request, context, status=200):
    context["own_avatars"] = shop_selectors.own_avatars(request.user)
    return render(request, "embed/choose.html", context, status=status)


def _refused(request, refusal):
    if refusal.code in _FORBIDDEN:
        status = 403
    elif refusal.code == QUOTA_EXCEEDED:
        status = 429  # the shopper's daily allowance: waiting helps
    else:
        status = 400
    response = render(request, "embed/refused.html", {"refusal": refusal}, status=status)
    if refusal.retry_after:
        response["Retry-After"] = str(refusal.retry_after)
    return response


def _look_context(user, embed_look_id):
    embed_look = selectors.visible_embed_look(user, embed_look_id)
    tryon = embed_look.look.tryon
    job = tryon.job
    # Offered only where the retry service would accept it (not after FASHN refused the inputs).
    can_retry = avatar_services.retry_refusal(job) is None
    return {
        "embed_look": embed_look,
        "look": embed_look.look,
        "look_job": job,
        "look_tryon_name": shop_services.tryon_name(tryon.model_name),
        "look_progress": job_progress(job, timezone.now()),
        "look_garment_name": embed_look.garment_name,
        "look_wearer": "your avatar",  # the button dresses the shopper's own avatars only
        "look_retry_url": reverse("embed:look-retry", args=[embed_look.pk]) if can_retry else None,
        "done_origin": selectors.done_origin(embed_look),
        "panel_url": reverse("embed:look-panel", args=[embed_look.pk]),
    }
