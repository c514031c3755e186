"""The operations dashboard page, served inside the admin by ``AvatarJobAdmin.dashboard_view``.

It reads figures (``figures``), shapes the charts (``charts``) and turns durations into text;
the template only lays them out.
"""

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse

from avatar_studio.avatars.models import ReviewState

from . import charts, figures


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
