"""The API's webhooks and their deliveries in the admin: read-only, for staff, never the secret."""

from django.contrib import admin

from .models import Webhook, WebhookDelivery


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    fields = [
        "id", "event", "state", "attempts", "last_status_code", "last_error", "created_at",
        "next_attempt_at", "delivered_at", "gave_up_at",
    ]  # fmt: skip
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ["-created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Webhook)
class WebhookAdmin(_ReadOnly):
    list_display = ["url", "job", "look_id", "created_at"]
    search_fields = ["job__id", "look__id", "url"]
    # Not "secret": it signs deliveries and is shown to its owner once, nowhere else.
    fields = ["job", "look_id", "url", "api_base_url", "created_at", "told_end_at"]
    readonly_fields = fields
    inlines = [DeliveryInline]
    list_select_related = ["job"]

    @admin.display(description="try-on (look)")
    def look_id(self, webhook):
        return webhook.look_id


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(_ReadOnly):
    list_display = [
        "id", "event", "state", "attempts", "last_status_code", "created_at", "delivered_at",
        "gave_up_at", "subject",
    ]  # fmt: skip
    list_filter = ["state", "event"]
    search_fields = ["id", "webhook__job__id", "webhook__look__id"]
    date_hierarchy = "created_at"
    list_select_related = ["webhook"]
    fields = [
        "id", "webhook", "event", "state", "attempts", "last_status_code", "last_error",
        "created_at", "last_attempt_at", "next_attempt_at", "delivered_at", "gave_up_at",
        "payload",
    ]  # fmt: skip
    readonly_fields = fields

    @admin.display(description="about")
    def subject(self, delivery):
        return delivery.webhook.describe()
