"""The in-memory prediction store: admission, the state schedule, rendering, credits.

A prediction's status follows the clock: ``starting`` for ``starting_seconds`` after creation,
``in_queue`` for ``in_queue_seconds``, then ``processing`` until ``processing_seconds`` (times a
seeded random factor under ``processing_spread``) have also passed AND its images are rendered
(rendering starts at once, in a thread pool, so ``/v1/run`` answers fast). Status is worked out
on demand and also by a timer at the due time, so the terminal state (credits, webhooks) happens
even if nobody polls. A terminal status never changes again.
"""

from __future__ import annotations

import base64
import dataclasses
import logging
import math
import random
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..errors import ApiError, RuntimeFailure, runtime_message
from .faults import Fault
from .inputs import RunInputs

log = logging.getLogger(__name__)

ACTIVE = ("starting", "in_queue", "processing")
TERMINAL = ("completed", "failed", "canceled", "time_out")
CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg"}
EXTENSIONS = {"png": "png", "jpeg": "jpg"}
MAX_KEPT_PREDICTIONS = 500  # with their images; the oldest finished ones are forgotten first
# Four 4k PNGs are about 100 MB: past this many bytes of kept images the oldest finished
# predictions are forgotten too, so a long run of big outputs cannot exhaust memory.
MAX_KEPT_IMAGE_BYTES = 1 << 30


@dataclass(frozen=True)
class Schedule:
    starting: float
    in_queue: float
    processing: float

    @property
    def total(self) -> float:
        return self.starting + self.in_queue + self.processing

    def stretched(self, factor: float) -> Schedule:
        return dataclasses.replace(self, processing=self.processing * factor)


class SpreadDice:
    """Seeded processing-time factors: the same seed gives the same sequence of durations."""

    def __init__(self, seed: int) -> None:
        # Its own stream, so spreading durations leaves the failure dice's outcomes as they were.
        self._rng = random.Random(f"processing-spread-{seed}")
        self._lock = threading.Lock()

    def factor(self, spread: float) -> float:
        """A factor drawn uniformly from [1 - spread, 1 + spread]; exactly 1 (no draw) for 0."""
        if not spread:
            return 1.0
        with self._lock:
            return self._rng.uniform(1.0 - spread, 1.0 + spread)


@dataclass(eq=False)
class Prediction:
    id: str
    inputs: RunInputs
    created: float
    schedule: Schedule
    base_url: str  # scheme://host of the /v1/run request, for webhook payloads
    webhook_url: str | None = None
    fault: Fault | None = None  # an "on": "prediction" fault attached at creation
    doomed: str | None = None  # runtime error chosen by failure_rates
    status: str = "starting"
    images: list[bytes] | None = None
    failure: RuntimeFailure | None = None
    error: dict[str, str] | None = None
    credits_used: int = 0
    rendered: bool = False
    timer: threading.Timer | None = field(default=None, repr=False)

    @property
    def cost(self) -> int:
        return self.inputs.credits  # per FASHN's prices: pricing.py

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.inputs.output_format]

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.inputs.output_format]

    @property
    def hangs(self) -> bool:
        return bool(self.fault and self.fault.hang)

    @property
    def image_bytes(self) -> int:
        return sum(len(image) for image in self.images or [])

    def data_uris(self) -> list[str]:
        prefix = f"data:{self.content_type};base64,"
        return [prefix + base64.b64encode(image).decode("ascii") for image in self.images or []]


def status_document(
    p: Prediction, base_url: str, output_shape: str = "list", corrupt_base64: bool = False
) -> dict[str, Any]:
    """The ``GET /v1/status/<id>`` body (also the webhook payload)."""
    output: Any = None
    if p.status == "completed":
        if p.inputs.return_base64:
            if corrupt_base64:  # an expired or mangled base64 output: not a decodable image
                output = [f"data:{p.content_type};base64,RXhwaXJlZA==" for _ in p.images or []]
            else:
                output = p.data_uris()
        else:
            output = [
                f"{base_url}/v1/outputs/{p.id}/{n}.{p.extension}"
                for n in range(len(p.images or []))
            ]
        if output_shape == "images":
            output = {"images": output}
    return {"id": p.id, "status": p.status, "output": output, "error": p.error}


