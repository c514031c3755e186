"""The media storage a deployment's environment asks for (``core.media_storage``, which
settings.py calls): the filesystem by default, S3 with private objects and signed URLs."""

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from avatar_studio.core.media_storage import media_storage

from ..support.worker import BASE_DIR


def test_the_filesystem_is_the_default():
    assert media_storage({}) == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert media_storage({"MEDIA_STORAGE": "filesystem"}) == media_storage({})


def test_s3_objects_are_private_and_served_by_signed_urls_that_expire():
    options = media_storage(
        {
            "MEDIA_STORAGE": "s3",
            "AWS_STORAGE_BUCKET_NAME": "avatars-media",
            "AWS_S3_ENDPOINT_URL": "https://s3.example.com",
            "AWS_QUERYSTRING_EXPIRE": "120",
        }
    )["OPTIONS"]

    assert options["bucket_name"] == "avatars-media"
    assert options["endpoint_url"] == "https://s3.example.com"
    assert (options["default_acl"], options["querystring_auth"]) == ("private", True)
    assert (options["querystring_expire"], options["signature_version"]) == (120, "s3v4")
    assert options["file_overwrite"] is False
    # No keys in the environment: boto3 finds its own (an instance role).
    assert options["access_key"] is None and options["secret_key"] is None


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"MEDIA_STORAGE": "S3 "}, "MEDIA_STORAGE='S3 ' is not a storage this app knows"),
        ({"MEDIA_STORAGE": "s3"}, "AWS_STORAGE_BUCKET_NAME must be set when MEDIA_STORAGE=s3"),
        (
            {"MEDIA_STORAGE": "s3", "AWS_STORAGE_BUCKET_NAME": "b", "AWS_QUERYSTRING_EXPIRE": "0"},
            "AWS_QUERYSTRING_EXPIRE must be a whole number of seconds, 1 or more: '0'",
        ),
        (
            {"MEDIA_STORAGE": "s3", "AWS_STORAGE_BUCKET_NAME": "b", "AWS_QUERYSTRING_EXPIRE": "5m"},
            "AWS_QUERYSTRING_EXPIRE must be a whole number of seconds",
        ),
    ],
)
def test_a_wrong_setting_stops_the_start_naming_it(environ, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        media_storage(environ)


def test_settings_py_builds_its_storage_from_the_environment():
    environ = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "avatar_studio.settings",
        "DJANGO_DEBUG": "true",
        "MEDIA_STORAGE": "s3",
        "AWS_STORAGE_BUCKET_NAME": "from-the-environment",
    }
    printed = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; "
            "print(settings.STORAGES['default']['OPTIONS']['bucket_name'])",
        ],
        cwd=BASE_DIR,
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )
    assert printed.stdout.strip() == "from-the-environment"
