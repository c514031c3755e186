"""The cap on request bodies inside Django: REQUEST_MAX_BODY_BYTES, enforced while a body is read.

The server refuses longer bodies before Django sees them (``wsgi_limits``). Here the same cap
holds for whatever reaches Django another way (runserver, the test client, a server without that
wrapper): ``BodyLimitUploadHandler`` refuses an upload whose declared length passes it before
reading a byte, and stops reading one whose files pass it, closing (so deleting) every temporary
file it had; ``RequestBodyLimitMiddleware`` answers such a request 413, and ``too_large_response``
is the one answer both layers give: an HTML page, or the API's error shape under /api/.
"""

from django.conf import settings
from django.core.exceptions import BadRequest
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

from avatar_studio.api.errors import error_body
from avatar_studio.api.parsers import RequestTooLarge

MB = 1024 * 1024
# Set on a request whose body was refused (to the cap), for the middleware.
REFUSED_ATTRIBUTE = "request_body_refused_over"


def max_body_bytes():
    return settings.REQUEST_MAX_BODY_BYTES


def too_large_message(limit):
    return (
        f"The upload is too large: over {_megabytes(limit)} MB, more than this site accepts. "
        f"A selfie may be at most {_megabytes(settings.SELFIE_MAX_UPLOAD_BYTES)} MB: choose a "
        "smaller photo (most phones can share or export one at a smaller size) and upload it "
        "again."
    )


def too_large_response(path, limit):
    """413 with a message saying what to do: the API's error shape under /api/, else a page."""
    message = too_large_message(limit)
    if path.startswith("/api/"):
        body = error_body(RequestTooLarge.default_code, message)
        return JsonResponse(body, status=RequestTooLarge.status_code)
    # A page of its own, like 500.html: the server layer renders it without a request.
    page = render_to_string("413.html", {"message": message})
    return HttpResponse(page, status=RequestTooLarge.status_code)


class RequestBodyTooLarge(BadRequest):
    """Raised out of the request's parsing. A BadRequest, so that without the middleware Django
    still answers 400, never 500."""

    def __init__(self, limit):
        super().__init__(too_large_message(limit))
        self.limit = limit


class BodyLimitUploadHandler(FileUploadHandler):
    """First of FILE_UPLOAD_HANDLERS: it sees every chunk of every uploaded file before the
    handlers after it keep it (in memory, or in a temporary file), and stops the upload once the
    files together pass the cap, so no more than the cap is ever written."""

    def __init__(self, request=None):
        super().__init__(request)
        self.limit = max_body_bytes()
        self.received = 0
        self.refused = False
        self.finished_files = []

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > self.limit:  # declared: refused before a byte is read
            self._mark_refused()
            raise RequestBodyTooLarge(self.limit)
        return None

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self._mark_refused()
            # Django closes the files being written (a temporary file deletes itself on close)
            # and, with connection_reset, reads nothing more; upload_complete then raises.
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        # Called before the next handlers' file_complete, so their ``file`` (the attribute
        # Django's own clean-up relies on) is still the file just finished: kept, to be closed
        # if a later file is refused, since Django closes only the one being written.
        others = self.request.upload_handlers if self.request is not None else []
        self.finished_files += [h.file for h in others if h is not self and hasattr(h, "file")]
        return None

    def upload_complete(self):
        if self.refused:
            for file in self.finished_files:
                file.close()
            raise RequestBodyTooLarge(self.limit)
        return None

    def _mark_refused(self):
        self.refused = True
        if self.request is not None:
            setattr(self.request, REFUSED_ATTRIBUTE, self.limit)
            # Empty form data from now on, as after a parse error: else the next reader (the
            # 400 page's CSRF token, a view) would parse the body again and be refused again.
            self.request._mark_post_parse_error()


class RequestBodyLimitMiddleware:
    """Answers 413 for a request whose body the upload handler refused, wherever its parsing
    ran: in a view (``process_exception``), or in CsrfViewMiddleware reading the form, which
    Django has turned into a 400 before the response comes back here."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        limit = getattr(request, REFUSED_ATTRIBUTE, None)
        if limit is not None and response.status_code != RequestTooLarge.status_code:
            return too_large_response(request.path_info, limit)
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, RequestBodyTooLarge):
            return too_large_response(request.path_info, exception.limit)
        return None


def _megabytes(size):
    return f"{size / MB:.1f}".removesuffix(".0")
