"""Staff view of the store: its products (with their photos), its try-ons, a list of their own
apart from avatars (``avatars.admin``), and the outfits shoppers made of them.

A product photo is uploaded or fetched from an https URL (``shop.images``: the selfie intake's
checks, the API's safe fetcher); a bad file or URL is an error on its row, and nothing is stored.

A try-on job belongs to the shopper who asked (its owner), whoever's avatar it dresses; the list
shows both. Who may see try-ons is who may see every job (``selectors.may_view_all_jobs``), the
same rule that serves their pictures; retrying calls ``services.retry_job``, as the store does.
Nothing here is edited or deleted by hand: a try-on goes with its shopper's account, its avatar
(``services.delete_avatar``) or when its shopper deletes it. Outfits are the same: staff review
them (who made one, on which avatar image, with which model, how far each step got) and edit
nothing.
"""

from django import forms
from django.contrib import admin
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from avatar_studio.avatars import options
from avatar_studio.avatars.admin import (
    TRYONS_OF_AVATAR_LOOKUP,
    JobAdminBase,
    PredictionAttemptInline,
    thumbnail_html,
)
from avatar_studio.avatars.models import JobStatus, TryOnJob
from avatar_studio.avatars.selectors import may_view_all_jobs

from . import images, selectors, services
from .models import Look, Outfit, OutfitStatus, OutfitStep, Product, ProductImage, TryOn

THUMBNAIL_HEIGHT = 84
PREVIEW_HEIGHT = 300
# The list filtered to one shopper's try-ons: where a shopper's name links to.
SHOPPER_LOOKUP = "owner__id__exact"


def _tryon(job):
    """The store's record of the try-on (garment, looks), or None."""
    try:
        return job.tryon
    except TryOn.DoesNotExist:
        return None


