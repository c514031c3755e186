"""Request parsers with a size bound: a JSON body may carry a selfie as a data URI, so it is
allowed a little more than the selfie limit as base64, and never read past that."""

import io

from django.conf import settings
from rest_framework import exceptions, renderers, status
from rest_framework.parsers import BaseParser, JSONParser

JSON_OVERHEAD_BYTES = 64 * 1024


class RequestTooLarge(exceptions.APIException):
    # Here rather than in ``errors``: DRF imports this module while ``rest_framework.views``
    # loads, which ``errors`` needs, so ``errors`` cannot be imported from here.
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = "The request body is too large."


def json_body_limit():
    return settings.SELFIE_MAX_UPLOAD_BYTES * 4 // 3 + JSON_OVERHEAD_BYTES


class BoundedJSONParser(BaseParser):
    """DRF's JSONParser, reading the body itself and no further than the bound.

    Not a subclass of it: DRF parses a JSONParser's body from ``request.body``, which Django
    refuses past DATA_UPLOAD_MAX_MEMORY_SIZE (2 MB, meant for forms), so a selfie as a data URI
    over about 1.5 MB was answered with a bare 400. This parser is handed the stream instead.
    """

    media_type = JSONParser.media_type
    renderer_class = renderers.JSONRenderer

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        limit = json_body_limit()
        length = request.META.get("CONTENT_LENGTH") if request is not None else None
        if length and length.isdigit() and int(length) > limit:
            raise RequestTooLarge(_too_large_message(limit))
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise RequestTooLarge(_too_large_message(limit))
        return JSONParser().parse(io.BytesIO(body), media_type, parser_context)


def _too_large_message(limit):
    selfie_mb = settings.SELFIE_MAX_UPLOAD_BYTES / (1024 * 1024)
    return (
        f"The request body is over {limit // (1024 * 1024)} MB. A selfie may be at most "
        f"{selfie_mb:g} MB; send a smaller photo, or upload it as a multipart file."
    )
