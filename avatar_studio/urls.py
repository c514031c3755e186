"""Top-level URL configuration."""

from django.contrib import admin
from django.urls import include, path

from avatar_studio.ops.views import prometheus_metrics

urlpatterns = [
    path("accounts/", include("avatar_studio.accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("avatar_studio.api.urls")),
    path("shop/", include("avatar_studio.shop.urls")),
    path("embed/", include("avatar_studio.embed.urls")),
    # Prometheus' default path (no trailing slash); see the README's "Metrics".
    path("metrics", prometheus_metrics, name="metrics"),
    path("", include("avatar_studio.core.urls")),
    path("", include("avatar_studio.avatars.urls")),
]
