from django.urls import path

from . import showcase, views
from .pipeline import fashn_webhooks
from .review import views as review_views

app_name = "avatars"

urlpatterns = [
    path("", views.upload, name="upload"),
    path("gallery/", views.gallery, name="gallery"),
    path("avatars/<uuid:job_id>/", views.job_detail, name="job"),
    path("avatars/<uuid:job_id>/status/", views.job_status, name="job-status"),
    path("avatars/<uuid:job_id>/retry/", views.job_retry, name="job-retry"),
    path("avatars/<uuid:job_id>/delete/", views.job_delete, name="job-delete"),
    path("avatars/<uuid:job_id>/results/<int:index>/pick/", views.job_pick, name="job-pick"),
    path("avatars/<uuid:job_id>/results/<int:index>/remake/", views.job_remake, name="job-remake"),
    path(
        "avatars/<uuid:job_id>/discard-others/",
        views.job_discard_others,
        name="job-discard-others",
    ),
    path("avatars/<uuid:job_id>/share/", views.share_create, name="share-create"),
    path(
        "avatars/<uuid:job_id>/share/<int:link_id>/revoke/",
        views.share_revoke,
        name="share-revoke",
    ),
    path("avatars/<uuid:job_id>/selfie/", views.selfie_file, name="selfie"),
    path("avatars/<uuid:job_id>/results/<int:index>/", views.result_file, name="result"),
    path(
        "avatars/<uuid:job_id>/results/<int:index>/thumbnail/",
        views.result_thumbnail,
        name="result-thumbnail",
    ),
    path(
        "avatars/<uuid:job_id>/results/<int:index>/download/",
        views.result_download,
        name="result-download",
    ),
    path("fashn/webhook/<str:token>/", fashn_webhooks.receive, name="fashn-webhook"),
    path("s/<str:token>/", views.shared_avatar, name="shared"),
    path("s/<str:token>/<int:index>/", views.shared_image, name="shared-image"),
    path("showcase/", showcase.showcase, name="showcase"),
    path("showcase/<int:result_id>/image/", showcase.showcase_image, name="showcase-image"),
    path(
        "avatars/<uuid:job_id>/showcase/offer/",
        review_views.showcase_offer,
        name="showcase-offer",
    ),
    path(
        "avatars/<uuid:job_id>/showcase/withdraw/",
        review_views.showcase_withdraw,
        name="showcase-withdraw",
    ),
]
