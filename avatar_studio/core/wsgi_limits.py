"""The cap on request bodies at the server, around the WSGI application (``avatar_studio.wsgi``).

gunicorn has no body-size option, and Django spools an upload to disk before anything looks at
its size. So the application gunicorn runs is wrapped here, with REQUEST_MAX_BODY_BYTES:

- a declared Content-Length over the cap is answered 413 at once: the body is never read and
  Django never sees the request (gunicorn drains at most 64 KB of it, then closes);
- a body without a length (Transfer-Encoding: chunked) is read here, into memory and then an
  unnamed temporary file, and refused with 413 as soon as it passes the cap. Under the cap it is
  handed on with its length, which Django needs to read a body at all (without one it reads
  nothing).
"""

import tempfile

from django.conf import settings

from .request_limits import max_body_bytes, too_large_response
from .security import build_policy

READ_SIZE = 64 * 1024


class BodyLimit:
    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        limit = max_body_bytes()
        declared = environ.get("CONTENT_LENGTH", "")
        if declared.isdigit():
            if int(declared) > limit:
                return _refuse(environ, start_response, limit)
            return self.application(environ, start_response)
        if "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            return self.application(environ, start_response)
        body, size = _read_at_most(environ["wsgi.input"], limit)
        if body is None:
            return _refuse(environ, start_response, limit)
        environ = {**environ, "wsgi.input": body, "CONTENT_LENGTH": str(size)}
        try:
            response = self.application(environ, start_response)
        except BaseException:
            body.close()
            raise
        return _ClosingResponse(response, body)


def _read_at_most(stream, limit):
    """The body in a file, and its size; (None, size) once it passes ``limit``. Never more than
    ``limit`` bytes are kept, and a file on disk has no name, so nothing is left behind."""
    body = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed here or by _ClosingResponse
        max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE, dir=settings.FILE_UPLOAD_TEMP_DIR
    )
    size = 0
    while chunk := stream.read(READ_SIZE):
        size += len(chunk)
        if size > limit:
            body.close()
            return None, size
        body.write(chunk)
    body.seek(0)
    return body, size


def _refuse(environ, start_response, limit):
    response = too_large_response(environ.get("PATH_INFO", ""), limit)
    # Django's middleware never sees this answer: the headers it would add to any page, here.
    response["Content-Length"] = str(len(response.content))
    response["Content-Security-Policy"] = build_policy()
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Frame-Options"] = settings.X_FRAME_OPTIONS
    start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
    return [response.content]


class _ClosingResponse:
    """The application's response, closing the spooled body once the server is done with it."""

    def __init__(self, response, body):
        self.response = response
        self.body = body

    def __iter__(self):
        return iter(self.response)

    def close(self):
        try:
            if hasattr(self.response, "close"):
                self.response.close()
        finally:
            self.body.close()
