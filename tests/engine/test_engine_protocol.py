"""The engine speaks FASHN's protocol: run, status lifecycle, outputs, inputs, credits."""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from PIL import Image

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"


def fetch(url: str) -> requests.Response:
    response = requests.get(url, timeout=5)
    assert response.status_code == 200, response.text
    return response


# How soon /v1/run answers and the prediction completes is measured by bench/engine.py.
def test_run_answers_an_id_and_the_prediction_completes(api):
    response = api.run()
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "error"} and body["error"] is None and body["id"]

    final = api.wait(body["id"])
    doc = final.json()
    assert doc["id"] == body["id"] and doc["status"] == "completed" and doc["error"] is None
    assert doc["output"] == [f"{api.url}/v1/outputs/{body['id']}/0.jpg"]
    assert final.headers["x-fashn-credits-used"] == "2"  # balanced (the engine's choice), 1k


def test_statuses_follow_the_configured_schedule_in_order(api, engine):
    # A second in each state: polls every few hundredths of a second see every one of them,
    # even when a busy machine delays some of the polls (so many that the status rate limit is
    # lifted out of their way).
    engine.configure(
        starting_seconds=1, in_queue_seconds=1, processing_seconds=1, status_limit=1000
    )
    prediction_id = api.submit()
    seen = []
    deadline = time.monotonic() + 30
    while not seen or seen[-1] not in ("completed", "failed"):
        doc = api.status(prediction_id).json()
        if not seen or seen[-1] != doc["status"]:
            seen.append(doc["status"])
        if doc["status"] != "completed":
            assert doc["output"] is None  # nothing to show while running
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert seen == ["starting", "in_queue", "processing", "completed"]


# --- processing_spread: predictions of one mode that vary in length, as FASHN's do ---------------


def processing_times(api, engine, count: int) -> list[float]:
    """Submit ``count`` predictions; the processing time the engine gave each."""
    return [engine.app.store.get(api.submit()).schedule.processing for _ in range(count)]


def test_no_spread_gives_every_prediction_exactly_its_processing_time(api, engine):
    engine.configure(processing_seconds=30, processing_spread=0)
    assert processing_times(api, engine, 6) == [30.0] * 6


def test_a_spread_varies_processing_times_within_its_bounds(api, engine):
    engine.configure(processing_seconds=30, processing_spread=0.5)
    times = processing_times(api, engine, 6)
    assert all(15 <= seconds <= 45 for seconds in times), times
    assert len(set(times)) > 1, times


def test_the_same_seed_gives_the_same_processing_times(api, engine):
    def seeded_times(seed):
        engine.reset()
        engine.configure(processing_seconds=30, processing_spread=0.5, fault_seed=seed)
        return processing_times(api, engine, 6)

    first = seeded_times(7)
    assert seeded_times(7) == first
    assert seeded_times(8) != first


def test_a_refused_run_does_not_draw_a_processing_time(api, engine):
    def second_time(refuse_one_between):
        engine.reset()
        engine.configure(
            processing_seconds=30, processing_spread=0.5, fault_seed=3, max_in_flight=1
        )
        api.submit()
        if refuse_one_between:
            assert api.run().status_code == 429  # the only slot is taken
        engine.configure(max_in_flight=2)
        return processing_times(api, engine, 1)

    assert second_time(refuse_one_between=True) == second_time(refuse_one_between=False)


def test_output_url_serves_the_image_with_its_content_type(api):
    doc = api.complete(output_format="png")
    response = fetch(doc["output"][0])  # no Authorization header: like a CDN
    assert response.headers["Content-Type"] == "image/png"
    assert response.content.startswith(PNG_MAGIC)


@pytest.mark.parametrize(
    ("aspect_ratio", "size"),
    [
        ("1:1", (1024, 1024)),
        ("4:5", (912, 1140)),
        ("3:4", (888, 1184)),
        ("2:3", (832, 1248)),
        ("9:16", (756, 1344)),
    ],
)
def test_aspect_ratio_sets_the_output_size(api, aspect_ratio, size):
    doc = api.complete(aspect_ratio=aspect_ratio)
    image = Image.open(io.BytesIO(fetch(doc["output"][0]).content))
    assert image.size == size
    w, h = size
    a, b = map(int, aspect_ratio.split(":"))
    assert w * b == h * a  # exactly the requested ratio, extended downward


def test_default_aspect_ratio_is_2_3_and_format_jpeg(api):
    doc = api.complete()
    content = fetch(doc["output"][0]).content
    assert content.startswith(JPEG_MAGIC)
    assert Image.open(io.BytesIO(content)).size == (832, 1248)


def test_resolution_2k_doubles_the_size(api):
    doc = api.complete(aspect_ratio="1:1", resolution="2k")
    assert Image.open(io.BytesIO(fetch(doc["output"][0]).content)).size == (2048, 2048)


@pytest.mark.parametrize(
    ("output_format", "magic", "ext"), [("png", PNG_MAGIC, "png"), ("jpeg", JPEG_MAGIC, "jpg")]
)
def test_output_format_sets_magic_bytes_and_extension(api, output_format, magic, ext):
    doc = api.complete(output_format=output_format)
    assert doc["output"][0].endswith(f"/0.{ext}")
    assert fetch(doc["output"][0]).content.startswith(magic)


@pytest.mark.parametrize("output_format", ["png", "jpeg"])
def test_same_seed_same_bytes_other_seed_other_bytes(api, output_format):
    first = fetch(api.complete(seed=7, output_format=output_format)["output"][0]).content
    again = fetch(api.complete(seed=7, output_format=output_format)["output"][0]).content
    other = fetch(api.complete(seed=8, output_format=output_format)["output"][0]).content
    assert first == again
    assert first != other


