"""API-level errors (HTTP 4xx/5xx, no prediction) and runtime errors (status "failed")."""

from __future__ import annotations

import io
import socket
import time

import pytest
import requests
from PIL import Image

from offline_engine.protocol.image_loading import is_loopback_host, is_loopback_url

from .conftest import data_uri, jpeg_bytes


def _post_run(api, body, *, raw: bytes | None = None) -> requests.Response:
    if raw is not None:
        return requests.post(f"{api.url}/v1/run", data=raw, headers=api.headers(), timeout=5)
    return requests.post(f"{api.url}/v1/run", json=body, headers=api.headers(), timeout=5)


FACE = "data:image/jpeg;base64,/9j/"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ([1, 2], "JSON object"),
        ({"inputs": {"face_image": FACE}}, "model_name is required"),
        ({"model_name": "tryon-v9", "inputs": {"face_image": FACE}}, "Unknown model_name"),
        ({"model_name": 7, "inputs": {"face_image": FACE}}, "model_name must be a string"),
        ({"model_name": "face-to-model"}, "inputs is required"),
        ({"model_name": "face-to-model", "inputs": "x"}, "inputs must be a JSON object"),
        ({"model_name": "face-to-model", "inputs": {}}, "face_image is required"),
        ({"model_name": "face-to-model", "inputs": {"face_image": "  "}}, "must not be empty"),
        (
            {"model_name": "face-to-model", "inputs": {"face_image": 5}},
            "face_image must be a string",
        ),
    ],
)
def test_request_shape_problems_are_400_and_create_nothing(api, engine, body, words):
    response = _post_run(api, body)
    assert response.status_code == 400
    assert response.json()["error"] == "BadRequest"
    assert words in response.json()["message"]
    assert engine.stats()["runs_accepted"] == 0
    assert engine.stats()["rejected"] == {"BadRequest": 1}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("aspect_ratio", "16:9"),
        ("aspect_ratio", 1.5),
        ("seed", -1),
        ("seed", 2**32),
        ("seed", "42"),
        ("seed", True),
        ("seed", 4.5),
        ("output_format", "webp"),
        ("return_base64", "yes"),
        ("resolution", "8k"),
        ("resolution", "4K"),
        ("generation_mode", "turbo"),
        ("generation_mode", "best"),
        ("num_images", 0),
        ("num_images", 5),
        ("num_images", "2"),
        ("num_images", 1.5),
        ("num_images", 2.0),
        ("num_images", True),
        ("prompt", 5),
    ],
)
def test_bad_input_values_are_400_naming_the_field(api, engine, field, value):
    response = api.run(**{field: value})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "BadRequest"
    assert f"inputs.{field}" in body["message"]
    assert engine.stats()["runs_accepted"] == 0


def test_seed_bounds_are_inclusive(api):
    assert api.run(seed=0).status_code == 200
    assert api.run(seed=2**32 - 1).status_code == 200


@pytest.mark.parametrize("raw", [b"", b"{not json", b"\xff\xfe"])
def test_body_that_is_not_json_is_400(api, engine, raw):
    response = _post_run(api, None, raw=raw)
    assert response.status_code == 400
    assert response.json()["error"] == "BadRequest"
    assert engine.stats()["runs_accepted"] == 0


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-key"},
        {"Authorization": "Basic Zm9vOmJhcg=="},
        {"Authorization": "Bearer"},
    ],
)
def test_missing_or_wrong_key_is_401_everywhere(api, engine, headers):
    body = {"model_name": "face-to-model", "inputs": {"face_image": api.face_uri}}
    answers = [
        requests.post(f"{api.url}/v1/run", json=body, headers=headers, timeout=5),
        requests.get(f"{api.url}/v1/status/abc", headers=headers, timeout=5),
        requests.get(f"{api.url}/v1/credits", headers=headers, timeout=5),
        requests.get(f"{api.url}/_engine/stats", headers=headers, timeout=5),
        requests.post(f"{api.url}/_engine/reset", headers=headers, timeout=5),
    ]
    for response in answers:
        assert response.status_code == 401
        assert response.json()["error"] == "UnauthorizedAccess"
        assert response.json()["message"].startswith("Unauthorized")
    assert engine.stats()["runs_accepted"] == 0
    assert engine.stats()["rejected"] == {"UnauthorizedAccess": 5}