class PredictionStore:
    def __init__(
        self,
        render: Callable[[RunInputs], list[bytes]],
        *,
        credits: int,
        on_terminal: Callable[[Prediction], None] | None = None,
        render_workers: int = 2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._render = render
        self._on_terminal = on_terminal
        self._clock = clock
        self._pool = ThreadPoolExecutor(
            max_workers=render_workers, thread_name_prefix="engine-render"
        )
        self._lock = threading.RLock()
        self._predictions: dict[str, Prediction] = {}
        self._balance = credits
        self._max_in_flight_seen = 0
        self._accepted = 0

    # --- admission ----------------------------------------------------------------------------

    def create(
        self,
        inputs: RunInputs,
        *,
        schedule: Schedule,
        max_in_flight: int,
        base_url: str,
        webhook_url: str | None = None,
        claim_fault: Callable[[], Fault | None] | None = None,
        roll_failure: Callable[[], str | None] | None = None,
        draw_processing_factor: Callable[[], float] | None = None,
    ) -> Prediction:
        """Admit a prediction or raise ApiError(429 OutOfCredits / ConcurrencyLimitExceeded).

        ``claim_fault``, ``roll_failure`` and ``draw_processing_factor`` are called only once the
        prediction is admitted, so a refused request neither uses up a queued fault nor moves
        the failure or spread dice.
        """
        with self._lock:
            now = self._clock()
            finished = self._advance_all(now)
            active = [q for q in self._predictions.values() if q.status in ACTIVE]
            # Credits are charged on completion; running predictions hold theirs in reserve.
            reserved = sum(q.cost for q in active)
            if self._balance - reserved < inputs.credits:
                error = ApiError(
                    429,
                    "OutOfCredits",
                    f"Not enough API credits: this request needs {inputs.credits}, "
                    f"{max(0, self._balance - reserved)} available.",
                )
            elif len(active) >= max_in_flight:
                soonest = min(max(0.0, q.created + q.schedule.total - now) for q in active)
                error = ApiError(
                    429,
                    "ConcurrencyLimitExceeded",
                    f"Too many predictions in progress ({len(active)} of {max_in_flight} "
                    "allowed). Wait for one to finish.",
                    retry_after=max(1, math.ceil(soonest)),
                )
            else:
                error = None
                p = Prediction(
                    id=str(uuid.uuid4()),
                    inputs=inputs,
                    created=now,
                    schedule=(
                        schedule.stretched(draw_processing_factor())
                        if draw_processing_factor
                        else schedule
                    ),
                    base_url=base_url,
                    webhook_url=webhook_url,
                    fault=claim_fault() if claim_fault else None,
                    doomed=roll_failure() if roll_failure else None,
                )
                self._predictions[p.id] = p
                self._forget_oldest_finished()
                self._accepted += 1
                self._max_in_flight_seen = max(self._max_in_flight_seen, len(active) + 1)
        self._notify(finished)
        if error:
            raise error
        self._pool.submit(self._run_render, p)
        return p

    # --- rendering and the schedule -----------------------------------------------------------

    def _run_render(self, p: Prediction) -> None:
        images: list[bytes] | None = None
        failure: RuntimeFailure | None = None
        try:
            images = self._render(p.inputs)
        except RuntimeFailure as exc:
            failure = exc
        except Exception:
            log.exception("rendering prediction %s failed unexpectedly", p.id)
            failure = RuntimeFailure("PipelineError", runtime_message("PipelineError"))
        with self._lock:
            p.images, p.failure, p.rendered = images, failure, True
            if self._predictions.get(p.id) is not p:
                return  # forgotten by a reset while rendering
            self._advance(p, self._clock())
            if p.status in ACTIVE and not p.hangs:
                # Come back when the schedule says processing is over.
                delay = max(0.0, p.created + p.schedule.total - self._clock())
                p.timer = threading.Timer(delay, self._due, args=(p,))
                p.timer.daemon = True
                p.timer.start()
            finished = [p] if p.status in TERMINAL else []
        self._notify(finished)

    def _due(self, p: Prediction) -> None:
        with self._lock:
            if self._predictions.get(p.id) is not p:
                return
            was_active = p.status in ACTIVE
            self._advance(p, self._clock())
            finished = [p] if was_active and p.status in TERMINAL else []
        self._notify(finished)

    def _advance(self, p: Prediction, now: float) -> bool:
        """Move ``p`` to the status its clock and render say; True when it just ended."""
        if p.status in TERMINAL:
            return False
        elapsed, s = now - p.created, p.schedule
        if elapsed < s.starting:
            p.status = "starting"
        elif elapsed < s.starting + s.in_queue:
            p.status = "in_queue"
        else:
            p.status = "processing"
            if elapsed >= s.total and p.rendered and not p.hangs:
                self._finish(p)
                return True
        return False

    def _finish(self, p: Prediction) -> None:
        fault = p.fault
        if fault and fault.final_status:
            p.status = fault.final_status
        elif fault and fault.error_name:
            p.status = "failed"
            p.error = {
                "name": fault.error_name,
                "message": fault.error_message or runtime_message(fault.error_name),
            }
        elif p.doomed:
            p.status, p.error = "failed", {"name": p.doomed, "message": runtime_message(p.doomed)}
        elif p.failure:
            p.status, p.error = "failed", p.failure.as_dict()
        else:
            p.status = "completed"
            p.credits_used = p.cost  # failed predictions are free
            self._balance = max(0, self._balance - p.cost)
        if p.status != "completed":
            p.images = None  # nothing is served for a prediction that did not complete

    def _forget_oldest_finished(self) -> None:
        """Bound memory in a long-running engine: drop the oldest ended predictions while there
        are too many or their images take too many bytes."""
        count = len(self._predictions)
        kept_bytes = sum(p.image_bytes for p in self._predictions.values())
        ended = [p for p in self._predictions.values() if p.status in TERMINAL]
        for p in ended:  # dicts keep insertion order: oldest first
            if count <= MAX_KEPT_PREDICTIONS and kept_bytes <= MAX_KEPT_IMAGE_BYTES:
                break
            del self._predictions[p.id]
            count -= 1
            kept_bytes -= p.image_bytes

    def _advance_all(self, now: float) -> list[Prediction]:
        return [p for p in self._predictions.values() if self._advance(p, now)]

    def _notify(self, finished: list[Prediction]) -> None:
        if self._on_terminal:
            for p in finished:
                try:
                    self._on_terminal(p)
                except Exception:
                    log.exception("terminal-state hook failed for %s", p.id)

    # --- reading ------------------------------------------------------------------------------

    def get(self, prediction_id: str) -> Prediction | None:
        with self._lock:
            p = self._predictions.get(prediction_id)
            ended = p is not None and self._advance(p, self._clock())
        if ended:
            self._notify([p])
        return p

    def output(self, prediction_id: str, index: int, extension: str) -> Prediction | None:
        """The prediction whose output ``index`` is served at a URL, or None."""
        p = self.get(prediction_id)
        if p is None or p.status != "completed" or p.inputs.return_base64:
            return None  # base64 outputs are never stored for download
        if extension not in (p.extension, p.inputs.output_format):
            return None
        if not 0 <= index < len(p.images or []):
            return None
        return p

    def balance(self) -> int:
        with self._lock:
            finished = self._advance_all(self._clock())
            balance = self._balance
        self._notify(finished)
        return balance

    def set_balance(self, credits: int) -> None:
        with self._lock:
            self._balance = credits

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            finished = self._advance_all(self._clock())
            statuses = {pid: p.status for pid, p in self._predictions.items()}
            data = {
                "runs_accepted": self._accepted,
                "in_flight": sum(1 for s in statuses.values() if s in ACTIVE),
                "max_in_flight_seen": self._max_in_flight_seen,
                "credits": self._balance,
                "credits_used": sum(p.credits_used for p in self._predictions.values()),
                "predictions": statuses,
            }
        self._notify(finished)
        return data

    # --- lifecycle ----------------------------------------------------------------------------

    def reset(self, credits: int) -> None:
        with self._lock:
            for p in self._predictions.values():
                if p.timer:
                    p.timer.cancel()
            self._predictions.clear()
            self._balance = credits
            self._max_in_flight_seen = 0
            self._accepted = 0

    def close(self) -> None:
        self.reset(self._balance)
        self._pool.shutdown(wait=False, cancel_futures=True)
