"""Parsing of status answers, runtime error classification and Retry-After, without HTTP."""

import email.utils
import time

import pytest

from avatar_studio.fashn import (
    PERMANENT_RUNTIME_ERRORS,
    RETRYABLE_RUNTIME_ERRORS,
    UNKNOWN_ERROR,
    Credits,
    Prediction,
    PredictionStatus,
    ProtocolError,
    parse_retry_after,
)


def test_runtime_error_sets_are_as_documented():
    retryable = {
        "PipelineError",
        "ThirdPartyError",
        "3rdPartyProviderError",
        "UnavailableError",
        "InternalServerError",
    }
    permanent = {"ImageLoadError", "ContentModerationError", "InputValidationError", "PoseError"}
    assert retryable == RETRYABLE_RUNTIME_ERRORS
    assert permanent == PERMANENT_RUNTIME_ERRORS
    assert not RETRYABLE_RUNTIME_ERRORS & PERMANENT_RUNTIME_ERRORS


@pytest.mark.parametrize(
    ("status", "terminal"),
    [
        ("starting", False),
        ("in_queue", False),
        ("processing", False),
        ("completed", True),
        ("failed", True),
        ("canceled", True),
        ("time_out", True),
    ],
)
def test_status_terminality(status, terminal):
    assert PredictionStatus(status).is_terminal is terminal
    assert Prediction.from_response({"id": "p1", "status": status}).is_terminal is terminal


@pytest.mark.parametrize(
    "output",
    [["https://a/1.png", "https://a/2.png"], {"images": ["https://a/1.png", "https://a/2.png"]}],
)
def test_both_output_shapes_give_a_list(output):
    prediction = Prediction.from_response({"id": "p1", "status": "completed", "output": output})
    assert prediction.outputs == ["https://a/1.png", "https://a/2.png"]
    assert prediction.is_completed and not prediction.retry_can_succeed


@pytest.mark.parametrize("body", [{}, {"output": None}, {"output": {"images": None}}])
def test_running_prediction_without_output_has_no_outputs(body):
    prediction = Prediction.from_response({"id": "p1", "status": "processing", **body})
    assert prediction.outputs == []
    assert prediction.error is None


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"status": "completed"},
        {"id": "", "status": "completed"},
        {"id": "p1", "status": "exploded"},
        {"id": "p1", "status": None},
        {"id": "p1", "status": "completed", "output": [1, 2]},
        {"id": "p1", "status": "completed", "output": 7},
    ],
)
def test_answers_that_break_the_protocol_raise_protocol_error(body):
    with pytest.raises(ProtocolError) as info:
        Prediction.from_response(body)
    assert info.value.retryable is True
    assert info.value.maybe_submitted is False


def test_failed_without_error_gets_an_unknown_error():
    prediction = Prediction.from_response({"id": "p1", "status": "failed", "error": None})
    assert prediction.error.name == UNKNOWN_ERROR
    assert not prediction.retry_can_succeed


def test_bare_string_error_keeps_a_known_name():
    prediction = Prediction.from_response({"id": "p", "status": "failed", "error": "PipelineError"})
    assert prediction.error.name == "PipelineError"
    assert prediction.retry_can_succeed


def test_credits_parse_and_default_missing_parts_to_zero():
    answer = {"credits": {"total": 234, "subscription": 100, "on_demand": 134}}
    assert Credits.from_response(answer) == Credits(total=234, subscription=100, on_demand=134)
    assert Credits.from_response({"credits": {"total": 5}}) == Credits(5, 0, 0)
    with pytest.raises(ProtocolError):
        Credits.from_response({"credits": {"subscription": 1}})
    with pytest.raises(ProtocolError):
        Credits.from_response({"balance": 3})


def test_retry_after_seconds_and_http_date():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None
    in_a_minute = email.utils.formatdate(time.time() + 60, usegmt=True)
    assert 55 <= parse_retry_after(in_a_minute) <= 61
