from django.contrib import admin

from .models import CreditUse


@admin.register(CreditUse)
class CreditUseAdmin(admin.ModelAdmin):
    """Read-only: rows are written by the allowance and the pipeline, never by hand."""

    list_display = (
        "created_at",
        "owner",
        "model_name",
        "job_id",
        "estimated",
        "charged",
        "state",
        "counted",
    )
    list_filter = ("state", "model_name", "counted")
    search_fields = ("=job_id", "owner__username")
    list_select_related = ("owner",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