def test_prompt_changes_the_image(api):
    plain = fetch(api.complete(seed=3)["output"][0]).content
    athletic = fetch(api.complete(seed=3, prompt="athletic build")["output"][0]).content
    assert plain != athletic


def test_return_base64_gives_data_uris_and_serves_nothing(api, engine):
    doc = api.complete(return_base64=True, output_format="png", num_images=2)
    assert len(doc["output"]) == 2
    for n, uri in enumerate(doc["output"]):
        assert uri.startswith("data:image/png;base64,")
        image = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
        assert image.size == (832, 1248)
        # Nothing is stored for download when base64 was asked for.
        assert (
            requests.get(f"{api.url}/v1/outputs/{doc['id']}/{n}.png", timeout=5).status_code == 404
        )


def test_return_base64_jpeg_prefix(api):
    doc = api.complete(return_base64=True)
    assert doc["output"][0].startswith("data:image/jpeg;base64,/9j/")


def test_num_images_gives_distinct_variants_each_charged(api):
    response = api.wait(api.submit(num_images=3))
    doc = response.json()
    assert [url.rsplit("/", 1)[1] for url in doc["output"]] == ["0.jpg", "1.jpg", "2.jpg"]
    images = [fetch(url).content for url in doc["output"]]
    assert len(set(images)) == 3
    assert response.headers["x-fashn-credits-used"] == "6"  # 3 x balanced 1k
    # Variant i is the image for seed + i.
    single = api.complete(seed=43)
    assert fetch(single["output"][0]).content == images[1]


def test_output_shape_images(api, engine):
    engine.configure(output_shape="images")
    doc = api.complete()
    assert set(doc["output"]) == {"images"}
    assert fetch(doc["output"]["images"][0]).content.startswith(JPEG_MAGIC)


def test_public_base_url_is_used_for_output_urls(api, engine):
    engine.configure(public_base_url="http://cdn.example.test/")
    doc = api.complete()
    assert doc["output"][0] == f"http://cdn.example.test/v1/outputs/{doc['id']}/0.jpg"


def test_credits_endpoint_shape_and_charging(api, engine):
    engine.configure(credits=20)
    response = requests.get(f"{api.url}/v1/credits", headers=api.headers(), timeout=5)
    assert response.status_code == 200
    assert response.json() == {"credits": {"total": 20, "subscription": 0, "on_demand": 20}}
    api.complete(num_images=2, generation_mode="fast")
    after = requests.get(f"{api.url}/v1/credits", headers=api.headers(), timeout=5).json()
    assert after["credits"]["total"] == 18  # 2 x fast 1k


def test_failed_predictions_cost_nothing(api, engine):
    engine.configure(credits=5)
    response = api.wait(api.submit(face_image="data:image/png;base64,bm90IGFuIGltYWdl"))
    assert response.json()["status"] == "failed"
    assert response.headers["x-fashn-credits-used"] == "0"
    assert engine.stats()["credits"] == 5


def test_unknown_input_keys_and_nulls_are_ignored(api):
    doc = api.complete(seed=None, generation_mode="quality", something_new=1)
    assert doc["status"] == "completed"


def test_stats_count_calls_and_predictions(api, engine):
    prediction_id = api.submit()
    api.wait(prediction_id)
    stats = engine.stats()
    assert stats["run_calls"] == 1 and stats["runs_accepted"] == 1
    assert stats["status_calls"] >= 1
    assert stats["in_flight"] == 0 and stats["max_in_flight_seen"] == 1
    assert stats["predictions"] == {prediction_id: "completed"}
    assert stats["rejected"] == {}


class _Recorder(BaseHTTPRequestHandler):
    """A loopback HTTP server for webhooks (records POSTs) and face image URLs (serves GETs)."""

    posts: list
    files: dict

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        self.posts.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def do_GET(self):
        data = self.files.get(self.path)
        self.send_response(200 if data else 404)
        self.send_header("Content-Type", "image/jpeg")
        self.end_headers()
        self.wfile.write(data or b"")

    def log_message(self, *args):
        pass


@pytest.fixture
def loopback_site(face_jpeg):
    handler = type("Handler", (_Recorder,), {"posts": [], "files": {"/face.jpg": face_jpeg}})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def test_face_image_from_a_loopback_url(api, loopback_site):
    base, _ = loopback_site
    doc = api.complete(face_image=f"{base}/face.jpg")
    assert fetch(doc["output"][0]).content.startswith(JPEG_MAGIC)


def test_webhook_receives_the_status_json_on_completion(api, loopback_site):
    base, handler = loopback_site
    prediction_id = api.run(params={"webhook_url": f"{base}/hook"}).json()["id"]
    deadline = time.monotonic() + 5
    while not handler.posts:  # delivered without anyone polling
        assert time.monotonic() < deadline
        time.sleep(0.02)
    payload = handler.posts[0]
    assert payload["id"] == prediction_id and payload["status"] == "completed"
    assert payload["output"][0].endswith(f"/v1/outputs/{prediction_id}/0.jpg")


def test_oldest_finished_predictions_are_forgotten(api, monkeypatch):
    from offline_engine.protocol import predictions

    monkeypatch.setattr(predictions, "MAX_KEPT_PREDICTIONS", 2)
    first = api.submit()
    api.wait(first)
    second = api.submit()
    api.wait(second)
    api.submit()
    assert api.status(first).status_code == 404
    assert api.status(second).status_code == 200
