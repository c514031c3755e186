"""Staff view of jobs and their attempts (the review workflow builds on this)."""

from django.contrib import admin

from .models import AvatarJob, AvatarResult, PredictionAttempt


class PredictionAttemptInline(admin.TabularInline):
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
        "finished_at",
    )

    def has_add_permission(self, request, obj=None):
        return False


class AvatarResultInline(admin.TabularInline):
    model = AvatarResult
    extra = 0
    can_delete = False
    fields = readonly_fields = ("index", "image", "width", "height", "content_type")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AvatarJob)
class AvatarJobAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "status", "error_name", "aspect_ratio", "created_at")
    list_filter = ("status", "error_name", "aspect_ratio", "created_at")
    search_fields = ("id", "owner__username", "attempts__prediction_id")
    list_select_related = ("owner",)
    inlines = [PredictionAttemptInline, AvatarResultInline]
    readonly_fields = [field.name for field in AvatarJob._meta.fields]

    def has_add_permission(self, request):
        return False
