"""Exceptions raised by the FASHN client, each saying whether a retry can help.

The pipeline decides what to do from two attributes alone, in the spirit of healthchecks'
``TransportError(permanent=...)``:

- ``retryable``: the same request may succeed later (rate limits, 5xx, network trouble);
- ``maybe_submitted``: a ``/v1/run`` request may have reached FASHN and created a prediction
  whose id we never saw. Re-submitting could charge the user twice, so the caller must
  reconcile (or accept the risk knowingly) instead of blindly retrying.

Nothing here imports Django, and no message ever contains the API key.
"""

from __future__ import annotations

__all__ = [
    "BadRequestError",
    "ConcurrencyLimitError",
    "ConfigurationError",
    "FashnConnectionError",
    "FashnError",
    "FashnHTTPError",
    "FashnTimeoutError",
    "NotFoundError",
    "OutOfCreditsError",
    "OutputHostNotAllowedError",
    "OutputTooLargeError",
    "OutputUnavailableError",
    "ProtocolError",
    "RateLimitError",
    "ServerError",
    "UnauthorizedError",
]


class FashnError(Exception):
    """Base class of every error the client raises.

    ``retryable`` defaults to the class attribute, so ``except RateLimitError`` and
    ``if exc.retryable`` always agree; an instance may override it where the class alone
    cannot know (an unexpected HTTP status).
    """

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        retryable: bool | None = None,
        maybe_submitted: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        if retryable is not None:
            self.retryable = retryable
        self.maybe_submitted = maybe_submitted

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, retryable={self.retryable}, "
            f"maybe_submitted={self.maybe_submitted})"
        )


# --- HTTP answers -------------------------------------------------------------------------


class FashnHTTPError(FashnError):
    """FASHN answered with an HTTP error status.

    Raised as is for statuses the protocol does not document (403, 405, ...): permanent,
    except 408 which only says the request did not arrive in time.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        error_type: str | None = None,
        retry_after: float | None = None,
        retryable: bool | None = None,
        maybe_submitted: bool = False,
    ) -> None:
        super().__init__(message, retryable=retryable, maybe_submitted=maybe_submitted)
        self.status_code = status_code
        # FASHN's "error" field (e.g. "RateLimitExceeded"); None when the body had none.
        self.error_type = error_type
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, status_code={self.status_code}, "
            f"error_type={self.error_type!r}, retry_after={self.retry_after}, "
            f"retryable={self.retryable}, maybe_submitted={self.maybe_submitted})"
        )


class BadRequestError(FashnHTTPError):
    """400: FASHN rejected the inputs; the same request will be rejected again."""

    retryable = False


class UnauthorizedError(FashnHTTPError):
    """401: the API key is missing, wrong or revoked; an operator must fix the settings."""

    retryable = False


class NotFoundError(FashnHTTPError):
    """404: unknown endpoint or prediction id (status is kept for a limited time)."""

    retryable = False


class RateLimitError(FashnHTTPError):
    """429 RateLimitExceeded (or a 429 of unknown type): slow down and try again."""

    retryable = True


class ConcurrencyLimitError(FashnHTTPError):
    """429 ConcurrencyLimitExceeded: too many predictions in flight; retry once one ends."""

    retryable = True


class OutOfCreditsError(FashnHTTPError):
    """429 OutOfCredits: nothing will succeed until someone buys credits."""

    retryable = False


class ServerError(FashnHTTPError):
    """5xx: FASHN or a gateway in front of it failed; the request may succeed later.

    On /v1/run a 502 or 504 comes from a gateway that may already have forwarded the
    request, so ``maybe_submitted`` is set for those.
    """

    retryable = True


# --- Transport and protocol ---------------------------------------------------------------


class FashnConnectionError(FashnError):
    """The connection failed or dropped.

    ``maybe_submitted`` is False when the connection was never established (refused,
    connect timeout, DNS, TLS handshake) and True for a /v1/run whose connection broke
    after the request was sent.
    """

    retryable = True


class FashnTimeoutError(FashnError):
    """No answer within the read timeout; on /v1/run FASHN may have created a prediction."""

    retryable = True


class ProtocolError(FashnError):
    """FASHN answered something that does not follow the protocol (bad JSON, wrong shape).

    Retryable because the usual cause is a proxy or a transient server fault; a 2xx answer
    to /v1/run without a readable id sets ``maybe_submitted``.
    """

    retryable = True


class ConfigurationError(FashnError):
    """The request could not even be built: a malformed API key or base URL. Nothing was sent,
    and nothing will change until the configuration does."""

    retryable = False


# --- Output downloads ---------------------------------------------------------------------


class OutputUnavailableError(FashnError):
    """A prediction output cannot be fetched, now or later: gone, expired or not an image."""

    retryable = False


class OutputTooLargeError(OutputUnavailableError):
    """The output is bigger than the caller's ``max_bytes``; it will not shrink on retry."""


class OutputHostNotAllowedError(OutputUnavailableError):
    """The output URL (or a redirect) points outside the caller's ``allowed_hosts``."""
