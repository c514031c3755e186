"""URL patterns of the owner's public-display choices, for the ``avatars`` namespace.

Wired into ``avatars/urls.py`` with ``urlpatterns += review_urls.urlpatterns``.
"""

from django.urls import path

from . import review_views

urlpatterns = [
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
