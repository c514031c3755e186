"""The operations doors: the dashboard page and ``/metrics``.

The dashboard is served inside the admin by ``AvatarJobAdmin.dashboard_view``: it reads figures
(``figures``), shapes the charts (``charts``) and turns durations into text; the template only
lays them out. ``/metrics`` answers Prometheus with what ``metrics`` collects, to the holder of
``METRICS_TOKEN`` alone.
"""

import hashlib
import hmac
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET
from prometheus_client.exposition import choose_encoder

from avatar_studio.avatars.models import ReviewState

from . import charts, figures, metrics


def format_duration(delta):
    """A duration for people: "850 ms", "4.2 s", "42 s", "3 min 05 s", "2 h 10 min"."""
    if delta is None:
        return "—"
    seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    minutes, seconds = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def dashboard(request, model_admin):
    """Jobs now, failures, processing times, retries, credits and the FASHN balance.

    Anyone who may view jobs in the admin may see it (the "Reviewers" group included).
    """
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    board = figures.dashboard()
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Operations dashboard",
        "opts": model_admin.opts,
        "board": board,
        "balance": figures.fashn_balance(),
        "status_chart": charts.bar_chart(
            [(label, count, f"status-{value}") for value, label, count in board.status_counts]
        ),
        "daily_chart": charts.stacked_columns(
            [
                (
                    outcome.day.strftime("%a %d"),
                    [("completed", outcome.completed), ("failed", outcome.failed)],
                )
                for outcome in board.daily
            ]
        ),
        "timing_rows": [
            ("Upload to stored avatar", _timing(board.job_time_day), _timing(board.job_time_week)),
            (
                "FASHN prediction",
                _timing(board.prediction_time_day),
                _timing(board.prediction_time_week),
            ),
        ],
        "oldest_running_age": (
            format_duration(board.now - board.oldest_running.created_at)
            if board.oldest_running
            else ""
        ),
        "changelist_url": reverse("admin:avatars_avatarjob_changelist"),
        "review_state_pending": ReviewState.PENDING.value,
    }
    return TemplateResponse(request, "admin/ops/dashboard.html", context)


def _timing(timing):
    """A ``figures.Timing`` as text for the dashboard's table."""
    return {
        "count": timing.count,
        "median": format_duration(timing.median),
        "p95": format_duration(timing.p95),
    }


def _digest(token):
    return hashlib.sha256(token.encode()).digest()


def _bearer_token(request):
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@require_GET
def prometheus_metrics(request):
    """Prometheus' scrape: 404 while ``METRICS_TOKEN`` is unset, 401 without a bearer token,
    403 with a wrong one."""
    expected = settings.METRICS_TOKEN
    if not expected:
        raise Http404
    presented = _bearer_token(request)
    if presented is None:
        response = HttpResponse("A bearer token is required.\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    # Constant time over equal-length digests: how long the comparison takes says nothing about
    # the token, not even its length.
    if not hmac.compare_digest(_digest(presented), _digest(expected)):
        return HttpResponse("This token is not the metrics token.\n", status=403)
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    response = HttpResponse(encode(metrics.registry()), content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response