@admin.register(TryOnJob)
class TryOnJobAdmin(JobAdminBase):
    list_display = (
        "tryon_thumbnail",
        "short_id",
        # Before the avatar and garment: on a phone the table scrolls, and who asked comes first.
        "asked_by",
        "avatar_worn",
        "garment",
        "tryon_model",
        "status",
        "error",
        "credits",
        "created",
    )
    list_display_links = ("short_id",)
    list_filter = ("status", "model_name", "error_name", "tryon__garment_slug", "created_at")
    search_fields = (
        "id",
        "owner__username",
        "model_result__job__owner__username",
        "tryon__garment_slug",
        "attempts__prediction_id",
    )
    search_help_text = (
        "Search by shopper who asked, avatar owner, garment, prediction id or job id."
    )
    list_per_page = 50
    inlines = [PredictionAttemptInline]
    actions = ["retry_failed"]
    readonly_fields = [
        *(field.name for field in TryOnJob._meta.fields),
        "tryon_previews",
        "avatar_worn_preview",
        "garment_preview",
        "avatar_owner",
        "asked_by_with_dates",
        "num_samples",
        "attempt_count",
        "processing_time",
        "credits",
        "tryon_model",
    ]
    fieldsets = [
        (None, {"fields": ["id", "status", "error_name", "error_message"]}),
        ("Images", {"fields": [("tryon_previews", "avatar_worn_preview", "garment_preview")]}),
        ("People", {"fields": ["asked_by_with_dates", "avatar_owner"]}),
        (
            "FASHN inputs",
            {
                "fields": [
                    "tryon_model",
                    "category",
                    "generation_mode",
                    "mode",
                    "seed",
                    "output_format",
                    "return_base64",
                    "num_samples",
                ]
            },
        ),
        *JobAdminBase.SCHEDULING_AND_TIMINGS,
    ]

    def get_changelist_instance(self, request):
        # The garments of a whole page in one query, not one per row.
        changelist = super().get_changelist_instance(request)
        jobs = list(changelist.result_list)
        tryons = [tryon for job in jobs if (tryon := _tryon(job)) is not None]
        products = selectors.products_for_tryons(tryons)
        for job in jobs:
            if (tryon := _tryon(job)) is not None:
                job._product = products.get(tryon.pk)
        return changelist

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("owner", "model_result__job__owner", "tryon")
        )

    def lookup_allowed(self, lookup, value, request=None):
        # The links from a shopper's name and from an avatar's page.
        return lookup in (SHOPPER_LOOKUP, TRYONS_OF_AVATAR_LOOKUP) or super().lookup_allowed(
            lookup, value, request
        )

    # A try-on is a job: the job permissions govern it (the proxy has none of its own).
    def has_view_permission(self, request, obj=None):
        return may_view_all_jobs(request.user)

    def has_change_permission(self, request, obj=None):
        return False  # retrying is an action; nothing else about a try-on is staff's to edit

    def has_delete_permission(self, request, obj=None):
        return False  # it goes with its avatar or its shopper, whose look leads to it

    # --- columns ------------------------------------------------------------------------

    @admin.display(description="Try-on")
    def tryon_thumbnail(self, job):
        # A completed job always has its first image (services.complete_job stores them with it).
        if job.status != JobStatus.COMPLETED:
            return "—"
        url = reverse("avatars:result-thumbnail", args=[job.pk, 0])
        return thumbnail_html(url, "Try-on", height=THUMBNAIL_HEIGHT)

    @admin.display(description="Avatar worn")
    def avatar_worn(self, job):
        return self._avatar_worn(job, THUMBNAIL_HEIGHT)

    @admin.display(description="Model", ordering="model_name")
    def tryon_model(self, job):
        # What the model costs, beside what FASHN reported in "Credits".
        return format_html(
            '{}<br><span class="job-estimate">est. {}</span>',
            job.model_name,
            options.estimated_credits(job),
        )

    @admin.display(description="Garment", ordering="tryon__garment_slug")
    def garment(self, job):
        return self._garment(job, THUMBNAIL_HEIGHT)

    @admin.display(description="Asked by", ordering="owner__username")
    def asked_by(self, job):
        changelist = reverse("admin:avatars_tryonjob_changelist")
        return format_html(
            '<a href="{}?{}={}" title="Try-ons {} asked for">{}</a>',
            changelist,
            SHOPPER_LOOKUP,
            job.owner_id,
            job.owner,
            job.owner,
        )

    # --- the try-on's page --------------------------------------------------------------

    @admin.display(description="Try-on")
    def tryon_previews(self, job):
        images = (
            thumbnail_html(
                reverse("avatars:result-thumbnail", args=[job.pk, result.index]),
                f"Try-on {result.index + 1}",
                height=PREVIEW_HEIGHT,
            )
            for result in job.results.all()
        )
        return format_html_join(" ", "{}", ((image,) for image in images)) or "—"

    @admin.display(description="Avatar worn")
    def avatar_worn_preview(self, job):
        return self._avatar_worn(job, PREVIEW_HEIGHT)

    @admin.display(description="Garment")
    def garment_preview(self, job):
        return self._garment(job, PREVIEW_HEIGHT)

    @admin.display(description="Avatar owner")
    def avatar_owner(self, job):
        # It shows their face: the try-on goes when they delete the avatar.
        return job.model_result.job.owner if job.model_result else "—"

    @admin.display(description="Shopper who asked")
    def asked_by_with_dates(self, job):
        # The try-on is theirs: charged to them, in their data, gone with their account.
        return format_html("{} ({})", job.owner, f"{job.created_at:%d %b %Y %H:%M}")

    @admin.display(description="num_samples")
    def num_samples(self, job):
        return job.num_images or 1  # the job's num_images is tryon-v1.6's num_samples

    # --- shared by the list and the page ------------------------------------------------

    def _avatar_worn(self, job, height):
        """The avatar image worn, linked to the avatar's own admin page, with its owner's name."""
        result = job.model_result
        return "—" if result is None else _avatar_image(result, height)

    def _garment(self, job, height):
        tryon = _tryon(job)
        if tryon is None:
            return "—"
        garment = getattr(job, "_product", None) or selectors.product_for_tryon(tryon)
        if garment is None:  # a garment from a URL, or a product deleted since
            return tryon.garment_slug
        image = thumbnail_html(
            reverse("shop:garment-image", args=[garment.slug]), garment.name, height=height
        )
        return format_html('{}<span class="job-caption">{}</span>', image, garment.name)


