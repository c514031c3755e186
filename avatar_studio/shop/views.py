"""The demo store: catalogue, product pages, and garments tried on avatars."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from avatar_studio.avatars import services as avatar_services
from avatar_studio.avatars.media import private_file_response, public_file_response
from avatar_studio.avatars.progress import job_progress

from . import selectors, services
from .catalogue import GARMENTS, get_garment
from .garments import garment_png


@require_GET
def catalogue(request):
    return render(request, "shop/catalogue.html", {"garments": GARMENTS})


@require_GET
def product(request, slug):
    garment = _garment(slug)
    context = {"garment": garment, "look": None}
    if request.user.is_authenticated:
        context["own_avatars"] = selectors.own_avatars(request.user)
        context["model_avatars"] = selectors.model_avatars()
        if look_id := request.GET.get("look"):
            context.update(_look_context(request.user, look_id))
    return render(request, "shop/product.html", context)


@login_required
@require_POST
def try_on(request, slug):
    """Start (or reuse) the try-on of this garment on the avatar image the shopper picked."""
    garment = _garment(slug)
    result = selectors.wearable_result(request.user, request.POST.get("avatar"))
    look = services.try_on(request.user, garment, result)
    return redirect(reverse("shop:product", args=[slug]) + f"?look={look.pk}#look")


@login_required
@require_GET
def look_panel(request, look_id):
    """The look's panel alone, which htmx fetches again until the try-on ends."""
    return render(request, "shop/_look.html", _look_context(request.user, look_id))


@login_required
@require_GET
def look_image(request, look_id):
    look = selectors.visible_look(request.user, look_id)
    result = look.tryon.job.results.order_by("index").first()
    if result is None:
        raise Http404("This try-on has no picture yet.")
    return private_file_response(result.image)


@require_GET
def model_thumbnail(request, result_id):
    """A shared model's thumbnail for the store's picker; gone as soon as it is unshared."""
    # Withdrawal must take effect at once: served by us every time, kept by no cache.
    return public_file_response(selectors.public_model_result(result_id).thumbnail)


@require_GET
def garment_image(request, slug):
    response = HttpResponse(garment_png(_garment(slug)), content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def _garment(slug):
    garment = get_garment(slug)
    if garment is None:
        raise Http404("No such product.")
    return garment


def _look_context(user, look_id):
    look = selectors.visible_look(user, look_id)
    tryon = look.tryon
    job = tryon.job
    is_own = tryon.avatar_result.job.owner_id == user.pk
    return {
        "look": look,
        "look_tryon": tryon,
        "look_job": job,
        "look_progress": job_progress(job, timezone.now()),
        "look_garment": get_garment(tryon.garment_slug),
        "look_is_own": is_own,
        # A try-on whose inputs FASHN refused (e.g. a pose it cannot dress) fails again if sent
        # again: no "Try again" then.
        "look_can_retry": avatar_services.retry_refusal(job) is None,
    }
