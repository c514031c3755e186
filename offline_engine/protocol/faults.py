"""Fault injection: queued or per-request misbehaviour, so clients can be tested against it.

A fault item is a JSON object ``{"on": "run"|"status"|"prediction"|"output", "times": 1, ...}``
plus its effect. Items wait in a FIFO queue (``POST /_engine/faults``) and each matching request
(or new prediction, for ``"prediction"``) consumes one use of the first item that matches; the
same items sent in an ``X-Engine-Fault`` header apply to that one request only. Faults are never
triggered by prompt text or other inputs: production code can never trip them by accident.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import ApiError

TARGETS = ("run", "status", "prediction", "output")
FINAL_STATUSES = ("canceled", "time_out")
MAX_HUGE_BYTES = 1 << 30
MAX_DELAY_SECONDS = 600.0

_HTTP_EFFECTS = {"http_status", "error", "message", "retry_after"}
ALLOWED_KEYS = {
    "run": _HTTP_EFFECTS | {"malformed", "delay_seconds"},
    "status": _HTTP_EFFECTS | {"malformed", "delay_seconds"},
    "prediction": {"error_name", "error_message", "final_status", "hang"},
    "output": _HTTP_EFFECTS | {"delay_seconds", "not_image", "huge_bytes", "expired"},
}


@dataclass(frozen=True)
class Fault:
    on: str
    times: int = 1
    http_status: int | None = None
    error: str | None = None
    message: str | None = None
    retry_after: float | None = None
    # ``"retry_after": null`` in an item: answer without a Retry-After header, even on a 429.
    retry_after_header: bool = True
    malformed: bool = False
    delay_seconds: float = 0.0
    error_name: str | None = None
    error_message: str | None = None
    final_status: str | None = None
    hang: bool = False
    not_image: bool = False
    huge_bytes: int | None = None
    expired: bool = False

    def api_error(self) -> ApiError | None:
        """The HTTP error this fault answers with, if it is an http_status fault."""
        if self.http_status is None:
            return None
        retry_after = self.retry_after
        if not self.retry_after_header:
            retry_after = None
        elif retry_after is None and self.http_status == 429:
            retry_after = 1  # a 429 from FASHN always says when to come back
        return ApiError(
            self.http_status,
            self.error,
            self.message or "Injected fault from the offline engine.",
            retry_after=retry_after,
        )

    def as_dict(self) -> dict[str, Any]:
        defaults = Fault(on=self.on)
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name in ("on", "times") or getattr(self, f.name) != getattr(defaults, f.name)
        }


def _number(item: dict, key: str, *, minimum: float = 0.0, maximum: float | None = None) -> float:
    value = item[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} must be a number")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{key} must be between {minimum} and {maximum}")
    return float(value)


def _integer(item: dict, key: str, *, minimum: int, maximum: int) -> int:
    value = item[key]
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ValueError(f"{key} must be an integer between {minimum} and {maximum}")
    return value


def _flag(item: dict, key: str) -> bool:
    if not isinstance(item[key], bool):
        raise ValueError(f"{key} must be true or false")
    return item[key]


def _text(item: dict, key: str) -> str:
    if not isinstance(item[key], str) or not item[key]:
        raise ValueError(f"{key} must be a non-empty string")
    return item[key]


def parse_fault(item: Any) -> Fault:
    """Validate one fault item; ValueError says what is wrong."""
    if not isinstance(item, dict):
        raise ValueError("a fault item must be a JSON object")
    on = item.get("on")
    if on not in TARGETS:
        raise ValueError(f"fault 'on' must be one of {', '.join(TARGETS)}")
    unknown = set(item) - ALLOWED_KEYS[on] - {"on", "times"}
    if unknown:
        raise ValueError(f"unknown key(s) for an 'on': {on!r} fault: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {"on": on}
    if "times" in item:
        values["times"] = _integer(item, "times", minimum=1, maximum=1_000_000)
    for key in item:
        if key in ("on", "times"):
            continue
        if key == "http_status":
            values[key] = _integer(item, key, minimum=400, maximum=599)
        elif key == "retry_after" and item[key] is None:
            values["retry_after_header"] = False
        elif key in ("retry_after", "delay_seconds"):
            values[key] = _number(
                item, key, maximum=MAX_DELAY_SECONDS if key == "delay_seconds" else None
            )
        elif key == "huge_bytes":
            values[key] = _integer(item, key, minimum=0, maximum=MAX_HUGE_BYTES)
        elif key in ("malformed", "hang", "not_image", "expired"):
            values[key] = _flag(item, key)
        elif key == "final_status":
            if item[key] not in FINAL_STATUSES:
                raise ValueError(f"final_status must be one of {', '.join(FINAL_STATUSES)}")
            values[key] = item[key]
        else:  # error, message, error_name, error_message
            values[key] = _text(item, key)
    fault = Fault(**values)
    _check_effect(fault)
    return fault


def _check_effect(fault: Fault) -> None:
    if fault.on == "prediction":
        chosen = [fault.error_name is not None, fault.final_status is not None, fault.hang]
        if sum(chosen) != 1:
            raise ValueError(
                "a prediction fault needs exactly one of error_name, final_status, hang"
            )
        if fault.error_message is not None and fault.error_name is None:
            raise ValueError("error_message goes with error_name")
        return
    answers = [
        fault.http_status is not None,
        fault.malformed,
        fault.not_image,
        fault.huge_bytes is not None,
        fault.expired,
    ]
    if sum(answers) > 1:
        raise ValueError("a fault item has one effect (delay_seconds may go with any)")
    if not any(answers) and fault.delay_seconds <= 0:
        raise ValueError("a fault item needs an effect")
    if fault.http_status is None and (
        fault.error
        or fault.message
        or fault.retry_after is not None
        or not fault.retry_after_header
    ):
        raise ValueError("error, message and retry_after go with http_status")


def parse_faults(value: Any) -> list[Fault]:
    """One item or a list of items."""
    items = value if isinstance(value, list) else [value]
    faults = []
    for index, item in enumerate(items):
        try:
            faults.append(parse_fault(item))
        except ValueError as exc:
            raise ValueError(f"fault item {index}: {exc}") from exc
    return faults


class FaultQueue:
    """FIFO of fault items; each use consumes one of an item's ``times``."""

    def __init__(self) -> None:
        self._items: list[list[Any]] = []  # [fault, uses left]
        self._lock = threading.Lock()

    def add(self, faults: list[Fault]) -> int:
        with self._lock:
            self._items.extend([fault, fault.times] for fault in faults)
            return len(self._items)

    def take(self, on: str, accept: Callable[[Fault], bool] | None = None) -> Fault | None:
        """Consume one use of the first queued item for ``on`` that ``accept`` allows."""
        with self._lock:
            for entry in self._items:
                fault = entry[0]
                if fault.on == on and (accept is None or accept(fault)):
                    entry[1] -= 1
                    if entry[1] <= 0:
                        self._items.remove(entry)
                    return fault
            return None

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{**fault.as_dict(), "times": left} for fault, left in self._items]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def pick(
    header_faults: list[Fault],
    queue: FaultQueue,
    on: str,
    accept: Callable[[Fault], bool] | None = None,
) -> Fault | None:
    """The fault for this request: its own header item first, else one from the queue."""
    for fault in header_faults:
        if fault.on == on and (accept is None or accept(fault)):
            return fault
    return queue.take(on, accept)


class FailureDice:
    """Seeded random failures from ``failure_rates``: the same seed gives the same sequence."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def roll(self, rates: dict[str, float]) -> str | None:
        if not rates:
            return None
        with self._lock:
            for name in sorted(rates):  # sorted: dict order must not change the outcome
                if self._rng.random() < rates[name]:
                    return name
        return None
