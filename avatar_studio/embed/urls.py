from django.urls import path

from . import views

app_name = "embed"

urlpatterns = [
    path("try/", views.try_window, name="try"),
    # An embedded look's id is a random UUID: its address cannot be guessed from another's.
    path("looks/<uuid:embed_look_id>/", views.look, name="look"),
    path("looks/<uuid:embed_look_id>/panel/", views.look_panel, name="look-panel"),
    path("looks/<uuid:embed_look_id>/retry/", views.retry_look, name="look-retry"),
]
