"""Serving private files (selfies, avatars) after the view has checked who may see them.

Three paths, chosen by configuration: a short-lived signed URL when the storage signs them (S3),
``X-Accel-Redirect`` to an nginx ``internal`` location when ``MEDIA_ACCEL_REDIRECT_PREFIX`` is
set, and otherwise Django streaming the file itself (development, small deployments).
"""

import mimetypes
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect


def private_file_response(field_file, *, download_name=None):
    if not field_file:
        raise Http404("The file is gone.")
    content_type = mimetypes.guess_type(field_file.name)[0] or "application/octet-stream"
    disposition = _content_disposition(download_name)
    storage = field_file.storage

    if not isinstance(storage, FileSystemStorage):
        parameters = {"ResponseContentDisposition": disposition} if download_name else None
        return HttpResponseRedirect(storage.url(field_file.name, parameters=parameters))

    if settings.MEDIA_ACCEL_REDIRECT_PREFIX:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.MEDIA_ACCEL_REDIRECT_PREFIX + quote(field_file.name)
    else:
        try:
            handle = field_file.open("rb")
        except FileNotFoundError:
            raise Http404("The file is gone.") from None
        response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = disposition
    # Private to the browser that fetched it: no shared cache may keep someone's face.
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _content_disposition(download_name):
    if download_name:
        return f'attachment; filename="{download_name}"'
    return "inline"


def public_file_response(field_file):
    """A file anyone may see only while a rule allows it (an approved avatar's picture).

    Served through our own URL on every request, so the first request after a withdrawal gets
    404: never a redirect to a signed storage URL (it would keep working for minutes), and never
    kept by a browser or shared cache.
    """
    if not field_file:
        raise Http404("The file is gone.")
    if isinstance(field_file.storage, FileSystemStorage):
        response = private_file_response(field_file)
    else:
        content_type = mimetypes.guess_type(field_file.name)[0] or "application/octet-stream"
        try:
            response = FileResponse(field_file.open("rb"), content_type=content_type)
        except FileNotFoundError:
            raise Http404("The file is gone.") from None
    response["Cache-Control"] = "no-store"
    return response
