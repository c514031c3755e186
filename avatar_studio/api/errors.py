"""One JSON shape for every API error: ``{"error": {"code", "message", "fields"}}``.

``message`` is a sentence for a person (for a bad field, that field's message, the same words the
browser form shows); ``fields`` maps field names to their messages and is empty otherwise.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.views import exception_handler

from avatar_studio.avatars.refusals import STORAGE_UNAVAILABLE, Refused

NOT_FOUND_MESSAGE = "No such avatar."
# A refused action is a conflict with the avatar's state, except these.
_REFUSAL_STATUS = {
    "quota_exceeded": status.HTTP_429_TOO_MANY_REQUESTS,
    STORAGE_UNAVAILABLE.code: status.HTTP_503_SERVICE_UNAVAILABLE,
}

_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.ParseError: "parse_error",
    exceptions.Throttled: "throttled",
    exceptions.ValidationError: "invalid",
}


class RefusedAction(exceptions.APIException):
    """A service's ``Refused``, answered with its own code and words (409; 429 for quota, 503
    when our storage is out of reach)."""

    def __init__(self, refusal):
        super().__init__(refusal.message, refusal.code)
        self.status_code = _REFUSAL_STATUS.get(refusal.code, status.HTTP_409_CONFLICT)
        self.refusal_code = refusal.code
        self.wait = refusal.retry_after  # DRF sends it as Retry-After


def error_body(code, message, fields=None):
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def api_exception_handler(exc, context):
    if isinstance(exc, Refused):
        exc = RefusedAction(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(NOT_FOUND_MESSAGE)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: Django logs it and answers 500
    if isinstance(exc, exceptions.ValidationError):
        fields = _field_messages(exc.detail)
        message = _first_message(fields) or "The request is not valid."
        response.data = error_body("invalid", message, fields)
    else:
        code = _code(exc)
        message = str(exc.detail)
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            message = f"Too many requests. Try again in {int(exc.wait) + 1} seconds."
        response.data = error_body(code, message)
    return response


def _code(exc):
    if isinstance(exc, RefusedAction):
        return exc.refusal_code
    for kind in type(exc).__mro__:
        if kind in _CODES:
            return _CODES[kind]
    return getattr(exc, "default_code", "error")


def _field_messages(detail):
    """``{"field": ["message", ...]}`` from DRF's nested detail; other errors under "non_field"."""
    if isinstance(detail, list):
        return {"non_field_errors": [str(item) for item in _flatten(detail)]}
    return {name: [str(item) for item in _flatten(value)] for name, value in detail.items()}


def _flatten(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _flatten(item)
    elif isinstance(value, list):
        for item in value:
            yield from _flatten(item)
    else:
        yield value


def _first_message(fields):
    for messages in fields.values():
        if messages:
            return messages[0]
    return ""


@csrf_exempt
def not_found(request, *args, **kwargs):
    """Unknown paths under /api/ answer in the API's shape too, not with an HTML page."""
    return JsonResponse(error_body("not_found", "There is no such API endpoint."), status=404)
