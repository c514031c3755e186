"""Webhook delivery: POST the status JSON to ``webhook_url`` when a prediction ends.

Like FASHN, the payload is the status document and it is retried (up to 5 attempts). Unlike
FASHN, the offline engine only ever delivers to loopback addresses; any other URL is skipped and
logged, so tests can never send traffic off this machine.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request

from .image_loading import is_loopback_url

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
TIMEOUT_SECONDS = 5.0


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a 3xx is then an error, never followed


# No proxies and no redirects: both could carry the request elsewhere.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())


def deliver(url: str, payload: dict, *, backoff: float = 0.2) -> bool:
    """POST ``payload``; True once a 2xx answer arrives. Blocking: call it from a thread."""
    if not is_loopback_url(url):
        log.warning("webhook %s skipped: the offline engine only calls loopback URLs", url)
        return False
    body = json.dumps(payload).encode()
    for attempt in range(MAX_ATTEMPTS):
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
                if 200 <= response.status < 300:
                    return True
        except (urllib.error.URLError, OSError) as exc:
            log.info("webhook %s attempt %d failed: %s", url, attempt + 1, exc)
        if attempt + 1 < MAX_ATTEMPTS:
            time.sleep(backoff * 2**attempt)
    return False


def deliver_in_background(url: str, payload: dict) -> threading.Thread:
    thread = threading.Thread(
        target=deliver, args=(url, payload), daemon=True, name="engine-webhook"
    )
    thread.start()
    return thread
