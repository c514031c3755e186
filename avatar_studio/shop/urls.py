from django.urls import path

from . import views

app_name = "shop"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("products/<slug:slug>/", views.product, name="product"),
    path("products/<slug:slug>/image.png", views.garment_image, name="garment-image"),
    path("products/<slug:slug>/try-on/", views.try_on, name="try-on"),
    path("looks/<int:tryon_id>/", views.look_panel, name="look"),
    path("looks/<int:tryon_id>/image/", views.look_image, name="look-image"),
    path("models/<int:result_id>/thumbnail/", views.model_thumbnail, name="model-thumbnail"),
]
