"""Top-level URL configuration."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("accounts/", include("avatar_studio.accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("avatar_studio.api.urls")),
    path("shop/", include("avatar_studio.shop.urls")),
    path("embed/", include("avatar_studio.embed.urls")),
    path("", include("avatar_studio.core.urls")),
    path("", include("avatar_studio.avatars.urls")),
]
