from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from . import errors, tryon_views, views

app_name = "api"

urlpatterns = [
    path("v1/avatars/", views.AvatarListCreate.as_view(), name="avatars"),
    path("v1/avatars/cost/", views.AvatarCost.as_view(), name="avatar-cost"),
    path("v1/avatars/<uuid:job_id>/", views.AvatarDetail.as_view(), name="avatar"),
    path("v1/avatars/<uuid:job_id>/retry/", views.AvatarRetry.as_view(), name="avatar-retry"),
    path("v1/avatars/<uuid:job_id>/pick/", views.AvatarPick.as_view(), name="avatar-pick"),
    path(
        "v1/avatars/<uuid:job_id>/discard-others/",
        views.AvatarDiscardOthers.as_view(),
        name="avatar-discard-others",
    ),
    path("v1/avatars/<uuid:job_id>/remake/", views.AvatarRemake.as_view(), name="avatar-remake"),
    path(
        "v1/avatars/<uuid:job_id>/results/<int:index>/",
        views.AvatarResultImage.as_view(),
        name="avatar-result",
    ),
    path(
        "v1/avatars/<uuid:job_id>/results/<int:index>/thumbnail/",
        views.AvatarResultThumbnail.as_view(),
        name="avatar-result-thumbnail",
    ),
    path("v1/tryons/", tryon_views.TryOnListCreate.as_view(), name="tryons"),
    path("v1/tryons/<uuid:look_id>/", tryon_views.TryOnDetail.as_view(), name="tryon"),
    path("v1/tryons/<uuid:look_id>/image/", tryon_views.TryOnImage.as_view(), name="tryon-image"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    re_path(r"^.*$", errors.not_found),
]
