"""Request bodies are refused with 413 once they pass REQUEST_MAX_BODY_BYTES, while they are read.

A POST with a huge file part used to be written whole to the temporary folder before anything
looked at its size (an anonymous login form took 400 MB), so a few at once filled the disk. The
attacks are sent to a real gunicorn, the server `make run` and the Procfile start, streamed from a
generator, with the server's temporary folder pointed at one of the test's own; each must be
answered 413 without the body reaching that folder, and a normal selfie must still go through.
"""

import base64
import contextlib
import http.client
import io
import json
import os
import select
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http.multipartparser import MultiPartParser
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from avatar_studio.avatars.models import AvatarJob
from avatar_studio.core.request_limits import (
    REFUSED_ATTRIBUTE,
    RequestBodyTooLarge,
    too_large_message,
)
from avatar_studio.core.wsgi_limits import READ_SIZE, BodyLimit

from ..conftest import RUN_ID
from ..support.faces import astronaut_jpeg
from ..support.webserver import Gunicorn

MB = 1024 * 1024
ATTACK_BYTES = 48 * MB
BLOCK = b"\0" * MB
BOUNDARY = "----attack-boundary-7c1f"
CSRF_SECRET = "a" * 32  # any 32 letters will do as a cookie and the form field that matches it


# --- a client that streams a body and reads an early answer ----------------------------------


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    sent: int  # body bytes the client had sent when the answer came

    @property
    def text(self):
        return self.body.decode()


def post(server, path, headers, body):
    """POST ``body`` (an iterable of bytes) over a raw socket, stopping as soon as the server
    answers: a server that refuses a body without reading it answers (and closes) while the
    client is still sending, which an ordinary client reports as a broken connection."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=120) as sock:
        head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        sent = 0
        for piece in body:
            if select.select([sock], [], [], 0)[0]:  # an answer (or a close) is waiting
                break
            try:
                sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
        response = http.client.HTTPResponse(sock, method="POST")
        response.begin()
        return Answer(response.status, response.headers, response.read(), sent)


def multipart(fields, file_field, file_size, boundary=BOUNDARY):
    """A multipart body with ``fields`` then a file of ``file_size`` zero bytes: its length and
    its pieces, made as they are sent."""
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
        'filename="me.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def pieces():
        yield head
        left = file_size
        while left:
            piece = BLOCK[: min(left, len(BLOCK))]
            left -= len(piece)
            yield piece
        yield tail

    return len(head) + file_size + len(tail), pieces()


def chunked(pieces):
    """The same pieces in chunked transfer coding (no Content-Length)."""
    for piece in pieces:
        yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    yield b"0\r\n\r\n"


def form_headers(length=None, cookies=None):
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    cookies = {"csrftoken": CSRF_SECRET, **(cookies or {})}
    headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    if length is None:
        headers["Transfer-Encoding"] = "chunked"
    else:
        headers["Content-Length"] = str(length)
    return headers


class LargestFile:
    """The largest file seen in a folder while the block runs. A poll, so a lower bound of the
    real peak: enough to catch a body being written there, which takes many polls."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.size = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._look()

    def _watch(self):
        while not self._stop.wait(0.005):
            self._look()

    def _look(self):
        for entry in os.scandir(self.folder):
            with contextlib.suppress(FileNotFoundError):  # deleted between listing and stat
                self.size = max(self.size, entry.stat().st_size)


# --- the real server ---------------------------------------------------------------------------


@pytest.fixture
def upload_tmp(tmp_path):
    folder = tmp_path / "server-tmp"
    folder.mkdir()
    return folder


@pytest.fixture
def server(transactional_db, redis_url, media_root, upload_tmp, tmp_path):
    """gunicorn on the test database, its temporary files (TMPDIR, which Django's upload
    handlers and every tempfile use) in a folder of this test's own."""
    env = {
        "TMPDIR": str(upload_tmp),
        "MEDIA_ROOT": str(media_root),
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": django_settings.REDIS_KEY_PREFIX,
        "CELERY_QUEUE": RUN_ID,
    }
    gunicorn = Gunicorn(env, tmp_path / "gunicorn.log", workers=1, threads=4).start()
    yield gunicorn
    gunicorn.stop()


