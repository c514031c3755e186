"""The FASHN HTTP client: submit a prediction, read its status, read the credit balance.

Each method makes exactly one HTTP request and turns every failure into a typed
``FashnError``. The client never retries: a second ``/v1/run`` can create a second
prediction and charge the user twice, and the pipeline, not this module, knows when
polling again is worth it.
"""

from __future__ import annotations

import email.utils
import json
import math
import time
from typing import Any
from urllib.parse import quote, urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from .errors import (
    BadRequestError,
    ConcurrencyLimitError,
    ConfigurationError,
    FashnConnectionError,
    FashnError,
    FashnHTTPError,
    FashnTimeoutError,
    NotFoundError,
    OutOfCreditsError,
    ProtocolError,
    RateLimitError,
    ServerError,
    UnauthorizedError,
)
from .types import (
    CREDITS_USED_HEADER,
    FACE_TO_MODEL,
    TRYON,
    TRYON_MAX,
    Credits,
    FaceToModelInputs,
    Prediction,
    TryOnInputs,
    TryOnMaxInputs,
)

__all__ = ["DEFAULT_BASE_URL", "USER_AGENT", "FashnClient", "parse_retry_after"]

DEFAULT_BASE_URL = "https://api.fashn.ai"
USER_AGENT = "avatar-studio"

# Gateway answers: the gateway may have forwarded the run before giving up on FASHN.
_GATEWAY_STATUSES = frozenset({502, 504})


class FashnClient:
    """One FASHN account at one base URL (the real API or the offline engine).

    ``session`` lets callers add default headers or adapters; the client mounts its own
    no-retry adapter for ``base_url`` on it, so nothing underneath can re-send a run.
    """

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        session: requests.Session | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("api_key is required")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"base_url must be an http(s) URL; got {base_url!r}")
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()
        # requests' default adapter already makes no retries; mounting our own guarantees it
        # even when the caller's session carries a retrying adapter.
        self.session.mount(self.base_url + "/", HTTPAdapter(max_retries=0))

    def __repr__(self) -> str:
        return f"FashnClient(base_url={self.base_url!r}, api_key='***')"

    def close(self) -> None:
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> FashnClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- endpoints --------------------------------------------------------------------

    def run_face_to_model(
        self, inputs: FaceToModelInputs, *, webhook_url: str | None = None
    ) -> str:
        """Submit a face-to-model prediction; return its id. Sent once, never retried."""
        _require(inputs, FaceToModelInputs)
        return self.run(FACE_TO_MODEL, inputs.to_payload(), webhook_url=webhook_url)

    def run_tryon(self, inputs: TryOnInputs, *, webhook_url: str | None = None) -> str:
        """Submit a tryon-v1.6 prediction; return its id. Sent once, never retried."""
        _require(inputs, TryOnInputs)
        return self.run(TRYON, inputs.to_payload(), webhook_url=webhook_url)

    def run_tryon_max(self, inputs: TryOnMaxInputs, *, webhook_url: str | None = None) -> str:
        """Submit a tryon-max prediction; return its id. Sent once, never retried."""
        _require(inputs, TryOnMaxInputs)
        return self.run(TRYON_MAX, inputs.to_payload(), webhook_url=webhook_url)

    def run(
        self, model_name: str, inputs: dict[str, Any], *, webhook_url: str | None = None
    ) -> str:
        """Send ``POST /v1/run`` with an already built ``inputs`` payload; return the id.

        The wire form under ``run_face_to_model``, ``run_tryon`` and ``run_tryon_max``, the way to
        submit: they send validated inputs under the model name that matches them. Nothing
        here checks ``inputs`` against ``model_name``.
        """
        params = {"webhook_url": webhook_url} if webhook_url else None
        response = self._request(
            "POST",
            "/v1/run",
            json={"model_name": model_name, "inputs": inputs},
            params=params,
            is_run=True,
        )
        data = self._decode(response, "POST /v1/run", is_run=True)
        prediction_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(prediction_id, str) or not prediction_id:
            raise ProtocolError(
                f"POST /v1/run answered {response.status_code} without a prediction id",
                maybe_submitted=True,
            )
        return prediction_id

    def status(self, prediction_id: str) -> Prediction:
        """Read a prediction's status once."""
        if not prediction_id:
            raise ValueError("prediction_id is required")
        what = f"GET /v1/status/{prediction_id}"
        response = self._request("GET", f"/v1/status/{quote(prediction_id, safe='')}")
        data = self._decode(response, what)
        prediction = Prediction.from_response(
            data, credits_used=_parse_int(response.headers.get(CREDITS_USED_HEADER))
        )
        if prediction.id != prediction_id:
            # Acting on another prediction's result would attach a stranger's image to a job.
            raise ProtocolError(f"{what} answered for another prediction {prediction.id!r}")
        return prediction

    def credits(self) -> Credits:
        """Read the account's credit balance."""
        response = self._request("GET", "/v1/credits")
        return Credits.from_response(self._decode(response, "GET /v1/credits"))

    # --- plumbing ---------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        is_run: bool = False,
        **kwargs: Any,
    ) -> requests.Response:
        what = f"{method} {path.split('?')[0]}"
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        }
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
                **kwargs,
            )
        except requests.RequestException as exc:
            raise self._scrub(transport_error(exc, what, may_have_sent=is_run)) from exc
        if response.status_code >= 300:
            raise self._scrub(http_error(response, what, is_run=is_run))
        return response

    def _decode(self, response: requests.Response, what: str, *, is_run: bool = False) -> Any:
        try:
            return response.json()
        except ValueError:
            raise self._scrub(
                ProtocolError(
                    f"{what} answered {response.status_code} with a body that is not JSON: "
                    f"{response.text[:100]!r}",
                    maybe_submitted=is_run,
                )
            ) from None

    def _scrub(self, error: FashnError) -> FashnError:
        # Belt and braces: no message we build contains the key, but a server could echo it,
        # and an error about a malformed key quotes it, perhaps escaped (repr).
        for form in {self._api_key, repr(self._api_key)[1:-1]}:
            if form and form in error.message:
                error.message = error.message.replace(form, "***")
        error.args = (error.message,)
        return error


