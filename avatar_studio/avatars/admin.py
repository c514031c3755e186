"""Staff view of avatar jobs: the list and review queue, actions, attempt history, dashboard.

The admin only reads and calls services: approving and rejecting go through
``review.services``, retrying and deleting through ``services``, each a guarded transition.
Every action says how many jobs it changed and, in the refusals' own words (the same the owner
reads in the browser and the API), why it skipped the others; it writes one admin log entry per
changed job.

Permissions: ``review_avatarjob`` (approve, reject) and ``retry_avatarjob`` (retry, re-run with a
new seed) are what the "Reviewers" group holds, with ``view_avatarjob``; deleting needs Django's
own ``delete_avatarjob``, which that group does not have.
"""

import re
from collections import Counter

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import Count, DurationField, ExpressionWrapper, F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe

from avatar_studio.ops.views import dashboard as operations_dashboard
from avatar_studio.ops.views import format_duration

from . import options, services
from .models import (
    AvatarJob,
    AvatarResult,
    JobStatus,
    PredictionAttempt,
    ReviewState,
    TryOnJob,
)
from .refusals import Refused
from .review import services as review

THUMBNAIL_HEIGHT = 56
AVATAR_THUMBNAIL_HEIGHT = 84
# The try-on list filtered to the try-ons of one avatar (``shop.admin.TryOnJobAdmin`` allows it).
TRYONS_OF_AVATAR_LOOKUP = "model_result__job__id__exact"
_WORD_START = re.compile(r"(?<=[a-z])(?=[A-Z])")


def thumbnail_html(url, alt, height=THUMBNAIL_HEIGHT):
    """An <img> of a private thumbnail, served by a view that checks who may see it."""
    return format_html(
        '<img src="{}" alt="{}" height="{}" loading="lazy" class="job-thumb">', url, alt, height
    )


# --- Inlines ----------------------------------------------------------------------------------


class PredictionAttemptInline(admin.TabularInline):
    """Every FASHN prediction made for the job: its id, what FASHN said, and when."""

    model = PredictionAttempt
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "number",
        "prediction_id",
        "status",
        "error_name",
        "error_message",
        "credits_used",
        "poll_count",
        "submitted_at",
        "last_polled_at",
        "finished_at",
        "prediction_time",
    )

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="FASHN time")
    def prediction_time(self, attempt):
        if attempt.finished_at is None:
            return "running"
        return format_duration(attempt.finished_at - attempt.submitted_at)


class AvatarResultInline(admin.TabularInline):
    model = AvatarResult
    extra = 0
    can_delete = False
    fields = readonly_fields = ("preview", "index", "width", "height", "content_type")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="Image")
    def preview(self, result):
        url = reverse("avatars:result-thumbnail", args=[result.job_id, result.index])
        return thumbnail_html(url, f"Avatar {result.index + 1}", height=160)


# --- The reject action's form -----------------------------------------------------------------


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="Reason shown to the owner",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 70}),
        help_text=(
            "Say what is wrong and what they can do, e.g. “The face is cut off at the top; "
            "make a new avatar from a photo with your whole head in the frame.”"
        ),
    )


# --- What the avatar list and the try-on list share -------------------------------------------


