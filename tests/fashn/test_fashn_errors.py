"""Every failure maps to the right exception, with the right retryable / maybe_submitted.

After each failing run the engine's own counter proves the client sent it exactly once.
"""

import socket
import threading

import pytest

from avatar_studio.fashn import (
    BadRequestError,
    ConcurrencyLimitError,
    FaceToModelInputs,
    FashnClient,
    FashnConnectionError,
    FashnTimeoutError,
    NotFoundError,
    OutOfCreditsError,
    ProtocolError,
    RateLimitError,
    ServerError,
    UnauthorizedError,
)

HTTP_CASES = [
    # (status, FASHN error type, exception, retryable, maybe_submitted on run)
    (400, "BadRequest", BadRequestError, False, False),
    (401, "UnauthorizedAccess", UnauthorizedError, False, False),
    (404, "NotFound", NotFoundError, False, False),
    (429, "RateLimitExceeded", RateLimitError, True, False),
    (429, "ConcurrencyLimitExceeded", ConcurrencyLimitError, True, False),
    (429, "OutOfCredits", OutOfCreditsError, False, False),
    (429, "SomethingNew", RateLimitError, True, False),
    (500, "InternalServerError", ServerError, True, False),
    (502, "BadGateway", ServerError, True, True),
    (503, "ServiceUnavailable", ServerError, True, False),
    (504, "GatewayTimeout", ServerError, True, True),
]


@pytest.fixture
def inputs(face_data_uri):
    return FaceToModelInputs(face_image=face_data_uri)


@pytest.mark.parametrize(("status", "error_type", "exc_type", "retryable", "submitted"), HTTP_CASES)
def test_http_errors_on_run(
    engine, client, inputs, status, error_type, exc_type, retryable, submitted
):
    engine.add_faults(
        {
            "on": "run",
            "times": 1,
            "http_status": status,
            "error": error_type,
            "message": "injected",
            "retry_after": 3,
        }
    )
    with pytest.raises(exc_type) as info:
        client.run_face_to_model(inputs)
    error = info.value
    assert type(error) is exc_type
    assert error.status_code == status
    assert error.error_type == error_type
    assert "injected" in error.message
    assert error.retry_after == 3.0
    assert error.retryable is retryable
    assert error.maybe_submitted is submitted
    assert engine.stats()["run_calls"] == 1


@pytest.mark.parametrize(("status", "error_type", "exc_type", "retryable", "_"), HTTP_CASES)
def test_http_errors_on_status_never_claim_a_submission(
    engine, client, inputs, status, error_type, exc_type, retryable, _
):
    prediction_id = client.run_face_to_model(inputs)
    engine.add_faults({"on": "status", "times": 1, "http_status": status, "error": error_type})
    with pytest.raises(exc_type) as info:
        client.status(prediction_id)
    assert info.value.retryable is retryable
    assert info.value.maybe_submitted is False
    # No retry_after was injected: only a 429 gets the engine's default Retry-After of 1 s.
    assert info.value.retry_after == (1.0 if status == 429 else None)
    # The fault was one-shot: the next poll works, so the caller's retry would succeed.
    assert client.status(prediction_id).id == prediction_id


def test_real_rate_limit_of_the_engine(engine, client, inputs):
    engine.configure(run_limit=1, run_window_seconds=60)
    client.run_face_to_model(inputs)
    with pytest.raises(RateLimitError) as info:
        client.run_face_to_model(inputs)
    assert info.value.error_type == "RateLimitExceeded"
    assert info.value.retryable and not info.value.maybe_submitted
    assert info.value.retry_after is not None and info.value.retry_after > 0
    assert engine.stats()["runs_accepted"] == 1


def test_real_concurrency_limit_of_the_engine(engine, client, inputs):
    engine.configure(max_in_flight=1, processing_seconds=30)
    client.run_face_to_model(inputs)
    with pytest.raises(ConcurrencyLimitError) as info:
        client.run_face_to_model(inputs)
    assert info.value.retryable is True
    assert engine.stats()["runs_accepted"] == 1


