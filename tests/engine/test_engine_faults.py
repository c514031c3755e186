"""Fault injection (queued and per-request) and the /_engine control endpoints."""

from __future__ import annotations

import base64
import io
import json
import time

import pytest
import requests
from PIL import Image, UnidentifiedImageError


def control(api, method: str, path: str, body=None) -> requests.Response:
    return requests.request(
        method, f"{api.url}/_engine/{path}", json=body, headers=api.headers(), timeout=5
    )


# --- "on": "run" ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "status", "error"),
    [
        (
            {"http_status": 429, "error": "RateLimitExceeded", "retry_after": 7},
            429,
            "RateLimitExceeded",
        ),
        ({"http_status": 500}, 500, "InternalServerError"),
        (
            {"http_status": 503, "error": "ServiceUnavailable", "message": "down"},
            503,
            "ServiceUnavailable",
        ),
        (
            {"http_status": 429, "error": "ConcurrencyLimitExceeded"},
            429,
            "ConcurrencyLimitExceeded",
        ),
    ],
)
def test_run_http_fault_answers_the_error_and_creates_nothing(api, engine, fault, status, error):
    engine.add_faults({"on": "run", **fault})
    response = api.run()
    assert response.status_code == status
    assert response.json()["error"] == error
    if "message" in fault:
        assert response.json()["message"] == fault["message"]
    if status == 429:
        assert response.headers["Retry-After"] == str(fault.get("retry_after", 1))
    assert engine.stats()["runs_accepted"] == 0
    assert api.run().status_code == 200  # used up: the next run is normal


def test_run_malformed_creates_the_prediction_but_the_body_is_not_json(api, engine):
    engine.add_faults({"on": "run", "malformed": True})
    response = api.run()
    assert response.status_code == 200
    with pytest.raises(ValueError):
        json.loads(response.text)
    stats = engine.stats()
    assert stats["runs_accepted"] == 1 and len(stats["predictions"]) == 1


def test_run_delay_provokes_a_read_timeout_after_creating(api, engine):
    engine.add_faults({"on": "run", "delay_seconds": 3})
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.run(timeout=0.2)
    assert engine.stats()["runs_accepted"] == 1


def test_times_counts_uses_and_the_queue_is_fifo(api, engine):
    engine.add_faults(
        {"on": "run", "times": 2, "http_status": 502},
        {"on": "run", "http_status": 503},
    )
    codes = [api.run().status_code for _ in range(4)]
    assert codes == [502, 502, 503, 200]


# --- "on": "status" ---------------------------------------------------------------------------


def test_status_faults_http_malformed_and_delay(api, engine):
    prediction_id = api.submit()
    engine.add_faults(
        {"on": "status", "http_status": 503},
        {"on": "status", "malformed": True},
        {"on": "status", "delay_seconds": 3},
    )
    assert api.status(prediction_id).status_code == 503
    malformed = api.status(prediction_id)
    assert malformed.status_code == 200
    with pytest.raises(ValueError):
        json.loads(malformed.text)
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.status(prediction_id, timeout=0.2)
    assert api.status(prediction_id).json()["id"] == prediction_id
    assert engine.stats()["rejected"] == {"ServiceUnavailable": 1}


def test_faults_wait_for_their_own_kind_of_request(api, engine):
    engine.add_faults({"on": "status", "http_status": 500})
    prediction_id = api.submit()  # a run does not consume a status fault
    assert api.status(prediction_id).status_code == 500


# --- "on": "prediction" -----------------------------------------------------------------------


def test_prediction_error_fault_fails_it_at_the_end(api, engine):
    engine.add_faults(
        {"on": "prediction", "error_name": "PipelineError", "error_message": "GPU fell over"}
    )
    response = api.wait(api.submit())
    assert response.json()["status"] == "failed"
    assert response.json()["error"] == {"name": "PipelineError", "message": "GPU fell over"}
    assert response.headers["x-fashn-credits-used"] == "0"
    assert engine.stats()["credits"] == engine.config.credits


def test_prediction_error_fault_has_a_default_message(api, engine):
    engine.add_faults({"on": "prediction", "error_name": "ThirdPartyError"})
    error = api.wait(api.submit()).json()["error"]
    assert error["name"] == "ThirdPartyError" and "retry" in error["message"].lower()