class JobAdminBase(admin.ModelAdmin):
    """Per-job figures (attempts, time, credits) in bounded queries, the columns that show them,
    and actions that call a service and report what they skipped in the refusals' words."""

    # The fieldsets every job's change page ends with, avatar or try-on.
    SCHEDULING_AND_TIMINGS = [
        (
            "Protocol and scheduling",
            {
                "classes": ["collapse"],
                "fields": [
                    "max_attempts",
                    "attempt_count",
                    "credits",
                    "next_action_at",
                    "step_token",
                    "waiting_for_slot",
                    "deadline_at",
                ],
            },
        ),
        (
            "Timings",
            {
                "fields": [
                    "created_at",
                    "submitted_at",
                    "finished_at",
                    "processing_time",
                    "updated_at",
                ]
            },
        ),
    ]

    def get_queryset(self, request):
        # Per-job figures as correlated subqueries rather than joins: a search on prediction ids
        # joins the attempts again, and joined counts would then be multiplied.
        attempts = PredictionAttempt.objects.filter(job=OuterRef("pk")).order_by().values("job")
        return (
            super()
            .get_queryset(request)
            .annotate(
                attempt_total=Coalesce(Subquery(attempts.annotate(n=Count("pk")).values("n")), 0),
                credits_total=Subquery(
                    attempts.annotate(total=Sum("credits_used")).values("total")
                ),
                duration=ExpressionWrapper(
                    F("finished_at") - F("created_at"), output_field=DurationField()
                ),
            )
        )

    def has_add_permission(self, request):
        return False  # jobs are made by owners uploading a selfie, or by the store

    def has_retry_permission(self, request):
        return request.user.has_perm("avatars.retry_avatarjob")

    # --- columns ------------------------------------------------------------------------

    @admin.display(description="Error", ordering="error_name")
    def error(self, job):
        if not job.error_name:
            return "—"
        # Let long CamelCase names ("ContentModerationError") wrap between words.
        return mark_safe(_WORD_START.sub("<wbr>", escape(job.error_name)))  # escaped first

    @admin.display(description="Created", ordering="created_at")
    def created(self, job):
        return format_html(
            '<time datetime="{}">{}</time>',
            job.created_at.isoformat(),
            timezone.localtime(job.created_at).strftime("%d %b %H:%M"),
        )

    @admin.display(description="Job", ordering="id")
    def short_id(self, job):
        return str(job.pk)[:8]

    @admin.display(description="Attempts", ordering="attempt_total")
    def attempt_count(self, job):
        return job.attempt_total

    @admin.display(description="Time taken", ordering="duration")
    def processing_time(self, job):
        return format_duration(job.duration)

    @admin.display(description="Credits", ordering="credits_total")
    def credits(self, job):
        return job.credits_total if job.credits_total is not None else "—"

    # --- actions ------------------------------------------------------------------------

    @admin.action(description="Retry failed jobs", permissions=["retry"])
    def retry_failed(self, request, queryset):
        self._retry(request, queryset, new_seed=False)

    def _retry(self, request, queryset, *, new_seed):
        """A new attempt through the normal pipeline (``services.retry_job``), which refuses
        anything but a failed job: a running one is never sent a second time."""

        def retry(job):
            seed = services.retry_job(job, new_seed=new_seed)
            if new_seed:
                return f"Re-run with new seed {seed} (was {job.seed})."
            return "Retried: a new attempt through the pipeline."

        self._act(request, queryset, "Re-ran" if new_seed else "Retried", retry)

    def _act(self, request, queryset, verb, action):
        """Run ``action`` (a service call returning the log message) on each job; count refusals
        by their reason."""
        changed, skipped = 0, Counter()
        for job in queryset:
            try:
                log_message = action(job)
            except Refused as refusal:
                skipped[refusal.message] += 1
                continue
            changed += 1
            self.log_change(request, job, log_message)
        self._report(request, verb, changed, skipped)

    def _report(self, request, verb, changed, skipped):
        """Tell staff how many jobs changed and, grouped by reason, why the others did not."""
        if changed or not skipped:
            self.message_user(
                request, f"{verb} {_jobs(changed)}.", messages.SUCCESS if changed else messages.INFO
            )
        if skipped:
            reasons = " ".join(
                f"{_jobs(count)}: {reason}" for reason, count in skipped.most_common()
            )
            self.message_user(
                request, f"Skipped {_jobs(skipped.total())}. {reasons}", messages.WARNING
            )


# --- The avatar admin -------------------------------------------------------------------------