def http_error(response: requests.Response, what: str, *, is_run: bool = False) -> FashnHTTPError:
    """The typed error for a non-2xx answer (also used for output downloads)."""
    status = response.status_code
    error_type, message = _error_body(response)
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    text = f"{what} answered {status}"
    if error_type:
        text += f" {error_type}"
    if message:
        text += f": {message}"
    fields = {"status_code": status, "error_type": error_type, "retry_after": retry_after}
    if status == 400:
        return BadRequestError(text, **fields)
    if status == 401:
        return UnauthorizedError(text, **fields)
    if status == 404:
        return NotFoundError(text, **fields)
    if status == 429:
        if error_type == "ConcurrencyLimitExceeded":
            return ConcurrencyLimitError(text, **fields)
        if error_type == "OutOfCredits":
            return OutOfCreditsError(text, **fields)
        # RateLimitExceeded, and any 429 we do not know: a 429 always means "slow down".
        return RateLimitError(text, **fields)
    if status >= 500:
        return ServerError(text, maybe_submitted=is_run and status in _GATEWAY_STATUSES, **fields)
    # 3xx (redirects are not followed: a redirected POST would be re-sent) and other 4xx.
    return FashnHTTPError(text, retryable=status == 408, **fields)


def transport_error(
    exc: requests.RequestException, what: str, *, may_have_sent: bool
) -> FashnError:
    """The typed error for a request that got no HTTP answer.

    ``may_have_sent`` is True for /v1/run: then anything past connection setup means the
    server may have received it.
    """
    if isinstance(exc, _NOT_SENDABLE):
        return ConfigurationError(f"{what}: the request could not be built ({exc})")
    if isinstance(exc, requests.ConnectTimeout):
        return FashnConnectionError(f"{what}: connect timed out", maybe_submitted=False)
    if isinstance(exc, requests.ReadTimeout):
        return FashnTimeoutError(f"{what}: no answer in time", maybe_submitted=may_have_sent)
    reason = _root_reason(exc)
    if isinstance(exc, requests.ConnectionError) and _never_connected(exc, reason):
        return FashnConnectionError(
            f"{what}: could not connect ({_describe(reason)})", maybe_submitted=False
        )
    if isinstance(reason, urllib3.exceptions.ReadTimeoutError):
        # A read timeout while streaming a body surfaces as ConnectionError in requests.
        return FashnTimeoutError(f"{what}: no answer in time", maybe_submitted=may_have_sent)
    return FashnConnectionError(
        f"{what}: connection failed ({_describe(reason)})", maybe_submitted=may_have_sent
    )


# Raised while preparing the request, before any connection: bad header value, bad URL.
_NOT_SENDABLE = (
    requests.exceptions.InvalidHeader,
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
)


def _root_reason(exc: BaseException) -> object:
    reason: object = exc.args[0] if exc.args else exc
    if isinstance(reason, urllib3.exceptions.MaxRetryError) and reason.reason is not None:
        reason = reason.reason
    return reason


def _never_connected(exc: requests.RequestException, reason: object) -> bool:
    # Refused, DNS failure, TLS handshake or connect timeout: no byte of the request left us.
    return isinstance(exc, requests.exceptions.SSLError | requests.exceptions.ProxyError) or (
        isinstance(
            reason,
            urllib3.exceptions.NewConnectionError
            | urllib3.exceptions.ConnectTimeoutError
            | urllib3.exceptions.NameResolutionError
            | urllib3.exceptions.SSLError,
        )
    )


def _describe(reason: object) -> str:
    # urllib3 messages can carry the URL and its query (a webhook URL may hold a token):
    # keep only the last clause, e.g. "[Errno 111] Connection refused".
    if isinstance(reason, urllib3.exceptions.ProtocolError) and len(reason.args) > 1:
        return f"{reason.args[0]} {type(reason.args[1]).__name__}"
    text = str(reason)
    return text.rsplit(": ", 1)[-1] if ": " in text else text or type(reason).__name__


def _error_body(response: requests.Response) -> tuple[str | None, str]:
    try:
        body = response.json()
    except ValueError:
        return None, response.text[:200].strip()
    if not isinstance(body, dict):
        return None, json.dumps(body)[:200]
    error_type = body.get("error")
    message = body.get("message")
    if isinstance(error_type, dict):  # some gateways nest {"error": {"type", "message"}}
        message = message or error_type.get("message")
        error_type = error_type.get("type") or error_type.get("name")
    return (
        error_type if isinstance(error_type, str) and error_type else None,
        message if isinstance(message, str) else "",
    )


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), else None."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - time.time()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _require(inputs: object, expected: type) -> None:
    # Other inputs under this model name would reach FASHN and come back as a 400 that ends the
    # job; refusing before anything is sent points at the caller's bug instead.
    if not isinstance(inputs, expected):
        raise TypeError(f"expected {expected.__name__}, got {type(inputs).__name__}")


def _parse_int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        try:
            return int(float(value))
        except (ValueError, OverflowError):
            return None