@pytest.mark.parametrize("final_status", ["canceled", "time_out"])
def test_prediction_final_status_fault(api, engine, final_status):
    engine.add_faults({"on": "prediction", "final_status": final_status})
    doc = api.wait(api.submit()).json()
    assert doc["status"] == final_status
    assert doc["output"] is None


def test_prediction_hang_stays_processing_and_holds_a_slot(api, engine):
    engine.configure(max_in_flight=1)
    engine.add_faults({"on": "prediction", "hang": True})
    prediction_id = api.submit()
    # Once its images are rendered (and with no schedule configured) an ordinary prediction
    # completes at the next look; a hung one stays processing.
    deadline = time.monotonic() + 30
    while not engine.app.store.get(prediction_id).rendered:
        assert time.monotonic() < deadline, "the prediction was never rendered"
        time.sleep(0.05)
    assert api.status(prediction_id).json()["status"] == "processing"
    assert api.run().json()["error"] == "ConcurrencyLimitExceeded"
    assert engine.stats()["in_flight"] == 1


def test_prediction_faults_are_not_used_up_by_refused_runs(api, engine):
    engine.configure(credits=0)
    engine.add_faults({"on": "prediction", "final_status": "canceled"})
    assert api.run().status_code == 429
    engine.configure(credits=10)
    assert api.wait(api.submit()).json()["status"] == "canceled"


# --- "on": "output" ---------------------------------------------------------------------------


def test_output_http_fault(api, engine):
    url = api.complete()["output"][0]
    engine.add_faults({"on": "output", "http_status": 404})
    assert requests.get(url, timeout=5).status_code == 404
    assert requests.get(url, timeout=5).status_code == 200


def test_output_delay_fault(api, engine):
    url = api.complete()["output"][0]
    engine.add_faults({"on": "output", "delay_seconds": 3})
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(url, timeout=0.2)


def test_output_not_image_fault_serves_a_page_with_an_image_type(api, engine):
    url = api.complete()["output"][0]
    engine.add_faults({"on": "output", "not_image": True})
    response = requests.get(url, timeout=5)
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/jpeg"
    with pytest.raises(UnidentifiedImageError):
        Image.open(io.BytesIO(response.content))


def test_output_huge_bytes_fault(api, engine):
    url = api.complete()["output"][0]
    engine.add_faults({"on": "output", "huge_bytes": 3_000_000})
    response = requests.get(url, timeout=5)
    assert response.headers["Content-Length"] == "3000000"
    assert len(response.content) == 3_000_000
    assert not response.content.startswith(b"\xff\xd8")


def test_output_expired_fault_for_urls_is_404(api, engine):
    url = api.complete()["output"][0]
    engine.add_faults({"on": "output", "expired": True})
    response = requests.get(url, timeout=5)
    assert response.status_code == 404 and "expired" in response.json()["message"]


def test_output_expired_fault_for_base64_is_a_data_uri_that_does_not_decode(api, engine):
    prediction_id = api.submit(return_base64=True)
    api.wait(prediction_id)
    engine.add_faults({"on": "output", "expired": True})
    uri = api.status(prediction_id).json()["output"][0]
    assert uri.startswith("data:image/jpeg;base64,")
    with pytest.raises(UnidentifiedImageError):
        Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    good = api.status(prediction_id).json()["output"][0]  # one use only
    Image.open(io.BytesIO(base64.b64decode(good.split(",", 1)[1]))).verify()


# --- the X-Engine-Fault header ----------------------------------------------------------------


def test_header_fault_applies_to_that_request_only(api, engine):
    response = api.run(fault={"on": "run", "http_status": 500})
    assert response.status_code == 500
    assert api.run().status_code == 200
    assert engine.stats()["faults_pending"] == []


def test_header_prediction_fault_attaches_to_the_created_prediction(api):
    response = api.run(fault=[{"on": "prediction", "error_name": "ContentModerationError"}])
    doc = api.wait(response.json()["id"]).json()
    assert doc["error"]["name"] == "ContentModerationError"