class LookInline(admin.TabularInline):
    """The shopper's look at this try-on (the one who asked, the try-on's owner)."""

    model = Look
    extra = 0
    can_delete = False
    fields = readonly_fields = ["shopper", "created_at"]
    verbose_name = "shopper who asked"
    verbose_name_plural = "shoppers who asked"

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(TryOn)
class TryOnAdmin(admin.ModelAdmin):
    """The try-on cache (one per shopper, avatar image, garment and model). Staff work from the
    try-on list (``TryOnJobAdmin``), so this one stays off the admin's index."""

    list_display = ["garment_slug", "avatar_result", "job_status", "created_at"]
    list_filter = ["garment_slug"]
    list_select_related = ["job", "avatar_result"]
    readonly_fields = ["shopper", "avatar_result", "garment_slug", "job", "created_at"]
    inlines = [LookInline]

    def get_model_perms(self, request):
        return {}

    @admin.display(description="Status")
    def job_status(self, tryon):
        return tryon.job.get_status_display()

    def has_add_permission(self, request):
        return False  # try-ons start from the store, through the pipeline


# --- Outfits ---------------------------------------------------------------------------------

# The outfit list filtered to one shopper's outfits: where a shopper's name links to.
OUTFIT_SHOPPER_LOOKUP = "shopper__id__exact"


def _avatar_image(result, height):
    """The avatar image a try-on or an outfit dresses, linked to the avatar's admin page, with
    its owner's name."""
    image = thumbnail_html(
        reverse("avatars:result-thumbnail", args=[result.job_id, result.index]),
        f"{result.job.owner}'s avatar {str(result.job_id)[:8]}",
        height=height,
    )
    return format_html(
        '<a href="{}">{}</a><span class="job-caption">{}</span>',
        reverse("admin:avatars_avatarjob_change", args=[result.job_id]),
        image,
        result.job.owner,
    )


def _step_status(step):
    return step.tryon.job.get_status_display() if step.tryon else "Not started"


class OutfitStepInline(admin.TabularInline):
    """Each garment in the order it goes on, with how far its try-on got: read only."""

    model = OutfitStep
    extra = 0
    can_delete = False
    fields = readonly_fields = ["order", "product", "tryon_status", "tryon_picture"]
    verbose_name = "step"
    verbose_name_plural = "steps (each dresses the picture of the one before)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product", "tryon__job")

    # Whoever may see the outfit sees its steps (the rule of the outfit, not a permission of
    # its own); nobody adds, changes or deletes one.
    def has_view_permission(self, request, obj=None):
        return may_view_all_jobs(request.user)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Try-on")
    def tryon_status(self, step):
        if step.tryon is None:
            if step.not_started_because:
                return format_html(
                    'Not started<span class="job-caption">{}</span>', step.not_started_because
                )
            return "Not started"
        job = step.tryon.job
        return format_html(
            '<a href="{}">{} ({})</a>{}',
            reverse("admin:avatars_tryonjob_change", args=[job.pk]),
            job.get_status_display(),
            job.model_name,
            format_html('<span class="job-caption">{}</span>', job.error_message)
            if job.error_message
            else "",
        )

    @admin.display(description="Picture")
    def tryon_picture(self, step):
        if step.tryon is None or step.tryon.job.status != JobStatus.COMPLETED:
            return "—"
        return thumbnail_html(
            reverse("avatars:result-thumbnail", args=[step.tryon.job_id, 0]),
            f"Step {step.order}: {step.product}",
            height=PREVIEW_HEIGHT,
        )


