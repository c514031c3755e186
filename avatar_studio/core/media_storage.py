"""Where selfies, avatars and product photos are stored, read from the environment.

One function builds the media storage for ``settings.STORAGES["default"]``, so that the tests
that run the app against a real S3 server configure it exactly as a production deploy does.
It imports nothing from Django's settings: settings.py calls it while it is being read.
"""

from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

FILESYSTEM = "filesystem"
S3 = "s3"

# A signed URL works this long unless AWS_QUERYSTRING_EXPIRE says otherwise: long enough to
# start a download, short enough that a copied link soon stops working.
DEFAULT_QUERYSTRING_EXPIRE_SECONDS = 300


def media_storage(environ: Mapping[str, str]) -> dict:
    """The ``STORAGES["default"]`` entry ``environ`` (``os.environ`` or alike) asks for.

    ``MEDIA_STORAGE=filesystem`` (the default): files under MEDIA_ROOT. ``MEDIA_STORAGE=s3``:
    an S3 bucket (``AWS_STORAGE_BUCKET_NAME``, required) on AWS or on any S3-compatible server
    (``AWS_S3_ENDPOINT_URL``), with private objects, names never overwritten, and signed URLs
    that expire after ``AWS_QUERYSTRING_EXPIRE`` seconds. Keys come from ``AWS_ACCESS_KEY_ID``
    and ``AWS_SECRET_ACCESS_KEY`` or, when unset, from boto3's own chain (an instance role).
    """
    kind = environ.get("MEDIA_STORAGE", "") or FILESYSTEM
    if kind == FILESYSTEM:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    if kind != S3:
        raise ImproperlyConfigured(
            f"MEDIA_STORAGE={kind!r} is not a storage this app knows: use {FILESYSTEM!r} "
            f"(files under MEDIA_ROOT) or {S3!r} (an S3 bucket)."
        )
    bucket = environ.get("AWS_STORAGE_BUCKET_NAME", "")
    if not bucket:
        raise ImproperlyConfigured("AWS_STORAGE_BUCKET_NAME must be set when MEDIA_STORAGE=s3.")
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": environ.get("AWS_S3_ENDPOINT_URL") or None,
            "region_name": environ.get("AWS_S3_REGION_NAME") or None,
            "access_key": environ.get("AWS_ACCESS_KEY_ID") or None,
            "secret_key": environ.get("AWS_SECRET_ACCESS_KEY") or None,
            "security_token": environ.get("AWS_SESSION_TOKEN") or None,
            # Selfies and avatars are private: no public-read object, every URL signed (SigV4,
            # which carries its own expiry), and a name in use is never written over.
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": _seconds(environ, "AWS_QUERYSTRING_EXPIRE"),
            "signature_version": "s3v4",
            "file_overwrite": False,
        },
    }


def _seconds(environ, name):
    raw = environ.get(name, "") or str(DEFAULT_QUERYSTRING_EXPIRE_SECONDS)
    try:
        seconds = int(raw)
    except ValueError:
        seconds = 0
    if seconds < 1:
        raise ImproperlyConfigured(f"{name} must be a whole number of seconds, 1 or more: {raw!r}.")
    return seconds
