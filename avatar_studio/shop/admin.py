"""Staff view of the store's try-ons: a list of its own, apart from avatars (``avatars.admin``).

A try-on job belongs to the avatar's owner (the picture shows their face), but the shoppers who
asked for it are on their looks; the list shows both. Who may see try-ons is who may see every
job (``selectors.may_view_all_jobs``), the same rule that serves their pictures; retrying calls
``services.retry_job``, as the store does. Nothing here is edited or deleted by hand: a try-on
goes with its avatar (``services.delete_avatar``).
"""

from django.contrib import admin
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from avatar_studio.avatars.admin import (
    TRYONS_OF_AVATAR_LOOKUP,
    JobAdminBase,
    PredictionAttemptInline,
    thumbnail_html,
)
from avatar_studio.avatars.models import JobStatus, TryOnJob
from avatar_studio.avatars.selectors import may_view_all_jobs

from .catalogue import get_garment
from .models import Look, TryOn

THUMBNAIL_HEIGHT = 84
PREVIEW_HEIGHT = 300
# The list filtered to one shopper's try-ons: where a shopper's name links to.
SHOPPER_LOOKUP = "tryon__looks__shopper__id__exact"


def _tryon(job):
    """The store's record of the try-on (garment, looks), or None."""
    try:
        return job.tryon
    except TryOn.DoesNotExist:
        return None


def _looks(job):
    tryon = _tryon(job)
    return list(tryon.looks.all()) if tryon else []


@admin.register(TryOnJob)
class TryOnJobAdmin(JobAdminBase):
    list_display = (
        "tryon_thumbnail",
        "short_id",
        # Before the avatar and garment: on a phone the table scrolls, and who asked comes first.
        "asked_by",
        "avatar_worn",
        "garment",
        "status",
        "error",
        "credits",
        "created",
    )
    list_display_links = ("short_id",)
    list_filter = ("status", "error_name", "tryon__garment_slug", "created_at")
    search_fields = (
        "id",
        "owner__username",
        "tryon__looks__shopper__username",
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
    ]
    fieldsets = [
        (None, {"fields": ["id", "status", "error_name", "error_message"]}),
        ("Images", {"fields": [("tryon_previews", "avatar_worn_preview", "garment_preview")]}),
        ("People", {"fields": ["asked_by_with_dates", "avatar_owner"]}),
        (
            "FASHN inputs (tryon-v1.6)",
            {
                "fields": [
                    "category",
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

    def get_queryset(self, request):
        looks = Look.objects.select_related("shopper").order_by("created_at")
        return (
            super()
            .get_queryset(request)
            .select_related("owner", "model_result", "tryon")
            .prefetch_related(Prefetch("tryon__looks", queryset=looks))
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
        return False  # it goes with its avatar, and shoppers' looks lead to it

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

    @admin.display(description="Garment", ordering="tryon__garment_slug")
    def garment(self, job):
        return self._garment(job, THUMBNAIL_HEIGHT)

    @admin.display(description="Asked by")
    def asked_by(self, job):
        looks = _looks(job)
        if not looks:
            return "—"
        changelist = reverse("admin:avatars_tryonjob_changelist")
        return format_html_join(
            ", ",
            '<a href="{}?{}={}" title="Try-ons {} asked for">{}</a>',
            (
                (changelist, SHOPPER_LOOKUP, look.shopper_id, look.shopper, look.shopper)
                for look in looks
            ),
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
        # The try-on is theirs: it shows their face, and goes when they delete the avatar.
        return job.owner

    @admin.display(description="Shoppers who asked")
    def asked_by_with_dates(self, job):
        looks = _looks(job)
        if not looks:
            return "—"
        return format_html_join(
            ", ",
            "{} ({})",
            ((look.shopper, f"{look.created_at:%d %b %Y %H:%M}") for look in looks),
        )

    @admin.display(description="num_samples")
    def num_samples(self, job):
        return job.num_images or 1  # the job's num_images is tryon-v1.6's num_samples

    # --- shared by the list and the page ------------------------------------------------

    def _avatar_worn(self, job, height):
        """The avatar image worn, linked to the avatar's own admin page, with its owner's name."""
        result = job.model_result
        if result is None:
            return "—"
        image = thumbnail_html(
            reverse("avatars:result-thumbnail", args=[result.job_id, result.index]),
            f"{job.owner}'s avatar {str(result.job_id)[:8]}",
            height=height,
        )
        return format_html(
            '<a href="{}">{}</a><span class="job-caption">{}</span>',
            reverse("admin:avatars_avatarjob_change", args=[result.job_id]),
            image,
            job.owner,
        )

    def _garment(self, job, height):
        tryon = _tryon(job)
        if tryon is None:
            return "—"
        garment = get_garment(tryon.garment_slug)
        if garment is None:  # no longer in the catalogue
            return tryon.garment_slug
        image = thumbnail_html(
            reverse("shop:garment-image", args=[garment.slug]), garment.name, height=height
        )
        return format_html('{}<span class="job-caption">{}</span>', image, garment.name)


class LookInline(admin.TabularInline):
    """The shoppers who asked for this try-on: each opens it through their own look."""

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
    """The try-on cache (one per avatar image and garment). Staff work from the try-on list
    (``TryOnJobAdmin``), so this one stays off the admin's index."""

    list_display = ["garment_slug", "avatar_result", "job_status", "created_at"]
    list_filter = ["garment_slug"]
    list_select_related = ["job", "avatar_result"]
    readonly_fields = ["avatar_result", "garment_slug", "job", "created_at"]
    inlines = [LookInline]

    def get_model_perms(self, request):
        return {}

    @admin.display(description="Status")
    def job_status(self, tryon):
        return tryon.job.get_status_display()

    def has_add_permission(self, request):
        return False  # try-ons start from the store, through the pipeline
