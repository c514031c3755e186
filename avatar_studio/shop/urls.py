from django.urls import path

from . import views

app_name = "shop"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("products/<slug:slug>/", views.product, name="product"),
    path("products/<slug:slug>/image.png", views.garment_image, name="garment-image"),
    path("photos/<int:image_id>/", views.product_photo, name="product-photo"),
    path("products/<slug:slug>/try-on/", views.try_on, name="try-on"),
    # A look's id is a random UUID: its address cannot be guessed from another's.
    path("looks/<uuid:look_id>/", views.look_panel, name="look"),
    path("looks/<uuid:look_id>/image/", views.look_image, name="look-image"),
    path("outfits/", views.start_outfit, name="outfit-start"),
    path("outfits/<uuid:outfit_id>/", views.outfit, name="outfit"),
    path("outfits/<uuid:outfit_id>/continue/", views.continue_outfit, name="outfit-continue"),
    path(
        "outfits/<uuid:outfit_id>/steps/<int:order>/image/",
        views.outfit_step_image,
        name="outfit-step-image",
    ),
    path("models/<int:result_id>/thumbnail/", views.model_thumbnail, name="model-thumbnail"),
]
