"""download_output: URLs and data URIs from real engine predictions, and every refusal."""

import base64
import http.server
import threading
import time

import pytest

from avatar_studio.fashn import (
    FaceToModelInputs,
    FashnConnectionError,
    FashnTimeoutError,
    OutputHostNotAllowedError,
    OutputTooLargeError,
    OutputUnavailableError,
    ServerError,
    download_output,
    sniff_image_type,
)

MAX = 20 * 1024 * 1024


@pytest.fixture
def completed(engine, client, face_data_uri, wait_for):
    """Run one prediction to completion and return its outputs."""

    def run(**fields):
        inputs = FaceToModelInputs(face_image=face_data_uri, **fields)
        prediction = wait_for(client, client.run_face_to_model(inputs))
        assert prediction.is_completed, prediction
        return prediction.outputs

    return run


@pytest.mark.parametrize(("fmt", "content_type"), [("png", "image/png"), ("jpeg", "image/jpeg")])
def test_url_output_is_downloaded_and_typed_by_its_bytes(completed, fmt, content_type):
    [url] = completed(output_format=fmt)
    assert url.startswith("http://127.0.0.1")
    image = download_output(url, max_bytes=MAX)
    assert image.content_type == content_type
    assert sniff_image_type(image.data) == content_type
    assert len(image.data) > 1000


def test_data_uri_output_is_decoded(completed):
    [uri] = completed(return_base64=True, output_format="png")
    assert uri.startswith("data:image/png;base64,")
    image = download_output(uri, max_bytes=MAX)
    assert image.content_type == "image/png"
    assert image.extension == "png"
    assert image.data == base64.b64decode(uri.split(",", 1)[1])


def test_deleted_output_is_unavailable(engine, completed):
    [url] = completed()
    engine.add_faults({"on": "output", "times": 1, "http_status": 404})
    with pytest.raises(OutputUnavailableError) as info:
        download_output(url, max_bytes=MAX)
    assert info.value.retryable is False


def test_output_server_error_is_retryable(engine, completed):
    [url] = completed()
    engine.add_faults({"on": "output", "times": 1, "http_status": 503})
    with pytest.raises(ServerError) as info:
        download_output(url, max_bytes=MAX)
    assert info.value.retryable is True
    assert download_output(url, max_bytes=MAX).content_type == "image/jpeg"


def test_body_that_is_not_an_image_is_unavailable(engine, completed):
    [url] = completed()
    engine.add_faults({"on": "output", "times": 1, "not_image": True})
    with pytest.raises(OutputUnavailableError, match="not a PNG, JPEG or WebP"):
        download_output(url, max_bytes=MAX)


def test_size_limit_is_enforced(engine, completed):
    [url] = completed()
    engine.add_faults({"on": "output", "times": 1, "huge_bytes": 5 * 1024 * 1024})
    with pytest.raises(OutputTooLargeError) as info:
        download_output(url, max_bytes=1024 * 1024)
    assert info.value.retryable is False


def test_size_limit_is_enforced_while_streaming_without_content_length():
    # The engine always sends Content-Length; a close-delimited body has none, so only the
    # count kept while reading can stop it. The server would send 64 MB if we let it.
    sent = []

    class Endless(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            block = b"\x89PNG\r\n\x1a\n" + bytes(64 * 1024 - 8)
            try:
                for _ in range(1024):
                    self.wfile.write(block)
                    sent.append(len(block))
            except OSError:
                pass  # the client hung up, as it should

        def log_message(self, *args):
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Endless) as server:
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/out.png"
        with pytest.raises(OutputTooLargeError):
            download_output(url, max_bytes=256 * 1024)
        server.shutdown()
    assert sum(sent) < 64 * 1024 * 1024


def test_a_trickling_download_ends_at_its_time_budget():
    # Each byte comes well within the read timeout, so only an overall budget can stop it.
    body = b"\x89PNG\r\n\x1a\n" + bytes(200)  # 20 s of trickle
    sent = []

    class Trickle(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            try:
                for byte in body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    sent.append(byte)
                    time.sleep(0.1)
            except OSError:
                pass  # the client gave up, as it should

        def log_message(self, *args):
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Trickle) as server:
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/out.png"
        started = time.monotonic()
        with pytest.raises(FashnTimeoutError) as raised:
            download_output(url, max_bytes=MAX, timeout=(2, 2), total_seconds=0.8)
        took = time.monotonic() - started
        server.shutdown()
    assert took >= 0.8  # not before its budget (a lower bound: a busy machine only adds to it)
    assert len(sent) < len(body)  # the client hung up long before the trickle's end
    assert raised.value.retryable is True
    assert "took longer than 0.8 s" in str(raised.value)


def test_size_limit_applies_to_normal_outputs_too(completed):
    [url] = completed()
    with pytest.raises(OutputTooLargeError):
        download_output(url, max_bytes=100)


def test_size_limit_applies_to_data_uris(completed):
    [uri] = completed(return_base64=True)
    with pytest.raises(OutputTooLargeError):
        download_output(uri, max_bytes=100)


def test_expired_data_uri_is_unavailable(engine, completed):
    engine.add_faults({"on": "output", "times": 1, "expired": True})
    [uri] = completed(return_base64=True)
    with pytest.raises(OutputUnavailableError):
        download_output(uri, max_bytes=MAX)


@pytest.mark.parametrize(
    "output",
    [
        "data:image/png;base64,",
        "data:image/png;base64,!!!not-base64!!!",
        "data:text/plain;base64,aGVsbG8=",
        "data:image/png;base64," + base64.b64encode(b"plain text, no image").decode(),
        "data:image/png,rawbytes",
        "ftp://127.0.0.1/output.png",
        "",
    ],
)
def test_unusable_outputs_are_unavailable(output):
    with pytest.raises(OutputUnavailableError):
        download_output(output, max_bytes=MAX)


def test_host_outside_the_allow_list_is_refused_before_connecting(closed_port):
    # The port is closed: reaching it would raise a connection error, not this one.
    with pytest.raises(OutputHostNotAllowedError):
        download_output(
            f"http://127.0.0.1:{closed_port}/x.png",
            max_bytes=MAX,
            allowed_hosts={"cdn.fashn.ai"},
        )


def test_allowed_host_is_fetched(completed):
    [url] = completed()
    image = download_output(url, max_bytes=MAX, allowed_hosts={"127.0.0.1"})
    assert image.content_type == "image/jpeg"


def test_unreachable_output_host_is_retryable(closed_port):
    with pytest.raises(FashnConnectionError) as info:
        download_output(f"http://127.0.0.1:{closed_port}/x.png", max_bytes=MAX)
    assert info.value.retryable is True
    assert info.value.maybe_submitted is False
