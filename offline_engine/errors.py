"""The two kinds of failure the engine reports, mirroring FASHN's split.

``ApiError`` is an API-level rejection: an HTTP error status with a ``{"error", "message"}`` body,
answered before (or instead of) issuing a prediction id. ``RuntimeFailure`` is an error that
happens while a prediction runs: the HTTP status stays 200 and the prediction ends ``failed`` with
``error: {"name", "message"}``.
"""

from __future__ import annotations

# Default error type for an HTTP status, used when a fault item names only a status code.
DEFAULT_ERROR_TYPES = {
    400: "BadRequest",
    401: "UnauthorizedAccess",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    408: "RequestTimeout",
    409: "Conflict",
    429: "RateLimitExceeded",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


class ApiError(Exception):
    """An HTTP-level error answer: ``status`` with body ``{"error": type, "message": message}``."""

    def __init__(
        self,
        status: int,
        error: str | None = None,
        message: str = "",
        *,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.error = error or DEFAULT_ERROR_TYPES.get(status, "InternalServerError")
        self.message = message or self.error
        self.retry_after = retry_after
        super().__init__(f"{status} {self.error}: {self.message}")

    def body(self) -> dict:
        return {"error": self.error, "message": self.message}


class RuntimeFailure(Exception):
    """A prediction-time error: the prediction ends ``failed`` with this name and message."""

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        self.message = message
        super().__init__(f"{name}: {message}")

    def as_dict(self) -> dict:
        return {"name": self.name, "message": self.message}


# Messages a person can act on, for runtime errors raised by fault injection or failure rates.
DEFAULT_RUNTIME_MESSAGES = {
    "ImageLoadError": "The face image could not be loaded. Check that the URL is reachable "
    "or that the base64 string carries a data:image/...;base64, prefix.",
    "ContentModerationError": "The face image was flagged by content moderation.",
    "InputValidationError": "The inputs could not be used to create an avatar.",
    "ThirdPartyError": "A third-party processor failed or refused the request. Please retry.",
    "UnavailableError": "The service is temporarily unavailable. Please retry.",
    "PipelineError": "An unexpected error occurred while creating the avatar. Please retry; "
    "failed attempts are not charged.",
    "PoseError": "The body pose could not be detected.",
    "3rdPartyProviderError": "A third-party provider failed. Please retry.",
    "InternalServerError": "An internal error occurred. Please retry.",
}


def runtime_message(name: str) -> str:
    return DEFAULT_RUNTIME_MESSAGES.get(name, f"The prediction failed with {name}.")
