from django.contrib import admin

from .models import Look, TryOn


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
    list_display = ["garment_slug", "avatar_result", "job_status", "created_at"]
    list_filter = ["garment_slug"]
    list_select_related = ["job", "avatar_result"]
    readonly_fields = ["avatar_result", "garment_slug", "job", "created_at"]
    inlines = [LookInline]

    @admin.display(description="Status")
    def job_status(self, tryon):
        return tryon.job.get_status_display()

    def has_add_permission(self, request):
        return False  # try-ons start from the store, through the pipeline