def test_header_status_fault(api):
    prediction_id = api.submit()
    assert api.status(prediction_id, fault={"on": "status", "http_status": 502}).status_code == 502
    assert api.status(prediction_id).status_code == 200


def test_header_output_fault(api):
    url = api.complete()["output"][0]
    fault = json.dumps({"on": "output", "http_status": 403})
    assert requests.get(url, headers={"X-Engine-Fault": fault}, timeout=5).status_code == 403


@pytest.mark.parametrize(
    "header",
    [
        "not json",
        json.dumps({"on": "nowhere"}),
        json.dumps({"on": "run"}),
        json.dumps({"on": "run", "http_status": 200}),
        json.dumps({"on": "run", "hang": True}),
    ],
)
def test_invalid_header_fault_is_400(api, engine, header):
    response = requests.post(
        f"{api.url}/v1/run",
        json={"model_name": "face-to-model", "inputs": {"face_image": api.face_uri}},
        headers={**api.headers(), "X-Engine-Fault": header},
        timeout=5,
    )
    assert response.status_code == 400
    assert "X-Engine-Fault" in response.json()["message"]
    assert engine.stats()["runs_accepted"] == 0


# --- failure rates ----------------------------------------------------------------------------


def test_failure_rate_one_fails_every_prediction(api, engine):
    engine.configure(failure_rates={"PipelineError": 1.0})
    for _ in range(2):
        assert api.wait(api.submit()).json()["error"]["name"] == "PipelineError"


def test_failure_rates_are_seeded_and_repeat_after_reset(api, engine):
    def outcomes():
        engine.configure(failure_rates={"ThirdPartyError": 0.5}, fault_seed=11)
        ids = [api.submit() for _ in range(6)]
        return [api.wait(i).json()["status"] for i in ids]

    first = outcomes()
    engine.reset()
    assert outcomes() == first
    assert set(first) == {"completed", "failed"}  # seed 11 gives both


# --- control endpoints over HTTP --------------------------------------------------------------


def test_control_config_updates_partially_and_rejects_bad_fields(api, engine):
    response = control(api, "POST", "config", {"processing_seconds": 0.5, "run_limit": 9})
    assert response.status_code == 200
    assert response.json()["processing_seconds"] == 0.5 and response.json()["run_limit"] == 9
    assert engine.config.max_in_flight == 6  # untouched
    assert control(api, "GET", "config").json()["run_limit"] == 9
    for bad in (
        {"nope": 1},
        {"run_limit": "many"},
        {"output_shape": "dict"},
        {"failure_rates": {"PipelineError": 2}},
        [1],
    ):
        rejected = control(api, "POST", "config", bad)
        assert rejected.status_code == 400 and rejected.json()["error"] == "BadRequest"
    assert engine.config.run_limit == 9


def test_control_faults_queue_and_list(api, engine):
    response = control(api, "POST", "faults", [{"on": "run", "http_status": 500, "times": 2}])
    assert response.status_code == 200
    assert response.json()["faults"] == [{"on": "run", "times": 2, "http_status": 500}]
    assert api.run().status_code == 500
    assert control(api, "GET", "faults").json()["faults"][0]["times"] == 1
    bad = control(api, "POST", "faults", {"on": "prediction", "hang": True, "final_status": "x"})
    assert bad.status_code == 400


def test_control_reset_forgets_everything_and_restores_config(api, engine):
    api.wait(api.submit())
    control(api, "POST", "config", {"credits": 3, "max_in_flight": 1})
    control(api, "POST", "faults", {"on": "run", "http_status": 500})
    assert control(api, "POST", "reset").json() == {"reset": True}
    stats = control(api, "GET", "stats").json()
    assert stats["predictions"] == {} and stats["run_calls"] == 0 and stats["status_calls"] == 0
    assert stats["faults_pending"] == [] and stats["credits"] == engine.config.credits
    assert engine.config.max_in_flight == 6
    assert api.run().status_code == 200


def test_control_stats_has_the_documented_keys(api):
    stats = control(api, "GET", "stats").json()
    for key in (
        "run_calls",
        "runs_accepted",
        "status_calls",
        "in_flight",
        "max_in_flight_seen",
        "rejected",
        "predictions",
    ):
        assert key in stats
