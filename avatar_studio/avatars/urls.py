from django.urls import path

from . import views

app_name = "avatars"

urlpatterns = [
    path("", views.upload, name="upload"),
    path("avatars/", views.gallery, name="gallery"),
    path("avatars/<uuid:job_id>/", views.job_detail, name="job"),
    path("avatars/<uuid:job_id>/status/", views.job_status, name="job-status"),
    path("avatars/<uuid:job_id>/retry/", views.job_retry, name="job-retry"),
    path("avatars/<uuid:job_id>/selfie/", views.selfie_file, name="selfie"),
    path(
        "avatars/<uuid:job_id>/results/<int:index>/<str:kind>/",
        views.result_file,
        name="result",
    ),
]
