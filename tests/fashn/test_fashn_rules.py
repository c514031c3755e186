"""The protocol rules the app relies on, each from its one home in ``avatar_studio.fashn``.

The app stores a prediction's status and error name as plain strings on an attempt row, so
the rules are checked with plain strings as well as with the parsed ``Prediction``.
"""

import ast
import dataclasses
import http.server
import json
import random
import threading
from pathlib import Path

import pytest

from avatar_studio import fashn
from avatar_studio.fashn import (
    ASPECT_RATIOS,
    DEFAULT_ASPECT_RATIO,
    DEFAULT_OUTPUT_FORMAT,
    DEFAULT_SEED,
    DEFAULT_TRYON_CATEGORY,
    DEFAULT_TRYON_MODE,
    OUTPUT_FORMATS,
    PERMANENT_RUNTIME_ERRORS,
    RETRYABLE_RUNTIME_ERRORS,
    RUNNING_STATUSES,
    SEED_MAX,
    SEED_MIN,
    TERMINAL_STATUSES,
    TRYON_CATEGORIES,
    TRYON_MODES,
    UNKNOWN_ERROR,
    FaceToModelInputs,
    FashnClient,
    Prediction,
    PredictionError,
    PredictionStatus,
    TryOnInputs,
    TryOnMaxInputs,
    is_running_status,
    is_terminal_status,
    random_seed,
    retry_can_succeed,
)

FACE = "https://example.com/face.jpg"
MODEL = "https://example.com/model.png"
GARMENT = "https://example.com/tee.png"
PACKAGE = Path(fashn.__file__).parent

# --- running or ended ---------------------------------------------------------------------

RUNNING = ["starting", "in_queue", "processing"]
TERMINAL = ["completed", "failed", "canceled", "time_out"]


@pytest.mark.parametrize("status", RUNNING)
def test_running_statuses_are_running_and_not_terminal(status):
    assert is_running_status(status) and not is_terminal_status(status)
    assert not PredictionStatus(status).is_terminal


@pytest.mark.parametrize("status", TERMINAL)
def test_terminal_statuses_are_terminal_and_not_running(status):
    assert is_terminal_status(status) and not is_running_status(status)
    assert PredictionStatus(status).is_terminal


def test_running_and_terminal_split_every_status_in_two():
    assert set(PredictionStatus) == RUNNING_STATUSES | TERMINAL_STATUSES
    assert not RUNNING_STATUSES & TERMINAL_STATUSES
    assert {str(status) for status in RUNNING_STATUSES} == set(RUNNING)


@pytest.mark.parametrize("status", ["", "exploded", "Processing", "timeout"])
def test_a_string_that_is_no_status_is_neither_running_nor_terminal(status):
    assert not is_running_status(status)
    assert not is_terminal_status(status)


# --- can a retry succeed ------------------------------------------------------------------


@pytest.mark.parametrize("error_name", ["", None, UNKNOWN_ERROR, "PoseError"])
def test_time_out_can_succeed_on_retry_whatever_the_error(error_name):
    assert retry_can_succeed("time_out", error_name)


@pytest.mark.parametrize("error_name", sorted(RETRYABLE_RUNTIME_ERRORS))
def test_failed_with_a_fault_on_fashns_side_can_succeed_on_retry(error_name):
    assert retry_can_succeed("failed", error_name)


@pytest.mark.parametrize("error_name", sorted(PERMANENT_RUNTIME_ERRORS))
def test_failed_because_of_the_inputs_cannot(error_name):
    assert not retry_can_succeed("failed", error_name)


@pytest.mark.parametrize("error_name", ["", None, UNKNOWN_ERROR, "SomeNewError", "pipelineerror"])
def test_failed_with_an_unknown_error_cannot(error_name):
    assert not retry_can_succeed("failed", error_name)


@pytest.mark.parametrize("error_name", ["", "PipelineError"])
def test_canceled_is_never_retried(error_name):
    assert not retry_can_succeed("canceled", error_name)


