"""FashnClient against the offline engine: submit, poll, runtime errors, credits, headers."""

import http.server
import json
import queue
import threading

import pytest
import requests

from avatar_studio.fashn import (
    RUNTIME_ERROR_NAMES,
    FaceToModelInputs,
    FashnClient,
    NotFoundError,
    PredictionStatus,
    UnauthorizedError,
)


@pytest.mark.parametrize("shape", ["list", "images"])
def test_submit_and_poll_to_completed_for_both_output_shapes(
    engine, client, face_data_uri, wait_for, shape
):
    engine.configure(output_shape=shape)
    prediction_id = client.run_face_to_model(
        FaceToModelInputs(face_image=face_data_uri, prompt="athletic build", num_images=2)
    )
    prediction = wait_for(client, prediction_id)
    assert prediction.id == prediction_id
    assert prediction.status is PredictionStatus.COMPLETED
    assert len(prediction.outputs) == 2
    assert all(output.startswith(engine.url) for output in prediction.outputs)
    assert prediction.error is None
    assert engine.stats()["run_calls"] == 1


def test_statuses_pass_through_starting_in_queue_processing(
    engine, client, face_data_uri, wait_for
):
    # A second in each state: polls every few hundredths of a second see every one of them,
    # even when a busy machine delays some of the polls (so many that the status rate limit is
    # lifted out of their way).
    engine.configure(
        starting_seconds=1, in_queue_seconds=1, processing_seconds=1, status_limit=1000
    )
    prediction_id = client.run_face_to_model(FaceToModelInputs(face_image=face_data_uri))
    seen = []
    wait_for(client, prediction_id, until=lambda p: seen.append(p.status) or p.is_terminal)
    assert seen[0] is PredictionStatus.STARTING
    assert {PredictionStatus.IN_QUEUE, PredictionStatus.PROCESSING} <= set(seen)
    assert seen[-1] is PredictionStatus.COMPLETED
    assert all(not status.is_terminal for status in seen[:-1])


@pytest.mark.parametrize("final_status", ["canceled", "time_out"])
def test_canceled_and_time_out_are_terminal_and_not_completed(
    engine, client, face_data_uri, wait_for, final_status
):
    engine.add_faults({"on": "prediction", "times": 1, "final_status": final_status})
    prediction_id = client.run_face_to_model(FaceToModelInputs(face_image=face_data_uri))
    prediction = wait_for(client, prediction_id)
    assert prediction.status == final_status
    assert prediction.is_terminal and not prediction.is_completed
    assert prediction.outputs == []
    # FASHN running out of time says nothing against the inputs; a cancel is someone's choice.
    assert prediction.retry_can_succeed is (final_status == "time_out")


@pytest.mark.parametrize("error_name", sorted(RUNTIME_ERROR_NAMES))
def test_every_runtime_error_is_parsed(engine, client, face_data_uri, wait_for, error_name):
    engine.add_faults(
        {
            "on": "prediction",
            "times": 1,
            "error_name": error_name,
            "error_message": f"engine says {error_name}",
        }
    )
    prediction = wait_for(
        client, client.run_face_to_model(FaceToModelInputs(face_image=face_data_uri))
    )
    assert prediction.status is PredictionStatus.FAILED
    assert prediction.error.name == error_name
    assert prediction.error.message == f"engine says {error_name}"
    assert prediction.retry_can_succeed is (error_name in _RETRYABLE)
    assert prediction.error.retryable is (error_name in _RETRYABLE)
    assert prediction.outputs == []


_RETRYABLE = {
    "PipelineError",
    "ThirdPartyError",
    "3rdPartyProviderError",
    "UnavailableError",
    "InternalServerError",
}


def test_credits_used_header_is_read_on_completion(engine, client, face_data_uri, wait_for):
    prediction = wait_for(
        client,
        client.run_face_to_model(FaceToModelInputs(face_image=face_data_uri, num_images=2)),
    )
    assert isinstance(prediction.credits_used, int)
    assert prediction.credits_used >= 1


def test_credits_balance(engine, client):
    engine.configure(credits=123)
    balance = client.credits()
    assert balance.total == 123
    assert balance.total == balance.subscription + balance.on_demand


def test_wrong_api_key_is_unauthorized_and_never_shown(engine):
    secret = "sk-wrong-key-that-must-not-leak"
    with FashnClient(secret, engine.url) as bad_client:
        assert secret not in repr(bad_client)
        with pytest.raises(UnauthorizedError) as info:
            bad_client.status("anything")
    error = info.value
    assert error.status_code == 401
    assert error.retryable is False
    assert secret not in str(error) and secret not in repr(error)


def test_unknown_prediction_is_not_found(client):
    with pytest.raises(NotFoundError) as info:
        client.status("no-such-prediction")
    assert info.value.status_code == 404
    assert info.value.retryable is False


def test_session_default_headers_are_kept(engine, face_data_uri, wait_for):
    # A session supplied by the caller keeps its own headers and still gets our auth.
    session = requests.Session()
    session.headers["X-Test-Run"] = "fashn-client"
    with FashnClient(engine.api_key, engine.url, session=session) as c:
        prediction_id = c.run_face_to_model(FaceToModelInputs(face_image=face_data_uri))
        assert wait_for(c, prediction_id).is_completed
    assert session.headers["X-Test-Run"] == "fashn-client"


def test_webhook_url_is_sent_as_query_parameter(engine, client, face_data_uri, wait_for):
    # A loopback listener stands in for our webhook view: the engine POSTs the status there.
    received = queue.Queue()

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.put((self.path, json.loads(body)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook) as hook_server:
        threading.Thread(target=hook_server.serve_forever, args=(0.05,), daemon=True).start()
        hook_url = f"http://127.0.0.1:{hook_server.server_address[1]}/hooks/fashn?token=abc"
        prediction_id = client.run_face_to_model(
            FaceToModelInputs(face_image=face_data_uri), webhook_url=hook_url
        )
        assert wait_for(client, prediction_id).is_completed
        path, payload = received.get(timeout=5)
        hook_server.shutdown()
    assert path == "/hooks/fashn?token=abc"
    assert payload["id"] == prediction_id
    assert payload["status"] == "completed"
