"""Sliding-window request limits per API key, like FASHN's per-endpoint rate limits.

A request is counted only when it is let through, so a client that backs off after a 429 is not
punished for the rejected attempts. The limit and window are passed on every call because the
config can change at runtime.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque


class SlidingWindowLimiter:
    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, bucket: str, key: str, limit: int, window: float) -> int | None:
        """Count one request; None when allowed, else whole seconds until a slot frees."""
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault((bucket, key), deque())
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                # The oldest hit leaves the window first; Retry-After is a whole number >= 1.
                return max(1, math.ceil(hits[0] + window - now))
            hits.append(now)
            return None

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