@pytest.mark.parametrize("status", ["completed", *RUNNING, "exploded"])
def test_a_prediction_that_did_not_end_without_an_image_is_no_retry_case(status):
    assert not retry_can_succeed(status, "PipelineError")


def test_the_rule_takes_enum_members_and_the_strings_the_app_stores_alike():
    for status in PredictionStatus:
        for name in ["", "PipelineError", "PoseError"]:
            assert retry_can_succeed(status, name) is retry_can_succeed(str(status), name)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"status": "time_out"}, True),
        ({"status": "failed", "error": {"name": "PipelineError", "message": "m"}}, True),
        ({"status": "failed", "error": {"name": "PoseError", "message": "m"}}, False),
        ({"status": "failed", "error": None}, False),
        ({"status": "canceled"}, False),
        ({"status": "completed", "output": ["https://a/1.png"]}, False),
        ({"status": "processing"}, False),
    ],
)
def test_prediction_retry_can_succeed_follows_the_rule(body, expected):
    prediction = Prediction.from_response({"id": "p1", **body})
    assert prediction.retry_can_succeed is expected
    error_name = prediction.error.name if prediction.error else ""
    assert retry_can_succeed(str(prediction.status), error_name) is expected


@pytest.mark.parametrize("name", sorted(RETRYABLE_RUNTIME_ERRORS | PERMANENT_RUNTIME_ERRORS))
def test_prediction_error_retryable_is_the_rule_for_a_failed_prediction(name):
    assert PredictionError(name, "").retryable is retry_can_succeed("failed", name)


# --- seeds and defaults -------------------------------------------------------------------


def test_random_seed_stays_in_range_and_varies():
    seeds = [random_seed() for _ in range(200)]
    assert all(isinstance(seed, int) and SEED_MIN <= seed <= SEED_MAX for seed in seeds)
    assert len(set(seeds)) > 190


def test_random_seed_reaches_both_ends_of_the_range(monkeypatch):
    asked = []

    def randbelow(n):
        asked.append(n)
        return n - 1 if len(asked) == 1 else 0

    monkeypatch.setattr("avatar_studio.fashn.types.secrets.randbelow", randbelow)
    assert random_seed() == SEED_MAX
    assert random_seed() == SEED_MIN
    assert asked == [SEED_MAX - SEED_MIN + 1] * 2


def test_random_seed_ignores_the_seeding_of_the_random_module():
    random.seed(7)
    first = random_seed()
    random.seed(7)
    assert random_seed() != first


def test_random_seed_is_a_valid_input_seed():
    seed = random_seed()
    assert FaceToModelInputs(face_image=FACE, seed=seed).to_payload()["seed"] == seed


def test_seed_range_is_the_protocols():
    assert (SEED_MIN, SEED_MAX) == (0, 2**32 - 1)


def test_defaults_are_the_protocols_and_allowed():
    assert (DEFAULT_SEED, DEFAULT_ASPECT_RATIO, DEFAULT_OUTPUT_FORMAT) == (42, "2:3", "jpeg")
    assert DEFAULT_ASPECT_RATIO in ASPECT_RATIOS
    assert DEFAULT_OUTPUT_FORMAT in OUTPUT_FORMATS
    assert SEED_MIN <= DEFAULT_SEED <= SEED_MAX
    assert (DEFAULT_TRYON_CATEGORY, DEFAULT_TRYON_MODE) == ("auto", "balanced")
    assert DEFAULT_TRYON_CATEGORY in TRYON_CATEGORIES
    assert DEFAULT_TRYON_MODE in TRYON_MODES


def _defaults(cls):
    return {f.name: f.default for f in dataclasses.fields(cls)}