def assert_refused_unread(answer, upload_tmp, watch, length):
    assert answer.status == 413, answer.text[:500]
    assert answer.sent < length  # answered before the client had sent it all
    assert watch.size <= django_settings.REQUEST_MAX_BODY_BYTES
    assert list(upload_tmp.iterdir()) == []


def test_an_anonymous_login_post_with_a_huge_file_is_refused_before_it_is_written(
    server, upload_tmp
):
    length, body = multipart({"csrfmiddlewaretoken": CSRF_SECRET}, "avatar", ATTACK_BYTES)

    with LargestFile(upload_tmp) as watch:
        answer = post(server, "/accounts/login/", form_headers(length), body)

    assert_refused_unread(answer, upload_tmp, watch, length)
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "too large" in answer.text
    assert "15 MB" in answer.text  # what to do: a selfie of at most 15 MB


def test_a_logged_in_upload_with_a_huge_file_is_refused_before_it_is_written(
    server, upload_tmp, client, alice
):
    client.force_login(alice)
    session = {"sessionid": client.cookies["sessionid"].value}
    fields = {"csrfmiddlewaretoken": CSRF_SECRET, "consent": "on", "aspect_ratio": "2:3"}
    length, body = multipart(fields, "face_image", ATTACK_BYTES)

    with LargestFile(upload_tmp) as watch:
        answer = post(server, "/", form_headers(length, session), body)

    assert_refused_unread(answer, upload_tmp, watch, length)
    assert "too large" in answer.text


def test_a_huge_api_upload_is_refused_in_the_apis_shape(server, upload_tmp, alice):
    token = Token.objects.create(user=alice)
    length, body = multipart({"consent": "true"}, "face_image", ATTACK_BYTES)
    headers = {**form_headers(length), "Authorization": f"Token {token.key}"}

    with LargestFile(upload_tmp) as watch:
        answer = post(server, "/api/v1/avatars/", headers, body)

    assert_refused_unread(answer, upload_tmp, watch, length)
    error = json.loads(answer.body)["error"]
    assert error["code"] == "request_too_large"
    assert "15 MB" in error["message"]


def test_a_chunked_body_without_a_length_is_refused_once_it_passes_the_cap(server, upload_tmp):
    # The server reads such a body into a file with no name, so the folder cannot show it; that
    # it keeps no more than the cap is test_the_server_reads_a_chunked_body_only_up_to_the_cap.
    length, body = multipart({"csrfmiddlewaretoken": CSRF_SECRET}, "avatar", ATTACK_BYTES)

    with LargestFile(upload_tmp) as watch:
        answer = post(server, "/accounts/login/", form_headers(), chunked(body))

    assert_refused_unread(answer, upload_tmp, watch, length)
    assert "too large" in answer.text


def padded_jpeg(total_bytes):
    """A real photo followed by padding up to ``total_bytes``: a valid JPEG up to its end."""
    photo = astronaut_jpeg()
    return photo + b"\0" * (total_bytes - len(photo))


