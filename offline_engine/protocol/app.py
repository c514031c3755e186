"""The engine's WSGI application: FASHN's HTTP protocol plus the ``/_engine`` control endpoints.

Routing, auth, rate limits, fault selection and the JSON/error shapes live here; predictions,
faults and rendering are delegated to their modules. Plain WSGI and no Django, so it runs under
any WSGI server and in-process in tests.

FASHN endpoints: ``POST /v1/run``, ``GET /v1/status/<id>``, ``GET /v1/credits`` (Bearer key), and
``GET /v1/outputs/<id>/<n>.<ext>`` (no auth, like a CDN). Control endpoints (same Bearer key):
``GET|POST /_engine/config``, ``GET|POST /_engine/faults``, ``POST /_engine/reset``,
``GET /_engine/stats``.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from ..errors import ApiError
from . import webhooks
from .config import EngineConfig
from .faults import FailureDice, Fault, FaultQueue, parse_faults, pick
from .inputs import MODEL_NAMES, RunInputs, TryOnMaxInputs, parse_run_body
from .model_runner import run_model
from .predictions import (
    TERMINAL,
    Prediction,
    PredictionStore,
    Schedule,
    SpreadDice,
    status_document,
)
from .ratelimit import SlidingWindowLimiter
from .stats import RequestStats

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 50 * 1024 * 1024
CREDITS_HEADER = "x-fashn-credits-used"
FAULT_HEADER = "HTTP_X_ENGINE_FAULT"
CHUNK = 64 * 1024


class Response:
    def __init__(
        self,
        status: int,
        body: bytes | Iterable[bytes] = b"",
        *,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        length: int | None = None,
        delay: float = 0.0,
    ) -> None:
        self.status = status
        self.body = body
        self.headers = {"Content-Type": content_type, **(headers or {})}
        self.length = len(body) if isinstance(body, bytes) else length
        self.delay = delay


def json_response(status: int, data: Any, **kwargs: Any) -> Response:
    return Response(status, json.dumps(data).encode(), **kwargs)


def error_response(error: ApiError, delay: float = 0.0) -> Response:
    headers = {}
    if error.retry_after is not None:
        headers["Retry-After"] = str(max(0, math.ceil(error.retry_after)))  # whole seconds
    return json_response(error.status, error.body(), headers=headers, delay=delay)


class Request:
    def __init__(self, environ: dict) -> None:
        self.environ = environ
        self.method = environ.get("REQUEST_METHOD", "GET").upper()
        self.path = environ.get("PATH_INFO", "") or "/"
        self.query = {
            k: v[-1] for k, v in urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).items()
        }

    def header(self, cgi_name: str) -> str | None:
        return self.environ.get(cgi_name)

    @property
    def base_url(self) -> str:
        """scheme://host[:port] as the client addressed us; the default for output URLs."""
        env = self.environ
        host = (
            env.get("HTTP_HOST")
            or f"{env.get('SERVER_NAME', '127.0.0.1')}:{env.get('SERVER_PORT', '80')}"
        )
        return f"{env.get('wsgi.url_scheme', 'http')}://{host}"

    def body(self) -> bytes:
        try:
            length = int(self.environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY_BYTES:
            raise ApiError(400, "BadRequest", "The request body is too large (over 50 MB).")
        return self.environ["wsgi.input"].read(length) if length > 0 else b""

    def json(self) -> Any:
        raw = self.body()
        if not raw.strip():
            raise ApiError(400, "BadRequest", "The request body must be JSON; it was empty.")
        try:
            return json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ApiError(400, "BadRequest", f"The request body is not valid JSON: {exc}.")


Handler = Callable[..., Response]


class EngineApp:
    """One engine: its config, predictions, limits, faults and counters, all in memory."""

    def __init__(self, config: EngineConfig | None = None, render: Callable | None = None) -> None:
        self.initial_config = config or EngineConfig()
        self.config = self.initial_config
        self._config_lock = threading.Lock()
        self.stats = RequestStats()
        self.limiter = SlidingWindowLimiter()
        self.faults = FaultQueue()
        self._seed_dice(self.config.fault_seed)
        self.store = PredictionStore(
            render or run_model, credits=self.config.credits, on_terminal=self._on_terminal
        )
        self.routes: list[tuple[str, re.Pattern, Handler]] = [
            ("POST", re.compile(r"/v1/run"), self.handle_run),
            ("GET", re.compile(r"/v1/status/(?P<prediction_id>[^/]+)"), self.handle_status),
            ("GET", re.compile(r"/v1/credits"), self.handle_credits),
            (
                "GET",
                re.compile(r"/v1/outputs/(?P<prediction_id>[^/]+)/(?P<index>\d+)\.(?P<ext>[a-z]+)"),
                self.handle_output,
            ),
            ("GET", re.compile(r"/_engine/config"), self.handle_get_config),
            ("POST", re.compile(r"/_engine/config"), self.handle_set_config),
            ("GET", re.compile(r"/_engine/faults"), self.handle_get_faults),
            ("POST", re.compile(r"/_engine/faults"), self.handle_add_faults),
            ("POST", re.compile(r"/_engine/reset"), self.handle_reset),
            ("GET", re.compile(r"/_engine/stats"), self.handle_stats),
            ("GET", re.compile(r"/"), self.handle_index),
        ]

    # --- the control API (shared by the HTTP endpoints and the in-process handle) -------------

    def configure(self, **fields: Any) -> EngineConfig:
        """Apply a partial config update; ValueError for unknown fields or bad values."""
        with self._config_lock:
            new = self.config.updated(fields)
            if "credits" in fields:
                self.store.set_balance(new.credits)
            if "fault_seed" in fields:
                self._seed_dice(new.fault_seed)
            self.config = new
            return new

    def add_faults(self, items: Any) -> int:
        """Queue fault items (one or a list); ValueError if any is invalid. Returns queue size."""
        return self.faults.add(parse_faults(items))

    def reset(self) -> None:
        """Forget predictions, counters, limits and faults; restore the starting config."""
        with self._config_lock:
            self.config = self.initial_config
            self.store.reset(self.initial_config.credits)
            self.stats.reset()
            self.limiter.reset()
            self.faults.clear()
            self._seed_dice(self.initial_config.fault_seed)

    def _seed_dice(self, seed: int) -> None:
        self.dice = FailureDice(seed)
        self.spread_dice = SpreadDice(seed)

    def stats_snapshot(self) -> dict[str, Any]:
        return {
            **self.stats.snapshot(),
            **self.store.snapshot(),
            "faults_pending": self.faults.pending(),
        }

    def close(self) -> None:
        self.store.close()

    # --- WSGI ---------------------------------------------------------------------------------

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except ApiError as error:
            response = error_response(error)
        except Exception:
            log.exception("unexpected error answering %s %s", request.method, request.path)
            response = error_response(
                ApiError(500, "InternalServerError", "An unexpected error occurred in the engine.")
            )
        if response.status >= 400:
            self.stats.rejected(_error_type(response))
        if response.delay > 0:
            time.sleep(response.delay)  # fault injection: provoke client read timeouts
        headers = list(response.headers.items())
        if response.length is not None:
            headers.append(("Content-Length", str(response.length)))
        start_response(f"{response.status} {_phrase(response.status)}", headers)
        return [response.body] if isinstance(response.body, bytes) else response.body

    def dispatch(self, request: Request) -> Response:
        allowed = []
        for method, pattern, handler in self.routes:
            match = pattern.fullmatch(request.path)
            if match:
                if method == request.method:
                    return handler(request, **match.groupdict())
                allowed.append(method)
        if allowed:
            raise ApiError(
                405, "MethodNotAllowed", f"Use {' or '.join(allowed)} for {request.path}."
            )
        raise ApiError(404, "NotFound", f"No such endpoint: {request.path}.")

    # --- shared steps -------------------------------------------------------------------------

    def _authenticate(self, request: Request) -> str:
        header = request.header("HTTP_AUTHORIZATION")
        if not header:
            raise ApiError(401, "UnauthorizedAccess", "Unauthorized: Missing Authorization header")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.encode(), self.config.api_key.encode()
        ):
            raise ApiError(401, "UnauthorizedAccess", "Unauthorized: Invalid token")
        return token

    def _limit(self, bucket: str, key: str, limit: int, window: float) -> None:
        wait = self.limiter.hit(bucket, key, limit, window)
        if wait is not None:
            raise ApiError(
                429,
                "RateLimitExceeded",
                f"Rate limit exceeded: at most {limit} requests per {window:g} seconds.",
                retry_after=wait,
            )

    def _header_faults(self, request: Request) -> list[Fault]:
        raw = request.header(FAULT_HEADER)
        if not raw:
            return []
        try:
            return parse_faults(json.loads(raw))
        except (json.JSONDecodeError, ValueError) as exc:
            raise ApiError(400, "BadRequest", f"Invalid X-Engine-Fault header: {exc}")

    def _on_terminal(self, p: Prediction) -> None:
        if p.webhook_url:
            doc = status_document(
                p, self.config.public_base_url or p.base_url, self.config.output_shape
            )
            webhooks.deliver_in_background(p.webhook_url, doc)

    # --- FASHN endpoints ----------------------------------------------------------------------

    def handle_run(self, request: Request) -> Response:
        self.stats.called("run")
        key = self._authenticate(request)
        header_faults = self._header_faults(request)
        config = self.config
        self._limit("run", key, config.run_limit, config.run_window_seconds)
        fault = pick(header_faults, self.faults, "run")
        delay = fault.delay_seconds if fault else 0.0
        if fault and fault.api_error():
            return error_response(fault.api_error(), delay)  # refused: no prediction

        inputs = parse_run_body(request.json())
        webhook_url = request.query.get("webhook_url") or None
        prediction = self.store.create(
            inputs,
            schedule=schedule_for(config, inputs),
            max_in_flight=config.max_in_flight,
            base_url=request.base_url,
            webhook_url=webhook_url,
            claim_fault=lambda: pick(header_faults, self.faults, "prediction"),
            roll_failure=lambda: self.dice.roll(config.failure_rates),
            draw_processing_factor=lambda: self.spread_dice.factor(config.processing_spread),
        )
        if fault and fault.malformed:
            # Like a proxy mangling the answer: the prediction exists, the body is not JSON.
            return Response(200, f'{{"id": "{prediction.id}", "err'.encode(), delay=delay)
        return json_response(200, {"id": prediction.id, "error": None}, delay=delay)

    def handle_status(self, request: Request, prediction_id: str) -> Response:
        self.stats.called("status")
        key = self._authenticate(request)
        header_faults = self._header_faults(request)
        config = self.config
        self._limit("status", key, config.status_limit, config.status_window_seconds)
        fault = pick(header_faults, self.faults, "status")
        delay = fault.delay_seconds if fault else 0.0
        if fault and fault.api_error():
            return error_response(fault.api_error(), delay)

        prediction = self.store.get(prediction_id)
        if prediction is None:
            raise ApiError(404, "NotFound", f"Prediction {prediction_id} was not found.")
        corrupt = False
        if prediction.status == "completed" and prediction.inputs.return_base64:
            # An "expired" output fault turns base64 outputs into data URIs that do not decode.
            corrupt = pick(header_faults, self.faults, "output", lambda f: f.expired) is not None
        doc = status_document(
            prediction, config.public_base_url or request.base_url, config.output_shape, corrupt
        )
        headers = {}
        if prediction.status in TERMINAL:
            headers[CREDITS_HEADER] = str(prediction.credits_used)
        if fault and fault.malformed:
            return Response(
                200,
                b"<html><body>502 Bad Gateway</body></html>",
                headers=headers,
                content_type="application/json",
                delay=delay,
            )
        return json_response(200, doc, headers=headers, delay=delay)

    def handle_credits(self, request: Request) -> Response:
        self.stats.called("credits")
        key = self._authenticate(request)
        config = self.config
        self._limit("credits", key, config.credits_limit, config.credits_window_seconds)
        balance = self.store.balance()
        # Shape from docs.fashn.ai/utility-endpoints/credits. The engine has no subscription
        # plan, so the whole balance is reported as on-demand credits.
        return json_response(
            200, {"credits": {"total": balance, "subscription": 0, "on_demand": balance}}
        )

    def handle_output(self, request: Request, prediction_id: str, index: str, ext: str) -> Response:
        self.stats.called("output")
        header_faults = self._header_faults(request)
        fault = pick(header_faults, self.faults, "output")
        delay = fault.delay_seconds if fault else 0.0
        if fault and fault.api_error():
            return error_response(fault.api_error(), delay)
        if fault and fault.expired:
            return error_response(ApiError(404, "NotFound", "This output has expired."), delay)

        prediction = self.store.output(prediction_id, int(index), ext)
        if prediction is None:
            return error_response(ApiError(404, "NotFound", "No such output."), delay)
        content_type = prediction.content_type
        if fault and fault.not_image:
            # A CDN error page served with an image content type: clients must check the bytes.
            page = b"<html><head><title>Error</title></head><body>AccessDenied</body></html>"
            return Response(200, page, content_type=content_type, delay=delay)
        if fault and fault.huge_bytes is not None:
            size = fault.huge_bytes
            return Response(200, _junk(size), content_type=content_type, length=size, delay=delay)
        image = prediction.images[int(index)]
        return Response(
            200,
            image,
            content_type=content_type,
            delay=delay,
            headers={"Cache-Control": "private, max-age=259200"},
        )

    # --- control endpoints --------------------------------------------------------------------

    def handle_index(self, request: Request) -> Response:
        return json_response(
            200, {"engine": "Avatar Studio offline FASHN engine", "models": list(MODEL_NAMES)}
        )

    def handle_get_config(self, request: Request) -> Response:
        self._authenticate(request)
        return json_response(200, self.config.as_dict())

    def handle_set_config(self, request: Request) -> Response:
        self._authenticate(request)
        changes = request.json()
        if not isinstance(changes, dict):
            raise ApiError(400, "BadRequest", "The config update must be a JSON object.")
        try:
            config = self.configure(**changes)
        except ValueError as exc:
            raise ApiError(400, "BadRequest", str(exc))
        return json_response(200, config.as_dict())

    def handle_get_faults(self, request: Request) -> Response:
        self._authenticate(request)
        return json_response(200, {"faults": self.faults.pending()})

    def handle_add_faults(self, request: Request) -> Response:
        self._authenticate(request)
        try:
            self.add_faults(request.json())
        except ValueError as exc:
            raise ApiError(400, "BadRequest", str(exc))
        return json_response(200, {"faults": self.faults.pending()})

    def handle_reset(self, request: Request) -> Response:
        self._authenticate(request)
        self.reset()
        return json_response(200, {"reset": True})

    def handle_stats(self, request: Request) -> Response:
        self._authenticate(request)
        return json_response(200, self.stats_snapshot())


def schedule_for(config: EngineConfig, inputs: RunInputs) -> Schedule:
    """The states' durations for a new prediction: processing by the model's mode."""
    if isinstance(inputs, TryOnMaxInputs):
        processing = config.tryon_max_processing_seconds_for(inputs.generation_mode)
    else:
        processing = config.processing_seconds_for(getattr(inputs, "generation_mode", None))
    return Schedule(config.starting_seconds, config.in_queue_seconds, processing)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _error_type(response: Response) -> str:
    if isinstance(response.body, bytes):
        try:
            return str(json.loads(response.body).get("error") or response.status)
        except (ValueError, AttributeError):
            pass
    return str(response.status)


def _junk(size: int) -> Iterable[bytes]:
    block = bytes(range(256)) * (CHUNK // 256)
    while size > 0:
        yield block[: min(size, CHUNK)]
        size -= CHUNK