def test_out_of_credits_is_permanent(engine, client, inputs):
    engine.configure(credits=0)
    with pytest.raises(OutOfCreditsError) as info:
        client.run_face_to_model(inputs)
    assert info.value.retryable is False
    assert engine.stats()["runs_accepted"] == 0


def test_read_timeout_on_run_may_have_submitted(engine, inputs):
    # The answer comes seconds after the client has given up, however busy the machine.
    engine.add_faults({"on": "run", "times": 1, "delay_seconds": 3})
    impatient = FashnClient(engine.api_key, engine.url, read_timeout=0.2)
    with impatient, pytest.raises(FashnTimeoutError) as info:
        impatient.run_face_to_model(inputs)
    assert info.value.retryable is True
    assert info.value.maybe_submitted is True
    assert engine.stats()["run_calls"] == 1


def test_read_timeout_on_status_is_a_plain_retry(engine, client, inputs):
    prediction_id = client.run_face_to_model(inputs)
    engine.add_faults({"on": "status", "times": 1, "delay_seconds": 3})
    impatient = FashnClient(engine.api_key, engine.url, read_timeout=0.2)
    with impatient, pytest.raises(FashnTimeoutError) as info:
        impatient.status(prediction_id)
    assert info.value.retryable is True
    assert info.value.maybe_submitted is False


def test_connection_refused_was_never_submitted(closed_port, inputs):
    unreachable = FashnClient("key", f"http://127.0.0.1:{closed_port}")
    with unreachable, pytest.raises(FashnConnectionError) as info:
        unreachable.run_face_to_model(inputs)
    assert info.value.retryable is True
    assert info.value.maybe_submitted is False
    assert "refused" in info.value.message.lower()


def test_connection_dropped_after_sending_may_have_submitted(inputs):
    # The engine cannot hang up mid-request, so a raw loopback socket plays that server.
    received = []

    def hang_up(server: socket.socket) -> None:
        conn, _ = server.accept()
        with conn:
            received.append(conn.recv(65536))

    with socket.create_server(("127.0.0.1", 0)) as server:
        thread = threading.Thread(target=hang_up, args=(server,), daemon=True)
        thread.start()
        port = server.getsockname()[1]
        c = FashnClient("key", f"http://127.0.0.1:{port}")
        with c, pytest.raises(FashnConnectionError) as info:
            c.run_face_to_model(inputs)
        thread.join(5)
    assert received and received[0].startswith(b"POST /v1/run ")
    assert info.value.retryable is True
    assert info.value.maybe_submitted is True


def test_malformed_answer_to_run_may_have_submitted(engine, client, inputs):
    engine.add_faults({"on": "run", "times": 1, "malformed": True})
    with pytest.raises(ProtocolError) as info:
        client.run_face_to_model(inputs)
    assert info.value.retryable is True
    assert info.value.maybe_submitted is True
    assert engine.stats()["run_calls"] == 1


def test_malformed_answer_to_status(engine, client, inputs):
    prediction_id = client.run_face_to_model(inputs)
    engine.add_faults({"on": "status", "times": 1, "malformed": True})
    with pytest.raises(ProtocolError) as info:
        client.status(prediction_id)
    assert info.value.retryable is True
    assert info.value.maybe_submitted is False


def test_api_key_never_appears_in_errors(engine, inputs, closed_port):
    # Even a server that echoes the key back does not get it into our messages.
    engine.add_faults(
        {
            "on": "run",
            "times": 1,
            "http_status": 500,
            "error": "InternalServerError",
            "message": f"bad key {engine.api_key}",
        }
    )
    c = FashnClient(engine.api_key, engine.url)
    with c, pytest.raises(ServerError) as server_error:
        c.run_face_to_model(inputs)
    c = FashnClient(engine.api_key, f"http://127.0.0.1:{closed_port}")
    with c, pytest.raises(FashnConnectionError) as connection_error:
        c.status("p1")
    for error in (server_error.value, connection_error.value):
        assert engine.api_key not in str(error)
        assert engine.api_key not in repr(error)