def test_inputs_take_their_defaults_from_the_constants():
    face = _defaults(FaceToModelInputs)
    assert face["seed"] == DEFAULT_SEED
    assert face["aspect_ratio"] == DEFAULT_ASPECT_RATIO
    assert face["output_format"] == DEFAULT_OUTPUT_FORMAT
    tryon = _defaults(TryOnInputs)
    assert tryon["seed"] == DEFAULT_SEED
    assert tryon["output_format"] == DEFAULT_OUTPUT_FORMAT
    assert tryon["category"] == DEFAULT_TRYON_CATEGORY
    assert tryon["mode"] == DEFAULT_TRYON_MODE


# --- submitting ---------------------------------------------------------------------------


@pytest.fixture
def fashn_stub():
    """A loopback server that records each /v1/run and answers with a prediction id."""
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, json.loads(body)))
            answer = json.dumps({"id": f"p-{len(received)}", "error": None}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler) as server:
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}"
        with FashnClient("test-key", url) as client:
            yield client, received
        server.shutdown()


def test_run_face_to_model_sends_face_to_model_with_the_inputs_payload(fashn_stub):
    client, received = fashn_stub
    inputs = FaceToModelInputs(face_image=FACE, prompt="athletic build", seed=7)
    assert client.run_face_to_model(inputs) == "p-1"
    ((path, body),) = received
    assert path == "/v1/run"
    assert body == {"model_name": "face-to-model", "inputs": inputs.to_payload()}


def test_run_tryon_sends_tryon_v1_6_with_the_inputs_payload(fashn_stub):
    client, received = fashn_stub
    inputs = TryOnInputs(model_image=MODEL, garment_image=GARMENT, category="tops")
    hook = "https://studio.example/hooks/fashn/abc"
    assert client.run_tryon(inputs, webhook_url=hook) == "p-1"
    ((path, body),) = received
    assert path == "/v1/run?webhook_url=https%3A%2F%2Fstudio.example%2Fhooks%2Ffashn%2Fabc"
    assert body == {"model_name": "tryon-v1.6", "inputs": inputs.to_payload()}


def test_run_tryon_max_sends_tryon_max_with_the_inputs_payload(fashn_stub):
    client, received = fashn_stub
    inputs = TryOnMaxInputs(
        model_image=MODEL, product_image=GARMENT, generation_mode="quality", num_images=2
    )
    assert client.run_tryon_max(inputs) == "p-1"
    ((path, body),) = received
    assert path == "/v1/run"
    assert body == {"model_name": "tryon-max", "inputs": inputs.to_payload()}


@pytest.mark.parametrize(
    ("method", "inputs"),
    [
        ("run_face_to_model", TryOnInputs(model_image=MODEL, garment_image=GARMENT)),
        ("run_tryon", FaceToModelInputs(face_image=FACE)),
        ("run_face_to_model", {"face_image": FACE}),
        ("run_tryon", TryOnMaxInputs(model_image=MODEL, product_image=GARMENT)),
        ("run_tryon_max", TryOnInputs(model_image=MODEL, garment_image=GARMENT)),
        ("run_tryon_max", FaceToModelInputs(face_image=FACE)),
        ("run_tryon_max", {"model_image": MODEL, "product_image": GARMENT}),
    ],
)
def test_inputs_of_another_model_are_refused_before_anything_is_sent(fashn_stub, method, inputs):
    client, received = fashn_stub
    with pytest.raises(TypeError):
        getattr(client, method)(inputs)
    assert received == []


# --- the package's shape ------------------------------------------------------------------


def test_package_exports_exactly_what_its_modules_export():
    from avatar_studio.fashn import client, errors, outputs, pricing, sizes, types

    modules = (client, errors, outputs, pricing, sizes, types)
    assert fashn.__all__ == sorted({name for module in modules for name in module.__all__})
    assert all(hasattr(fashn, name) for name in fashn.__all__)


def test_the_package_imports_nothing_from_django_or_the_app():
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                roots = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                roots = [node.module or ""]
            else:
                continue
            for root in roots:
                assert root.split(".")[0] not in {"django", "avatar_studio"}, (path.name, root)
