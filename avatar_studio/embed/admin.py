"""Staff register shops here: their origins, their key (rotated by an action or the button on
the change page: the old key is refused at once), and the snippet the shop pastes."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.templatetags.static import static
from django.urls import path, reverse

from . import services
from .models import Shop

BUTTON_SNIPPET = (
    '<script src="{script}" data-key="{key}" async></script>\n'
    '<button type="button" data-avatar-studio-tryon data-garment-image="https://..." '
    'data-garment-name="..." data-garment-category="tops">See it on me</button>'
)


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ("name", "key", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "allowed_origins")
    readonly_fields = ("key", "created_at")
    fields = ("name", "allowed_origins", "is_active", "key", "created_at")
    actions = ["rotate_keys"]
    change_form_template = "embed/admin/shop_change_form.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        shop = self.get_object(request, object_id)
        if shop is not None:
            # Our address as the staff member reached it: the one shops load the script from.
            script = request.build_absolute_uri(static("embed/button.js"))
            extra_context = {
                **(extra_context or {}),
                "snippet": BUTTON_SNIPPET.format(script=script, key=shop.key),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description="Rotate the keys of the selected shops (old keys stop at once)")
    def rotate_keys(self, request, queryset):
        for shop in queryset:
            services.rotate_key(shop)
        self.message_user(
            request, f"Rotated {queryset.count()} key(s). Send each shop its new snippet."
        )

    def get_urls(self):
        rotate = self.admin_site.admin_view(self.rotate_view)
        return [
            path("<int:shop_id>/rotate-key/", rotate, name="embed_shop_rotate_key"),
            *super().get_urls(),
        ]

    def rotate_view(self, request, shop_id):
        shop = get_object_or_404(Shop, pk=shop_id)
        if not self.has_change_permission(request, shop):
            raise PermissionDenied
        if request.method != "POST":
            return redirect(reverse("admin:embed_shop_change", args=[shop.pk]))
        services.rotate_key(shop)
        self.message_user(
            request, "New key made; the old one is refused from now on.", messages.SUCCESS
        )
        return redirect(reverse("admin:embed_shop_change", args=[shop.pk]))