def test_a_10_mb_selfie_and_the_largest_data_uri_still_go_through(server, client, alice):
    client.force_login(alice)
    cookies = {"csrftoken": CSRF_SECRET, "sessionid": client.cookies["sessionid"].value}
    token = Token.objects.create(user=alice)
    api = {"Authorization": f"Token {token.key}"}
    fields = {
        "consent": "true",
        "prompt": "athletic build",
        "aspect_ratio": "2:3",
        "output_format": "png",
    }
    ten_mb = padded_jpeg(10 * MB)

    form = requests.post(
        f"{server.url}/",
        data={**fields, "consent": "on", "csrfmiddlewaretoken": CSRF_SECRET},
        files={"face_image": ("me.jpg", ten_mb, "image/jpeg")},
        cookies=cookies,
        allow_redirects=False,
        timeout=120,
    )
    multipart_api = requests.post(
        f"{server.url}/api/v1/avatars/",
        data=fields,
        files={"face_image": ("me.jpg", ten_mb, "image/jpeg")},
        headers=api,
        timeout=120,
    )
    # The largest selfie the API takes as a data URI: a JSON body just under the cap.
    largest = base64.b64encode(padded_jpeg(django_settings.SELFIE_MAX_UPLOAD_BYTES)).decode()
    json_api = requests.post(
        f"{server.url}/api/v1/avatars/",
        json={**fields, "consent": True, "face_image": f"data:image/jpeg;base64,{largest}"},
        headers=api,
        timeout=120,
    )

    assert form.status_code == 302, form.text[:500]
    assert form.headers["Location"].startswith("/avatars/")
    assert multipart_api.status_code == 201, multipart_api.text[:500]
    assert json_api.status_code == 201, json_api.text[:500]
    assert AvatarJob.objects.filter(owner=alice).count() == 3


# --- inside Django: the upload handler and the middleware, without the server's wrapper ---------


@pytest.fixture
def small_cap(settings, tmp_path):
    """A cap of 256 KB and Django's temporary files in a folder of the test's own."""
    settings.REQUEST_MAX_BODY_BYTES = 256 * 1024
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "django-tmp")
    Path(settings.FILE_UPLOAD_TEMP_DIR).mkdir()
    return Path(settings.FILE_UPLOAD_TEMP_DIR)


def big_file(size=MB):
    return SimpleUploadedFile("me.jpg", b"\0" * size, "image/jpeg")


@pytest.mark.django_db
def test_a_login_post_over_the_cap_is_refused_where_csrf_reads_it(small_cap):
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = CSRF_SECRET

    response = client.post(
        reverse("login"), {"csrfmiddlewaretoken": CSRF_SECRET, "avatar": big_file()}
    )

    assert response.status_code == 413
    assert "That upload is too large" in response.content.decode()
    assert "over 0.2 MB" in response.content.decode()
    assert response["Content-Security-Policy"]  # the site's headers, like any page
    assert list(small_cap.iterdir()) == []


@pytest.mark.django_db
def test_an_upload_over_the_cap_is_refused_where_the_view_reads_it(small_cap, client, alice):
    client.force_login(alice)

    response = client.post(reverse("avatars:upload"), {"consent": "on", "face_image": big_file()})

    assert response.status_code == 413
    assert "too large" in response.content.decode()
    assert not AvatarJob.objects.exists()
    assert list(small_cap.iterdir()) == []


@pytest.mark.django_db
def test_an_api_upload_over_the_cap_gets_the_apis_error_shape(small_cap, alice):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=alice).key}")

    response = api.post(
        "/api/v1/avatars/", {"consent": "true", "face_image": big_file()}, format="multipart"
    )

    assert response.status_code == 413
    assert response.json() == {
        "error": {
            "code": "request_too_large",
            "message": too_large_message(256 * 1024),
            "fields": {},
        }
    }
    assert list(small_cap.iterdir()) == []


class CountingStream(io.BytesIO):
    """A request body that counts what is read of it."""

    consumed = 0

    def read(self, size=-1):
        data = super().read(size)
        self.consumed += len(data)
        return data


def multipart_bytes(parts, boundary=BOUNDARY):
    body = b""
    for name, content in parts:
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '.encode()
        body += f'filename="{name}.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
        body += content + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