@admin.register(Outfit)
class OutfitAdmin(admin.ModelAdmin):
    """Shoppers' outfits, for review: seen by whoever may view every job (each step's picture
    shows the avatar's face), the same rule as the try-on list. Nothing is edited here."""

    list_display = [
        "short_id",
        "shopper_link",
        "avatar_image",
        "model_name",
        "steps_summary",
        "status",
        "created_at",
    ]
    list_display_links = ["short_id"]
    list_filter = ["model_name", "created_at"]
    search_fields = ["id", "shopper__username", "steps__product__name", "steps__product__slug"]
    search_help_text = "Search by shopper, garment or outfit id."
    list_per_page = 50
    fields = readonly_fields = [
        "id",
        "shopper",
        "avatar_image_preview",
        "model_name",
        "status",
        "created_at",
    ]
    inlines = [OutfitStepInline]

    class Media:
        # The try-on list's look: pictures named below them.
        css = {"all": ["css/admin/tryonjob-list.css"]}

    def get_queryset(self, request):
        steps = OutfitStep.objects.select_related("product", "tryon__job").order_by("order")
        return (
            super()
            .get_queryset(request)
            .select_related("shopper", "avatar_result__job__owner")
            .prefetch_related(Prefetch("steps", queryset=steps))
        )

    def lookup_allowed(self, lookup, value, request=None):
        return lookup == OUTFIT_SHOPPER_LOOKUP or super().lookup_allowed(lookup, value, request)

    def has_view_permission(self, request, obj=None):
        return may_view_all_jobs(request.user)

    def has_add_permission(self, request):
        return False  # outfits start from the store

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # an outfit goes with its shopper or its avatar

    @admin.display(description="Outfit")
    def short_id(self, outfit):
        return str(outfit.pk)[:8]

    @admin.display(description="Shopper", ordering="shopper__username")
    def shopper_link(self, outfit):
        return format_html(
            '<a href="{}?{}={}" title="Outfits {} made">{}</a>',
            reverse("admin:shop_outfit_changelist"),
            OUTFIT_SHOPPER_LOOKUP,
            outfit.shopper_id,
            outfit.shopper,
            outfit.shopper,
        )

    @admin.display(description="Avatar image")
    def avatar_image(self, outfit):
        return _avatar_image(outfit.avatar_result, THUMBNAIL_HEIGHT)

    @admin.display(description="Avatar image")
    def avatar_image_preview(self, outfit):
        return _avatar_image(outfit.avatar_result, PREVIEW_HEIGHT)

    @admin.display(description="Steps")
    def steps_summary(self, outfit):
        return format_html_join(
            mark_safe("<br>"),
            "{}. {}: {}",
            ((step.order, step.product, _step_status(step)) for step in outfit.steps.all()),
        )

    @admin.display(description="Status")
    def status(self, outfit):
        return OutfitStatus(selectors.outfit_status(list(outfit.steps.all()))).label


# --- Products ---------------------------------------------------------------------------------


class ProductImageForm(forms.ModelForm):
    """A photo row: a file to upload or an https URL to fetch (one of them for a new row; either
    on a saved row replaces its photo)."""

    photo = forms.FileField(required=False, help_text="JPEG, PNG, WebP or HEIC.")
    source_url = forms.URLField(
        label="or fetch from URL",
        required=False,
        assume_scheme="https",
        help_text="A public https:// link to the photo.",
    )

    class Meta:
        model = ProductImage
        fields = ["position"]

    def clean(self):
        cleaned = super().clean()
        photo, url = cleaned.get("photo"), cleaned.get("source_url")
        if photo and url:
            raise forms.ValidationError("Upload a photo or give its URL, not both.")
        try:
            if photo:
                self.png = images.normalise_garment(photo)
            elif url:
                self.png = images.fetch_garment(url)
            else:
                self.png = None
        except images.GarmentPhotoRejected as rejected:
            raise forms.ValidationError(str(rejected)) from None
        if self.png is None and self.instance.pk is None and self.has_changed():
            raise forms.ValidationError("Upload a photo or give its https:// URL.")
        return cleaned

    def save(self, commit=True):
        image = super().save(commit=False)
        if self.png is not None:
            return services.store_photo(image, self.png)
        if commit:
            image.save()
        return image


def _photo_preview(photo, height):
    if not photo or not photo.pk:
        return "—"
    return thumbnail_html(
        reverse("shop:product-photo", args=[photo.pk]), f"{photo.product} photo", height=height
    )


class ProductImageInline(admin.StackedInline):  # stacked: fits a phone
    model = ProductImage
    form = ProductImageForm
    extra = 1
    fields = ["preview", "photo", "source_url", "position"]
    readonly_fields = ["preview"]
    verbose_name = "photo"
    verbose_name_plural = "photos (the first is the one shoppers try on)"

    @admin.display(description="Preview")
    def preview(self, photo):
        return _photo_preview(photo, THUMBNAIL_HEIGHT)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["thumbnail", "name", "category", "price", "is_published", "updated_at"]
    list_display_links = ["name"]
    list_filter = ["is_published", "category"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    fields = ["name", "slug", "price", "category", "description", "is_published"]
    inlines = [ProductImageInline]

    def get_queryset(self, request):
        photos = ProductImage.objects.order_by("position", "id")
        return super().get_queryset(request).prefetch_related(Prefetch("images", queryset=photos))

    @admin.display(description="Photo")
    def thumbnail(self, product):
        return _photo_preview(product.first_image(), THUMBNAIL_HEIGHT)
