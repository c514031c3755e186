"""The public showcase: avatars their owners offered and staff approved, for anyone on the web.

Everything here reads through ``selectors.approved_public_avatars()`` on every request, so a
withdrawn, rejected or deleted avatar (or one whose owner was deactivated) disappears from the
showcase, the examples on the landing page and the store, and its picture's address, at once.
Only the picture is shown: no owner, selfie, inputs or job address.
"""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from . import selectors
from .media import public_file_response

SHOWCASE_PAGE_SIZE = 24
EXAMPLE_COUNT = 4


def pictures(jobs):
    """The picture that stands for each avatar, skipping any that has none."""
    return [result for job in jobs if (result := job.avatar_result)]


def examples(count=EXAMPLE_COUNT):
    """A few approved avatars for visitors' eyes (the landing page, the store): the newest."""
    return pictures(selectors.approved_public_avatars()[:count])


# The page is the same for everyone, but it must not be served from a cache after a withdrawal.
@cache_control(no_cache=True)
@require_GET
def showcase(request):
    page = Paginator(selectors.approved_public_avatars(), SHOWCASE_PAGE_SIZE)
    page = page.get_page(request.GET.get("page"))
    return render(
        request, "avatars/showcase.html", {"page": page, "pictures": pictures(page.object_list)}
    )


@require_GET
def showcase_image(request, result_id):
    return public_file_response(selectors.public_result(result_id).thumbnail)
