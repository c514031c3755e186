"""The storage suite's fixtures: a real S3-compatible server on loopback, a bucket per test, and
the app (this process and its workers) pointed at it through the production settings.

The server (``s3server``: moto's S3, with S3's checks of presigned URLs) is started once for the
session as a child process on a free 127.0.0.1 port and stopped at the end. Each test gets a
bucket of its own and the environment a production deploy sets (``MEDIA_STORAGE=s3`` and the
``AWS_*`` variables): workers are started with it, and this process's ``STORAGES`` is built from
it by ``core.media_storage``, the function settings.py calls.
"""

import subprocess
import sys
import uuid

import boto3
import pytest
import requests
from botocore.config import Config

from avatar_studio.core.localredis import free_port
from avatar_studio.core.media_storage import media_storage

from ..support.processes import TcpProxy
from ..support.waiting import wait_for
from ..support.worker import BASE_DIR, stop_process_group

ACCESS_KEY = "storage-tests-access-key"
SECRET_KEY = "storage-tests-secret-key"
REGION = "us-east-1"


class S3Server:
    """``tests.storage.s3server`` in a child process on a loopback port of its own."""

    def __init__(self, log_path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process = None

    def start(self):
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.storage.s3server",
                "--port",
                str(self.port),
                "--secret-key",
                SECRET_KEY,
            ],
            cwd=BASE_DIR,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(self._answers, timeout=60, message="the S3 server to answer")
        return self

    def _answers(self):
        if self.process.poll() is not None:
            raise AssertionError(f"the S3 server exited; see {self.log_path}")
        try:
            return requests.get(self.url, timeout=1).status_code < 500
        except requests.ConnectionError:
            return False

    def stop(self):
        if stop_process_group(self.process, timeout=10):
            self.log.close()


def s3_client(endpoint_url):
    """A boto3 client for the test's own look at the bucket (not the app's)."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(signature_version="s3v4", retries={"max_attempts": 1}),
    )


def bucket_keys(env):
    """Every object name in the test's bucket, sorted (read on the server itself)."""
    client = s3_client(env["AWS_S3_ENDPOINT_URL"])
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=env["AWS_STORAGE_BUCKET_NAME"])
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    server = S3Server(tmp_path_factory.mktemp("s3") / "s3server.log").start()
    yield server
    server.stop()


@pytest.fixture
def s3_env(s3_server):
    """A new bucket, and the environment that points a deployment at it."""
    bucket = f"media-{uuid.uuid4().hex[:12]}"
    s3_client(s3_server.url).create_bucket(Bucket=bucket)
    return {
        "MEDIA_STORAGE": "s3",
        "AWS_STORAGE_BUCKET_NAME": bucket,
        "AWS_S3_ENDPOINT_URL": s3_server.url,
        "AWS_S3_REGION_NAME": REGION,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_QUERYSTRING_EXPIRE": "60",
    }


def use_storage(settings, env):
    """This process's media storage, built from ``env`` as settings.py builds it."""
    settings.STORAGES = {**settings.STORAGES, "default": media_storage(env)}


@pytest.fixture
def s3_storage(settings, s3_env):
    """The app in this process stores its media in the test's bucket."""
    use_storage(settings, s3_env)
    return s3_env


@pytest.fixture
def worker_env(worker_env, s3_storage):
    """Workers get the same S3 settings, through their environment, as a deploy sets them."""
    return {**worker_env, **s3_storage}


@pytest.fixture
def s3_proxy(settings, s3_storage, s3_server, monkeypatch):
    """S3 behind a loopback proxy that the test can cut, like a network outage (the server keeps
    its objects, as S3 does). This process's storage goes through it; ``proxy.env`` is the
    environment for workers that should too."""
    proxy = TcpProxy("127.0.0.1", s3_server.port)
    # One try per request: these tests are about what the app does when S3 does not answer, not
    # about botocore's own retries (5 tries, up to seconds apart).
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    proxy.env = {
        **s3_storage,
        "AWS_S3_ENDPOINT_URL": f"http://127.0.0.1:{proxy.port}",
        "AWS_MAX_ATTEMPTS": "1",
    }
    use_storage(settings, proxy.env)
    yield proxy
    proxy.close()
