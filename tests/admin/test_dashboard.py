"""The operations dashboard: its figures on a known set of jobs, its page, and the FASHN balance
(read from the offline engine, or an "unavailable" note when it cannot be read)."""

import socket
from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from avatar_studio.avatars import services
from avatar_studio.avatars.models import AvatarJob, PredictionAttempt
from avatar_studio.credits.models import CreditUse
from avatar_studio.ops import charts, figures

from ..support.jobs import make_finished_job, make_job

pytestmark = pytest.mark.django_db

# A fixed "now": every timestamp below is placed relative to it, so days never straddle midnight.
NOW = datetime(2030, 3, 10, 12, 0, tzinfo=UTC)
DASHBOARD = "admin:avatars_avatarjob_dashboard"


def completed(owner, *, finished_ago, took, fashn_took):
    """A completed job that finished ``finished_ago`` before NOW after ``took`` seconds overall,
    ``fashn_took`` of them inside its one prediction (which used 1 credit)."""
    job = make_finished_job(owner)
    finished = NOW - finished_ago
    AvatarJob.objects.filter(pk=job.pk).update(
        created_at=finished - timedelta(seconds=took), finished_at=finished
    )
    PredictionAttempt.objects.filter(job=job).update(
        submitted_at=finished - timedelta(seconds=fashn_took), finished_at=finished
    )
    CreditUse.objects.filter(job_id=job.pk).update(settled_at=finished)
    return job


def failed(owner, error_name, *, finished_ago):
    job = make_finished_job(owner, status="failed", error_name=error_name)
    finished = NOW - finished_ago
    AvatarJob.objects.filter(pk=job.pk).update(
        created_at=finished - timedelta(seconds=30), finished_at=finished
    )
    PredictionAttempt.objects.filter(job=job).update(submitted_at=finished - timedelta(seconds=20))
    return job


def running(owner, *, started_ago):
    job = make_job(owner)
    AvatarJob.objects.filter(pk=job.pk).update(created_at=NOW - started_ago)
    return job


def retry_attempt(job, *, submitted_ago, credits=None):
    submitted = NOW - submitted_ago
    return PredictionAttempt.objects.create(
        job=job,
        number=job.attempts.count() + 1,
        prediction_id=f"pred-retry-{job.pk.hex[:8]}",
        status="failed",
        submitted_at=submitted,
        finished_at=submitted + timedelta(seconds=5),
        credits_used=credits,
    )


@pytest.fixture
def known_jobs(alice, bob):
    hour, day = timedelta(hours=1), timedelta(days=1)
    jobs = {
        "today": [
            completed(alice, finished_ago=hour * n, took=10 * n, fashn_took=4 + n)
            for n in (1, 2, 3, 4)
        ],
        "three_days_ago": completed(bob, finished_ago=3 * day, took=100, fashn_took=50),
        "pipeline_1": failed(alice, "PipelineError", finished_ago=2 * hour),
        "pipeline_2": failed(bob, "PipelineError", finished_ago=5 * hour),
        "moderation": failed(bob, "ContentModerationError", finished_ago=3 * day),
        "ten_days_ago": failed(alice, "PipelineError", finished_ago=10 * day),
        "oldest_running": running(alice, started_ago=timedelta(minutes=5)),
        "newer_running": running(bob, started_ago=timedelta(minutes=1)),
    }
    retry_attempt(jobs["pipeline_1"], submitted_ago=3 * hour)
    retry_attempt(jobs["moderation"], submitted_ago=3 * day)
    return jobs


def test_percentiles_interpolate_between_ranks():
    assert figures.percentile([], 0.5) is None
    assert figures.percentile([7], 0.95) == 7
    assert figures.percentile([40, 10, 30, 20], 0.5) == 25
    assert figures.percentile([10, 20, 30, 40], 0.95) == pytest.approx(38.5)
    assert figures.percentile(range(1, 101), 0.95) == pytest.approx(95.05)


