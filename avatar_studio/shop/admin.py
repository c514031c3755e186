from django.contrib import admin

from .models import TryOn


@admin.register(TryOn)
class TryOnAdmin(admin.ModelAdmin):
    list_display = ["garment_slug", "avatar_result", "job_status", "created_at"]
    list_filter = ["garment_slug"]
    list_select_related = ["job", "avatar_result"]
    readonly_fields = ["avatar_result", "garment_slug", "job", "created_at"]

    @admin.display(description="Status")
    def job_status(self, tryon):
        return tryon.job.get_status_display()

    def has_add_permission(self, request):
        return False  # try-ons start from the store, through the pipeline