def test_unknown_prediction_output_and_route_are_404(api):
    status = api.status("no-such-id")
    assert status.status_code == 404 and status.json()["error"] == "NotFound"
    output = requests.get(f"{api.url}/v1/outputs/no-such-id/0.jpg", timeout=5)
    assert output.status_code == 404 and output.json()["error"] == "NotFound"
    route = requests.get(f"{api.url}/v2/run", headers=api.headers(), timeout=5)
    assert route.status_code == 404 and route.json()["error"] == "NotFound"


def test_output_index_and_extension_must_match(api):
    doc = api.complete()
    base = doc["output"][0].rsplit("/", 1)[0]
    assert requests.get(f"{base}/1.jpg", timeout=5).status_code == 404
    assert requests.get(f"{base}/0.png", timeout=5).status_code == 404
    assert requests.get(f"{base}/0.jpeg", timeout=5).status_code == 200


def test_wrong_method_is_405(api):
    response = requests.get(f"{api.url}/v1/run", headers=api.headers(), timeout=5)
    assert response.status_code == 405
    assert response.json()["error"] == "MethodNotAllowed"


def test_run_rate_limit_is_429_with_retry_after(api, engine):
    engine.configure(run_limit=2, run_window_seconds=30)
    assert api.run().status_code == 200
    assert api.run().status_code == 200
    response = api.run()
    assert response.status_code == 429
    assert response.json()["error"] == "RateLimitExceeded"
    assert 1 <= int(response.headers["Retry-After"]) <= 30
    stats = engine.stats()
    assert stats["runs_accepted"] == 2 and stats["run_calls"] == 3
    assert stats["rejected"] == {"RateLimitExceeded": 1}


def test_rate_limit_window_slides(api, engine):
    engine.configure(run_limit=1, run_window_seconds=2)
    assert api.run().status_code == 200
    refused = api.run()
    assert refused.status_code == 429
    # Retry-After is whole seconds, rounded up: once they have passed, the first run has left
    # the window.
    time.sleep(int(refused.headers["Retry-After"]))
    assert api.run().status_code == 200