def test_the_upload_handler_stops_reading_once_the_files_pass_the_cap(small_cap, settings, rf):
    # A declared length under the cap (so the handler's up-front check lets it in) that lies: the
    # handler must stop on what it reads. One finished file under the cap, then one far over.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # files go to temporary files on disk
    body = multipart_bytes([("first", b"\1" * (100 * 1024)), ("second", b"\2" * (4 * MB))])
    stream = CountingStream(body)
    request = rf.post("/")
    meta = {
        "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
        "CONTENT_LENGTH": str(200 * 1024),
    }
    parser = MultiPartParser(meta, stream, request.upload_handlers)

    with pytest.raises(RequestBodyTooLarge):
        parser.parse()

    # Read no further than the cap and a chunk or two past it; kept nothing, wrote nothing left.
    assert stream.consumed < 256 * 1024 + 3 * 64 * 1024 < len(body)
    assert getattr(request, REFUSED_ATTRIBUTE) == 256 * 1024
    assert list(small_cap.iterdir()) == []


def test_the_upload_handler_refuses_a_declared_length_over_the_cap_unread(small_cap, rf):
    body = multipart_bytes([("face_image", b"\0" * MB)])
    stream = CountingStream(body)
    request = rf.post("/")
    meta = {
        "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
        "CONTENT_LENGTH": str(len(body)),
    }

    with pytest.raises(RequestBodyTooLarge):
        MultiPartParser(meta, stream, request.upload_handlers).parse()

    assert stream.consumed == 0


def test_the_upload_handler_lets_a_body_under_the_cap_through(small_cap, rf):
    body = multipart_bytes([("face_image", b"\7" * (200 * 1024))])
    request = rf.post("/")
    meta = {
        "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
        "CONTENT_LENGTH": str(len(body)),
    }

    _post, files = MultiPartParser(meta, io.BytesIO(body), request.upload_handlers).parse()

    assert files["face_image"].read() == b"\7" * (200 * 1024)


# --- the server's wrapper, on its own ----------------------------------------------------------


def call(application, environ):
    answer = {}

    def start_response(status, headers):
        answer.update(status=status, headers=dict(headers))

    response = application(environ, start_response)
    try:
        answer["body"] = b"".join(response)
    finally:
        if hasattr(response, "close"):
            response.close()
    return answer


class EchoApplication:
    """Stands in for Django: answers with the body it was given, and its declared length."""

    calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        length = environ.get("CONTENT_LENGTH", "")
        body = environ["wsgi.input"].read(int(length)) if length else b""
        start_response("200 OK", [("X-Length", length)])
        return [body]


def environ_for(stream, **extra):
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/accounts/login/",
        "wsgi.input": stream,
        **extra,
    }


def test_the_server_refuses_a_declared_length_over_the_cap_without_reading_it(small_cap):
    echo = EchoApplication()
    stream = CountingStream(b"\0" * MB)

    answer = call(BodyLimit(echo), environ_for(stream, CONTENT_LENGTH=str(MB)))

    assert answer["status"] == "413 Request Entity Too Large"
    assert answer["headers"]["Content-Type"].startswith("text/html")
    assert b"That upload is too large" in answer["body"]
    assert "default-src 'self'" in answer["headers"]["Content-Security-Policy"]
    assert echo.calls == 0
    assert stream.consumed == 0


def test_the_server_reads_a_chunked_body_only_up_to_the_cap(small_cap):
    echo = EchoApplication()
    stream = CountingStream(b"\0" * (4 * MB))
    environ = environ_for(stream, HTTP_TRANSFER_ENCODING="chunked", PATH_INFO="/api/v1/avatars/")

    answer = call(BodyLimit(echo), environ)

    assert answer["status"] == "413 Request Entity Too Large"
    assert json.loads(answer["body"])["error"]["code"] == "request_too_large"
    assert echo.calls == 0
    assert stream.consumed <= 256 * 1024 + READ_SIZE


def test_the_server_hands_a_chunked_body_under_the_cap_on_with_its_length(small_cap):
    echo = EchoApplication()
    body = bytes(range(256)) * 800  # 200 KB
    environ = environ_for(CountingStream(body), HTTP_TRANSFER_ENCODING="chunked")

    answer = call(BodyLimit(echo), environ)

    assert answer["status"] == "200 OK"
    assert answer["headers"]["X-Length"] == str(len(body))
    assert answer["body"] == body
