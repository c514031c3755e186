"""Request counters for ``GET /_engine/stats``: what clients sent and what was refused."""

from __future__ import annotations

import threading
from collections import Counter


class RequestStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._rejected: Counter[str] = Counter()

    def called(self, endpoint: str) -> None:
        with self._lock:
            self._calls[endpoint] += 1

    def rejected(self, error_type: str) -> None:
        with self._lock:
            self._rejected[error_type] += 1

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "run_calls": self._calls["run"],
                "status_calls": self._calls["status"],
                "output_calls": self._calls["output"],
                "credits_calls": self._calls["credits"],
                "rejected": dict(self._rejected),
            }

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._rejected.clear()