def test_the_figures_on_a_known_set_of_jobs(known_jobs):
    board = figures.dashboard(NOW)

    counts = {status: count for status, _label, count in board.status_counts}
    assert counts == {
        "queued": 2,
        "submitting": 0,
        "submitted": 0,
        "in_queue": 0,
        "processing": 0,
        "completed": 5,
        "failed": 4,
    }
    assert board.failures == [
        figures.FailureCount("PipelineError", last_day=2, last_week=2),
        figures.FailureCount("ContentModerationError", last_day=0, last_week=1),
    ]
    # Upload to stored avatar: 10, 20, 30, 40 s today; 100 s three days ago.
    assert board.job_time_day == figures.Timing(4, 25.0, pytest.approx(38.5))
    assert board.job_time_week == figures.Timing(5, 30.0, pytest.approx(88.0))
    # Inside FASHN: 5, 6, 7, 8 s today; 50 s three days ago.
    assert board.prediction_time_day == figures.Timing(4, 6.5, pytest.approx(7.85))
    assert board.prediction_time_week == figures.Timing(5, 7.0, pytest.approx(41.6))
    assert not board.timings_truncated
    assert (board.retries_day, board.retries_week) == (1, 2)
    assert (board.credits_day, board.credits_week) == (4, 5)
    assert board.oldest_running.pk == known_jobs["oldest_running"].pk
    assert [(day.day, day.completed, day.failed) for day in board.daily] == [
        (date(2030, 3, 4), 0, 0),
        (date(2030, 3, 5), 0, 0),
        (date(2030, 3, 6), 0, 0),
        (date(2030, 3, 7), 1, 1),
        (date(2030, 3, 8), 0, 0),
        (date(2030, 3, 9), 0, 0),
        (date(2030, 3, 10), 4, 2),
    ]


def test_the_figures_of_an_empty_database():
    board = figures.dashboard(NOW)

    assert board.failures == []
    assert board.job_time_week == figures.Timing(0, None, None)
    assert (board.retries_week, board.credits_week) == (0, 0)
    assert board.oldest_running is None


def test_the_figures_take_a_bounded_number_of_queries(known_jobs, django_assert_max_num_queries):
    # One per figure: the credits come from the ledger, the retries from the attempts.
    with django_assert_max_num_queries(9):
        figures.dashboard(NOW)


def test_the_charts_scale_to_the_largest_value():
    chart = charts.bar_chart([("Completed", 10, "a"), ("Failed", 5, "b"), ("Queued", 0, "c")])
    assert [bar.width for bar in chart.bars] == [charts.BAR_SPACE, charts.BAR_SPACE / 2, 0]

    columns = charts.stacked_columns([("Mon", [("completed", 3), ("failed", 1)]), ("Tue", [])])
    monday = columns.columns[0]
    assert monday.total == 4
    assert [height for _css, _value, _y, height in monday.parts] == [
        charts.PLOT_HEIGHT * 3 / 4,
        charts.PLOT_HEIGHT / 4,
    ]
    assert monday.top == pytest.approx(columns.baseline - charts.PLOT_HEIGHT)


# --- the page ---------------------------------------------------------------------------------


def test_the_page_shows_the_figures_and_the_engine_balance(client, reviewer, engine, alice):
    engine.configure(credits=4321)
    make_finished_job(alice, status="failed", error_name="PoseError")
    running(alice, started_ago=timedelta(minutes=3))
    client.force_login(reviewer)

    response = client.get(reverse(DASHBOARD))
    page = response.content.decode()

    assert response.status_code == 200
    assert 'id="credit-balance">4321<' in page
    assert 'data-status-count="status-failed">1<' in page
    assert 'data-error="PoseError"' in page
    assert "<svg" in page and "Jobs by status" in page
    assert response.context["board"].oldest_running.owner == alice


def test_deleting_jobs_and_accounts_keeps_the_credits_spent(client, reviewer, engine, alice, bob):
    jobs = [make_finished_job(alice) for _ in range(6)] + [make_finished_job(bob) for _ in range(2)]
    assert figures.dashboard().credits_day == 8  # each prediction reported 1 credit
    client.force_login(reviewer)

    services.delete_avatar(jobs[0])
    bob.delete()

    assert AvatarJob.objects.count() == 5
    board = figures.dashboard()
    assert (board.credits_day, board.credits_week) == (8, 8)
    page = client.get(reverse(DASHBOARD)).content.decode()
    assert (
        '<tr id="credits-used"><th scope="row">Credits used (kept when jobs are deleted)</th>'
        '<td class="num">8</td><td class="num">8</td></tr>'
    ) in page


def free_loopback_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_balance_is_marked_unavailable_when_fashn_cannot_be_reached(client, reviewer, settings):
    settings.FASHN_BASE_URL = f"http://127.0.0.1:{free_loopback_port()}"
    settings.FASHN_API_KEY = "any-key"
    client.force_login(reviewer)

    page = client.get(reverse(DASHBOARD)).content.decode()

    assert "Balance unavailable" in page
    assert "FashnConnectionError" in page
    assert "Jobs by status now" in page  # everything else is still shown


def test_the_balance_is_marked_unavailable_when_the_key_is_refused(
    client, reviewer, engine, settings
):
    settings.FASHN_API_KEY = "not-the-engine-key"
    client.force_login(reviewer)

    page = client.get(reverse(DASHBOARD)).content.decode()

    assert "Balance unavailable" in page
    assert "not-the-engine-key" not in page
