"""The demo store: catalogue, product pages, and garments tried on avatars."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from avatar_studio.avatars import services as avatar_services
from avatar_studio.avatars.media import private_file_response, public_file_response
from avatar_studio.avatars.models import JobStatus
from avatar_studio.avatars.progress import job_progress
from avatar_studio.avatars.refusals import Refused

from . import selectors, services


@require_GET
def catalogue(request):
    page = selectors.catalogue_page(request.GET.get("page"))
    return render(request, "shop/catalogue.html", {"page": page, "products": page.object_list})


@require_GET
def product(request, slug):
    product = selectors.published_product(slug)
    context = {"product": product, "photos": list(product.images.all()), "look": None}
    if request.user.is_authenticated:
        context["tryon_choices"] = services.tryon_choices()
        context["own_avatars"] = selectors.own_avatars(request.user)
        context["model_avatars"] = selectors.model_avatars()
        context["outfit_partners"] = selectors.outfit_partners(product)
        if look_id := request.GET.get("look"):
            context.update(_look_context(request.user, look_id))
    return render(request, "shop/product.html", context)


@login_required
@require_POST
def try_on(request, slug):
    """Start (or reuse) the try-on of this product on the avatar image the shopper picked."""
    product = selectors.published_product(slug)
    result = selectors.wearable_result(request.user, request.POST.get("avatar"))
    chosen = request.POST.get("tryon_model", services.DEFAULT_TRYON_MODEL)
    try:
        look = services.try_on(request.user, product, result, model_name=chosen)
    except Refused as refusal:
        messages.error(request, refusal.message)
        return redirect("shop:product", slug)
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
    """A published product's first photo (the one try-ons use)."""
    photo = selectors.published_product(slug).first_image()
    if photo is None:
        raise Http404("This product has no photo.")
    return _photo_response(photo)


@require_GET
def product_photo(request, image_id):
    return _photo_response(selectors.product_photo(request.user, image_id))


def _photo_response(photo):
    response = public_file_response(photo.image)
    if photo.product.is_published:
        # The address names one photo, which never changes (a new photo is a new row).
        response["Cache-Control"] = "public, max-age=86400"
    return response


def _look_context(user, look_id):
    look = selectors.visible_look(user, look_id)
    tryon = look.tryon
    job = tryon.job
    is_own = tryon.avatar_result.job.owner_id == user.pk
    garment = selectors.product_for_tryon(tryon)
    # A try-on whose inputs FASHN refused (e.g. a pose it cannot dress) fails again if sent
    # again: no Retry then. It is asked again through the product's own try-on form.
    can_retry = garment is not None and avatar_services.retry_refusal(job) is None
    return {
        "look": look,
        "look_tryon": tryon,
        "look_job": job,
        "look_tryon_name": services.tryon_name(tryon.model_name),
        "look_progress": job_progress(job, timezone.now()),
        "look_garment": garment,
        "look_garment_name": garment.name if garment else selectors.garment_name_sent(look),
        "look_wearer": "your avatar" if is_own else "a model",
        "look_retry_url": reverse("shop:try-on", args=[garment.slug]) if can_retry else None,
        "look_retry_fields": [
            ("avatar", tryon.avatar_result_id),
            ("tryon_model", tryon.model_name),
        ],
    }


@login_required
@require_POST
def start_outfit(request):
    """Start an outfit of the chosen products on the avatar image the shopper picked."""
    result = selectors.wearable_result(request.user, request.POST.get("avatar"))
    products = selectors.products_by_slug(request.POST.getlist("product"))
    chosen = request.POST.get("tryon_model", services.DEFAULT_TRYON_MODEL)
    try:
        outfit = services.start_outfit(request.user, result, products, model_name=chosen)
    except Refused as refusal:
        messages.error(request, refusal.message)
        back = next((p for p in products if p is not None and p.is_published), None)
        return redirect("shop:product", back.slug) if back else redirect("shop:catalogue")
    return redirect("shop:outfit", outfit.pk)


@login_required
@require_POST
def continue_outfit(request, outfit_id):
    """Start the garment that could not start when the one before it was on."""
    outfit = selectors.own_outfit(request.user, outfit_id)
    try:
        services.continue_outfit(request.user, outfit)
    except Refused as refusal:
        messages.error(request, refusal.message)
    return redirect("shop:outfit", outfit.pk)


@login_required
@require_GET
def outfit(request, outfit_id):
    """The outfit's page; htmx fetches its panel alone again until every step has ended."""
    outfit = selectors.own_outfit(request.user, outfit_id)
    steps = selectors.outfit_steps(outfit)
    now = timezone.now()
    context = {
        "outfit": outfit,
        "steps": [
            {"step": step, "progress": job_progress(step.tryon.job, now) if step.tryon else None}
            for step in steps
        ],
        "outfit_status": selectors.outfit_status(steps),
        "failed_step": next(
            (s for s in steps if s.tryon and s.tryon.job.status == JobStatus.FAILED), None
        ),
        "stopped_step": next((s for s in steps if s.not_started_because), None),
        "is_own": outfit.avatar_result.job.owner_id == request.user.pk,
    }
    template = "shop/_outfit.html" if request.headers.get("HX-Request") else "shop/outfit.html"
    response = render(request, template, context)
    # The same address answers the page or its panel: no cache may serve one for the other.
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_GET
def outfit_step_image(request, outfit_id, order):
    outfit = selectors.own_outfit(request.user, outfit_id)
    step = next((s for s in selectors.outfit_steps(outfit) if s.order == order), None)
    result = step.tryon.job.results.order_by("index").first() if step and step.tryon else None
    if result is None:
        raise Http404("This step has no picture yet.")
    return private_file_response(result.image)