@admin.register(AvatarJob)
class AvatarJobAdmin(JobAdminBase):
    """Avatars made from selfies; the store's try-ons have their own list (``shop.admin``)."""

    list_display = (
        "selfie_thumbnail",
        "result_thumbnail",
        "short_id",
        "owner",
        "status",
        "review",
        "error",
        "fashn_options",
        "attempt_count",
        "processing_time",
        "credits_used_and_estimated",
        "created",
    )
    list_display_links = ("short_id",)
    list_filter = (
        "status",
        "review_state",
        "error_name",
        "generation_mode",
        "resolution",
        "created_at",
    )
    search_fields = ("id", "owner__username", "owner__email", "attempts__prediction_id")
    search_help_text = "Search by owner (username or email), prediction id or job id."
    list_select_related = ("owner", "chosen_result")
    list_per_page = 50
    inlines = [PredictionAttemptInline, AvatarResultInline]
    actions = [
        "approve_for_display",
        "reject_for_display",
        "retry_failed",
        "rerun_with_new_seed",
        "delete_selected",
    ]
    readonly_fields = [
        *(field.name for field in AvatarJob._meta.fields),
        "selfie_preview",
        "avatar_previews",
        "tryons_of_avatar",
        "attempt_count",
        "processing_time",
        "credits",
        "estimated_credits",
    ]
    fieldsets = [
        (None, {"fields": ["id", "owner", "status", "error_name", "error_message"]}),
        ("Images", {"fields": [("selfie_preview", "avatar_previews"), "tryons_of_avatar"]}),
        (
            "Public display",
            {
                "fields": [
                    "review_state",
                    "public_consent_at",
                    "review_reason",
                    "reviewed_at",
                    "reviewed_by",
                ]
            },
        ),
        (
            "FASHN inputs",
            {
                "fields": [
                    "prompt",
                    "aspect_ratio",
                    "seed",
                    "output_format",
                    "return_base64",
                    "resolution",
                    "generation_mode",
                    "num_images",
                    "estimated_credits",
                ]
            },
        ),
        *JobAdminBase.SCHEDULING_AND_TIMINGS,
        # Not the selfie field itself: its default widget links to MEDIA_URL, which is private.
        ("Consent", {"fields": ["consent_version", "consented_at"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).avatars()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # A try-on's address in this list (the dashboard's running jobs link here) leads to its
        # page in the try-on list.
        try:
            is_tryon = TryOnJob.objects.filter(pk=object_id).exists()
        except ValidationError:
            is_tryon = False
        if is_tryon:
            return redirect("admin:avatars_tryonjob_change", object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        # The review queue is this list filtered to pending avatars: say so in its title.
        if request.GET.get("review_state__exact") == ReviewState.PENDING:
            title = "Review queue: avatars offered for public display"
            extra_context = {**(extra_context or {}), "title": title}
        return super().changelist_view(request, extra_context)

    def has_review_permission(self, request):
        return request.user.has_perm("avatars.review_avatarjob")

    # --- columns ------------------------------------------------------------------------

    @admin.display(description="Selfie")
    def selfie_thumbnail(self, job):
        if not job.selfie:
            return "—"
        return thumbnail_html(reverse("avatars:selfie", args=[job.pk]), "Selfie")

    @admin.display(description="Avatar")
    def result_thumbnail(self, job):
        # A completed job always has its first image (services.complete_job stores them with it),
        # and shows it until its owner picks another (``AvatarJob.avatar_result``).
        if job.status != JobStatus.COMPLETED:
            return "—"
        index = job.chosen_result.index if job.chosen_result_id else 0
        url = reverse("avatars:result-thumbnail", args=[job.pk, index])
        # Taller than the selfie: the avatar is what a reviewer judges.
        return thumbnail_html(url, "Avatar", height=AVATAR_THUMBNAIL_HEIGHT)

    @admin.display(description="Review", ordering="review_state")
    def review(self, job):
        return job.get_review_state_display()

    @admin.display(description="Options")
    def fashn_options(self, job):
        """Quality, resolution and images in one narrow cell: "balanced", then "2k ×4"."""
        return format_html(
            "{}<br>{} ×{}",
            job.generation_mode or "FASHN's choice",
            job.resolution or "default",
            job.num_images or 1,
        )

    @admin.display(description="Credits", ordering="credits_total")
    def credits_used_and_estimated(self, job):
        # Used: what FASHN reported for the attempts. Estimated: the most the options can cost.
        return format_html(
            '{}<br><span class="job-estimate">est. {}</span>',
            self.credits(job),
            options.estimated_credits(job),
        )

    @admin.display(description="Estimated credits")
    def estimated_credits(self, job):
        return options.estimated_credits(job)

    @admin.display(description="Selfie")
    def selfie_preview(self, job):
        if not job.selfie:
            return "—"
        return thumbnail_html(reverse("avatars:selfie", args=[job.pk]), "Selfie", height=200)

    @admin.display(description="Avatar")
    def avatar_previews(self, job):
        # The image the avatar shows (its owner's pick) is the one public display would use.
        shown = job.avatar_result
        images = [
            thumbnail_html(
                reverse("avatars:result-thumbnail", args=[job.pk, result.index]),
                f"Avatar {result.index + 1}" + (" (shown)" if result == shown else ""),
                height=300 if result == shown else 150,
            )
            for result in job.results.all()
        ]
        return format_html_join(" ", "{}", ((image,) for image in images)) or "—"

    @admin.display(description="Try-ons")
    def tryons_of_avatar(self, job):
        count = TryOnJob.objects.filter(model_result__job=job).count()
        if not count:
            return "None"
        url = reverse("admin:avatars_tryonjob_changelist")
        return format_html(
            '<a href="{}?{}={}">{} try-on{} of this avatar</a>',
            url,
            TRYONS_OF_AVATAR_LOOKUP,
            job.pk,
            count,
            "" if count == 1 else "s",
        )

    # --- actions ------------------------------------------------------------------------

    @admin.action(description="Approve for public display", permissions=["review"])
    def approve_for_display(self, request, queryset):
        def approve(job):
            review.approve(job, reviewer=request.user)
            return "Approved for public display."

        self._act(request, queryset, "Approved", approve)

    @admin.action(description="Reject for public display (with a reason)…", permissions=["review"])
    def reject_for_display(self, request, queryset):
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return self._reject_form(request, queryset, form)
        reason = form.cleaned_data["reason"]

        def reject(job):
            review.reject(job, reviewer=request.user, reason=reason)
            return f"Rejected for public display: {reason}"

        self._act(request, queryset, "Rejected", reject)
        return None

    def _reject_form(self, request, queryset, form):
        context = {
            **self.admin_site.each_context(request),
            "title": "Reject for public display",
            "opts": self.opts,
            "jobs": queryset,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        return TemplateResponse(request, "admin/avatars/avatarjob/reject.html", context)

    @admin.action(description="Re-run failed jobs with a new seed", permissions=["retry"])
    def rerun_with_new_seed(self, request, queryset):
        self._retry(request, queryset, new_seed=True)

    # --- deleting: always with the job's files --------------------------------------------

    def delete_model(self, request, obj):
        services.delete_avatar(obj)

    def delete_queryset(self, request, queryset):
        for job in queryset:
            services.delete_avatar(job)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            function, name, _description = actions["delete_selected"]
            actions["delete_selected"] = (function, name, "Delete selected jobs with their files")
        return actions

    # --- the operations dashboard ----------------------------------------------------------

    def get_urls(self):
        # Before the default URLs: "<path:object_id>/" would otherwise take "dashboard/".
        dashboard = path(
            "dashboard/",
            self.admin_site.admin_view(self.dashboard_view),
            name="avatars_avatarjob_dashboard",
        )
        return [dashboard, *super().get_urls()]

    def dashboard_view(self, request):
        return operations_dashboard(request, self)


def _jobs(count):
    return f"{count} job" if count == 1 else f"{count} jobs"
