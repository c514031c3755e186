"""The Content-Security-Policy header (Django 5.2 has none built in).

Every page gets a strict policy: scripts, styles, images, fonts and fetches from our own origin
only, no inline script or style, no plugins, no framing, forms posting only to us. Our templates
keep to it: scripts and styles are static files, htmx is told not to inject its indicator
styles and not to evaluate code (the ``htmx-config`` meta tag in ``base.html``).

Two third-party pages cannot: the API's Swagger UI renders one inline script (its settings) and
sets inline styles at run time; ReDoc injects its styles and starts a worker from a blob. For
those two views only, the policy allows exactly their own inline scripts by SHA-256 hash
(computed from the rendered page, so no other inline script can run), inline styles, and for
ReDoc blob workers. Scripts never get 'unsafe-inline'.
"""

import base64
import hashlib
import logging
import re
import traceback

from django.conf import settings
from django.views.debug import ExceptionReporter

BASE_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    # data: for the small SVG icons browsers and Swagger UI use; blob: for the upload preview.
    "img-src": ["'self'", "data:", "blob:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "media-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

# View name → extra sources; "hash-inline-scripts" allows the page's own inline scripts by hash.
VIEW_EXCEPTIONS = {
    "api:docs": {"hash-inline-scripts": True, "style-src": ["'unsafe-inline'"]},
    "api:redoc": {
        "hash-inline-scripts": True,
        "style-src": ["'unsafe-inline'"],
        "worker-src": ["'self'", "blob:"],
    },
}

_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def _extra_sources(value):
    """``"img-src=https://a https://b;style-src=https://a"`` → ``{"img-src": [...], ...}``."""
    extra = {}
    for part in filter(None, (item.strip() for item in value.split(";"))):
        directive, _, sources = part.partition("=")
        extra.setdefault(directive.strip(), []).extend(sources.split())
    return extra


def build_policy(exceptions=None, inline_scripts=()):
    policy = {name: list(sources) for name, sources in BASE_POLICY.items()}
    for directive, sources in _extra_sources(settings.CSP_EXTRA_SOURCES).items():
        policy.setdefault(directive, []).extend(sources)
    for directive, sources in (exceptions or {}).items():
        if directive != "hash-inline-scripts":
            policy.setdefault(directive, ["'self'"])
            policy[directive] += [source for source in sources if source not in policy[directive]]
    for script in inline_scripts:
        digest = base64.b64encode(hashlib.sha256(script).digest()).decode("ascii")
        policy["script-src"].append(f"'sha256-{digest}'")
    parts = [f"{name} {' '.join(sources)}" for name, sources in policy.items()]
    if settings.CSP_REPORT_URI:
        parts.append(f"report-uri {settings.CSP_REPORT_URI}")
    return "; ".join(parts)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" in response:
            return response
        match = getattr(request, "resolver_match", None)
        exceptions = VIEW_EXCEPTIONS.get(match.view_name) if match else None
        if exceptions:
            scripts = ()
            if exceptions.get("hash-inline-scripts") and not response.streaming:
                scripts = _INLINE_SCRIPT.findall(response.content)
            response["Content-Security-Policy"] = build_policy(exceptions, scripts)
        else:
            response["Content-Security-Policy"] = build_policy()
        return response


# --- Secrets in logs and error reports -----------------------------------------------------------
#
# The FASHN API key is sent in a header the FASHN client builds, so it sits in that frame's
# variables, and an exception from the HTTP stack can quote the header. Django's error reports
# show every frame's variables and chained exceptions; log lines show exception messages. Both
# are scrubbed here of the key's value, whatever its context: the reporter's text and HTML, and
# every log record as it is created (``install_log_redaction``, called from CoreConfig.ready).

REDACTED = "********"
_SECRET_SETTINGS = ("FASHN_API_KEY",)
_MIN_SECRET_LENGTH = 8  # shorter values would redact ordinary words


def secret_values():
    values = set()
    for name in _SECRET_SETTINGS:
        value = str(getattr(settings, name, "") or "")
        for candidate in (value, value.strip()):
            if len(candidate) >= _MIN_SECRET_LENGTH:
                values.add(candidate)
    # Longest first, so a value containing another is replaced whole.
    return sorted(values, key=len, reverse=True)


def redact(text):
    if not text:
        return text
    for secret in secret_values():
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


class RedactingExceptionReporter(ExceptionReporter):
    """Django's error report (the DEBUG 500 page and the mail to ADMINS), without secrets."""

    def get_traceback_html(self):
        return redact(super().get_traceback_html())

    def get_traceback_text(self):
        return redact(super().get_traceback_text())


def install_log_redaction():
    """Scrub secrets from every log record when it is made (every logger, every handler)."""
    base_factory = logging.getLogRecordFactory()
    if getattr(base_factory, "redacts_secrets", False):
        return

    def factory(*args, **kwargs):
        record = base_factory(*args, **kwargs)
        try:
            secrets = secret_values()
            if not secrets:
                return record
            message = record.getMessage()
            if any(secret in message for secret in secrets):
                record.msg, record.args = redact(message), None
            if record.exc_info and record.exc_info[1] is not None:
                formatted = "".join(traceback.format_exception(*record.exc_info))
                if any(secret in formatted for secret in secrets):
                    record.exc_text = redact(formatted.rstrip("\n"))
            if record.stack_info:
                record.stack_info = redact(record.stack_info)
        except Exception:  # noqa: BLE001, S110 - logging must never fail because of this
            pass
        return record

    factory.redacts_secrets = True
    logging.setLogRecordFactory(factory)
