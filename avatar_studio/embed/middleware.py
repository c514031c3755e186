"""Let the button's window keep its opener, so it can tell the shop's page it is done.

The site sends ``Cross-Origin-Opener-Policy: same-origin`` (settings), which cuts a popup off
from a cross-origin opener as soon as it loads one of our pages. The window's own pages, and the
log-in page on the way back to it, say ``unsafe-none`` instead. The shop's page can then still
reach our window only as any opener can: post messages to it, or navigate it; never read it.
"""

WINDOW_PREFIX = "/embed/"


class EmbedWindowOpenerMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(WINDOW_PREFIX) or _returns_to_window(request):
            response["Cross-Origin-Opener-Policy"] = "unsafe-none"
        return response


def _returns_to_window(request):
    # The login form posts to its own address, ?next= included: the query alone says it. (The
    # body is never read here: a view may have consumed it as a stream.)
    return request.GET.get("next", "").startswith(WINDOW_PREFIX)
