"""Counted right across processes: Celery workers (prefork, two processes each) record, every
gunicorn worker and this test process answer the same totals; concurrent writers lose nothing."""

import multiprocessing
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.test import Client

from avatar_studio.avatars.models import JobStatus
from avatar_studio.ops import counters

from ..support.jobs import make_job, wait_until_finished
from ..support.waiting import wait_for
from ..support.webserver import Gunicorn
from .scraping import TOKEN, buckets, counted, parse, value

FACE = "face-to-model"


def _scrape_over_http(url):
    # A new connection each time, so gunicorn's workers take turns accepting them.
    response = requests.get(
        f"{url}/metrics",
        headers={"Authorization": f"Bearer {TOKEN}", "Connection": "close"},
        timeout=30,
    )
    assert response.status_code == 200
    return parse(response.text)


def _pipeline_figures(samples):
    """The figures that the workers' events and rows decide (the oldest job's age aside)."""
    return {
        key: found
        for key, found in samples.items()
        if key[0] != "avatar_studio_oldest_active_job_age_seconds"
    }


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_every_web_process_answers_the_totals_of_every_worker(
    start_worker, worker_env, engine, alice, settings, tmp_path
):
    settings.METRICS_TOKEN = TOKEN
    engine.add_faults({"on": "prediction", "error_name": "PipelineError", "times": 1})
    server = Gunicorn({**worker_env, "METRICS_TOKEN": TOKEN}, tmp_path / "web.log", workers=3)
    server.start()
    try:
        start_worker()
        start_worker()
        jobs = [make_job(alice) for _ in range(3)]
        # Generous waits: the test starts five processes on a machine other suites share.
        finished = [wait_until_finished(job, timeout=120) for job in jobs]
        assert [job.status for job in finished] == [JobStatus.COMPLETED] * 3

        def all_counted():
            # The workers add their counts just after the job's end commits.
            samples = _scrape_over_http(server.url)
            done = buckets(
                samples, "avatar_studio_fashn_processing_seconds", model=FACE, outcome="completed"
            )
            return samples if done[2] == 3 else None

        wait_for(all_counted, timeout=60, message="the workers' counts")
        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(lambda _: _scrape_over_http(server.url), range(12)))
        client = Client()
        here = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        answers.append(parse(here.content.decode()))
    finally:
        server.stop()

    # The fault hit: one prediction failed with it and was sent again.
    assert engine.stats()["runs_accepted"] == 4
    first = _pipeline_figures(answers[0])
    assert all(_pipeline_figures(answer) == first for answer in answers)
    assert value(first, "avatar_studio_jobs", status="queued") == 0
    assert value(first, "avatar_studio_fashn_predictions_total", model=FACE) == 4
    assert value(first, "avatar_studio_fashn_retries_total", model=FACE) == 1
    assert counted(first, "avatar_studio_fashn_runtime_errors_total") == {
        (("model", FACE), ("name", "PipelineError")): 1
    }
    assert buckets(first, "avatar_studio_queue_wait_seconds", model=FACE)[2] == 3
    failed = buckets(first, "avatar_studio_fashn_processing_seconds", model=FACE, outcome="failed")
    assert failed[2] == 1
    assert (
        value(first, "avatar_studio_fashn_credits_used_total", model=FACE)
        == (engine.stats()["credits_used"])
    )
    assert engine.stats()["credits_used"] > 0
    assert value(first, "avatar_studio_fashn_slots_in_use") == 0


def _observe(rounds):
    for _ in range(rounds):
        counters._write([(counters.PROCESSING_TIME, ("tryon-v1.6", "completed"), 12.0)])
        counters._write([(counters.RETRIES, ("tryon-v1.6",), None)])


@pytest.mark.django_db
def test_concurrent_processes_lose_no_count(redis_url, client, settings):
    settings.METRICS_TOKEN = TOKEN
    # Forked: the children inherit this test's settings (its Redis database and key prefix).
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_observe, args=(200,)) for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    assert [process.exitcode for process in processes] == [0, 0, 0, 0]

    samples = parse(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode())

    assert value(samples, "avatar_studio_fashn_retries_total", model="tryon-v1.6") == 800
    found, total, count = buckets(
        samples, "avatar_studio_fashn_processing_seconds", model="tryon-v1.6", outcome="completed"
    )
    assert (found["10.0"], found["15.0"], found["+Inf"], count) == (0, 800, 800, 800)
    assert total == 800 * 12.0