def test_status_rate_limit_is_429_with_retry_after(api, engine):
    prediction_id = api.submit()
    engine.configure(status_limit=3, status_window_seconds=10)
    codes = [api.status(prediction_id).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = api.status(prediction_id)
    assert limited.json()["error"] == "RateLimitExceeded"
    assert 1 <= int(limited.headers["Retry-After"]) <= 10


def test_credits_endpoint_has_its_own_rate_limit(api, engine):
    engine.configure(credits_limit=1)
    first = requests.get(f"{api.url}/v1/credits", headers=api.headers(), timeout=5)
    second = requests.get(f"{api.url}/v1/credits", headers=api.headers(), timeout=5)
    assert first.status_code == 200
    assert second.status_code == 429 and "Retry-After" in second.headers


def test_too_many_in_flight_is_429_concurrency_with_retry_after(api, engine):
    engine.configure(max_in_flight=2, processing_seconds=3)
    first, second = api.submit(), api.submit()
    response = api.run()
    assert response.status_code == 429
    assert response.json()["error"] == "ConcurrencyLimitExceeded"
    assert 1 <= int(response.headers["Retry-After"]) <= 3
    stats = engine.stats()
    assert stats["in_flight"] == 2 and stats["max_in_flight_seen"] == 2
    assert stats["runs_accepted"] == 2
    assert set(stats["predictions"]) == {first, second}


def test_a_finished_prediction_frees_its_slot(api, engine):
    engine.configure(max_in_flight=1)
    api.wait(api.submit())
    assert api.run().status_code == 200


def test_no_credits_is_429_out_of_credits(api, engine):
    engine.configure(credits=0)
    response = api.run()
    assert response.status_code == 429
    assert response.json()["error"] == "OutOfCredits"
    assert engine.stats()["runs_accepted"] == 0


def test_credits_held_by_running_predictions_count(api, engine):
    engine.configure(credits=5, processing_seconds=3)
    assert api.run(num_images=2).status_code == 200  # 2 x balanced 1k: 4 credits
    response = api.run(num_images=2, generation_mode="fast")  # 1 left, 2 more do not fit
    assert response.status_code == 429 and response.json()["error"] == "OutOfCredits"
    assert "needs 2, 1 available" in response.json()["message"]
    assert api.run(generation_mode="fast").status_code == 200


def test_unexpected_exception_is_500_json(api, engine, monkeypatch):
    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(engine.app.store, "balance", broken)
    response = requests.get(f"{api.url}/v1/credits", headers=api.headers(), timeout=5)
    assert response.status_code == 500
    assert response.json() == {
        "error": "InternalServerError",
        "message": "An unexpected error occurred in the engine.",
    }
    assert engine.stats()["rejected"] == {"InternalServerError": 1}


# --- runtime errors: the prediction is created, then fails ------------------------------------


def _failed(api, face_image: str) -> dict:
    response = api.wait(api.submit(face_image=face_image))
    doc = response.json()
    assert doc["status"] == "failed"
    assert doc["output"] is None
    assert response.headers["x-fashn-credits-used"] == "0"
    return doc["error"]


def test_no_face_is_input_validation_error(api):
    buffer = io.BytesIO()
    Image.new("RGB", (400, 400), (128, 128, 128)).save(buffer, "PNG")
    error = _failed(api, data_uri(buffer.getvalue(), "image/png"))
    assert error == {
        "name": "InputValidationError",
        "message": "No face was found in the image. Upload a photo where one person's face is "
        "clearly visible, facing the camera, at least 64 px wide.",
    }


def test_face_smaller_than_64_px_is_input_validation_error(api, astronaut):
    small = jpeg_bytes(astronaut.resize((256, 256)))  # the face is about 52 px wide
    error = _failed(api, data_uri(small))
    assert error["name"] == "InputValidationError"
    assert "too small" in error["message"] and "64 px" in error["message"]


@pytest.mark.parametrize(
    ("face_image", "words"),
    [
        (data_uri(b"\x00garbage bytes, not an image" * 20), "could not be read as an image"),
        ("data:image/jpeg;base64,@@@not base64@@@", "could not be decoded"),
        ("data:text/plain;base64,aGVsbG8=", "not an image"),
        ("iVBORw0KGgoAAAANSUhEUgAA", "data:image/...;base64, prefix"),
    ],
)
def test_unreadable_images_are_image_load_error(api, face_image, words):
    error = _failed(api, face_image)
    assert error["name"] == "ImageLoadError"
    assert words in error["message"]


def test_truncated_jpeg_is_image_load_error(api, face_jpeg):
    error = _failed(api, data_uri(face_jpeg[:2000]))
    assert error["name"] == "ImageLoadError"


@pytest.mark.parametrize(
    "url",
    [
        "http://203.0.113.7/face.jpg",
        "https://example.com/face.jpg",
        "http://10.0.0.1:8000/f.png",
        "http://[2001:db8::1]/face.jpg",
    ],
)
def test_non_loopback_urls_fail_without_any_connection(api, url):
    error = _failed(api, url)
    assert error["name"] == "ImageLoadError"
    assert "only fetches loopback URLs" in error["message"]


def test_unreachable_loopback_url_is_image_load_error(api):
    with socket.socket() as sock:  # a port with nothing listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error = _failed(api, f"http://127.0.0.1:{port}/face.jpg")
    assert error["name"] == "ImageLoadError"
    assert "could not be reached" in error["message"]


def test_loopback_checks_never_need_the_network():
    assert is_loopback_host("127.0.0.1") and is_loopback_host("127.8.9.10")
    assert is_loopback_host("::1") and is_loopback_host("[::1]")
    assert is_loopback_host("localhost", resolve=False)
    assert not is_loopback_host("10.0.0.1")
    assert not is_loopback_host("example.com")  # refused before any lookup
    assert not is_loopback_host("localhost.example.com")
    assert not is_loopback_url("ftp://127.0.0.1/face.jpg")
    assert is_loopback_url("http://127.0.0.1:8000/face.jpg")
