"""A real S3-compatible server on loopback for the storage tests: moto's standalone S3 server.

Run as ``python -m tests.storage.s3server --port N --secret-key S`` (``S3Server`` does). moto
answers the S3 REST API over HTTP and keeps objects private (an anonymous GET of an object stored
with the private ACL is refused with 403), but takes a query-string signature on trust: it checks
neither the signature nor the expiry of a presigned URL. So its WSGI app is wrapped here with the
check AWS documents for SigV4 query-string authentication, run before moto sees the request:
past ``X-Amz-Date`` + ``X-Amz-Expires`` the answer is 403 AccessDenied "Request has expired", and
a signature that the secret key does not give is 403 SignatureDoesNotMatch. Everything else
(buckets, objects, listings, ACLs) is moto's own.
"""

import argparse
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote

ALGORITHM = "AWS4-HMAC-SHA256"


def _quote(value):
    return quote(value, safe="-_.~")


def presigned_refusal(environ, secret_key, now=None):
    """Why a SigV4 presigned request must be refused, as (code, message); None if it may pass
    (or is not a presigned request: header-signed and anonymous ones are moto's to judge)."""
    query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    params = dict(query)
    if params.get("X-Amz-Algorithm") != ALGORITHM:
        return None
    try:
        signed_at = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        expires = int(params["X-Amz-Expires"])
        scope = params["X-Amz-Credential"].split("/", 1)[1]
        signed_headers = params["X-Amz-SignedHeaders"].split(";")
        signature = params["X-Amz-Signature"]
    except (KeyError, ValueError, IndexError):
        return "AuthorizationQueryParametersError", "Query-string authentication is incomplete."
    if (now or datetime.now(UTC)) > signed_at + timedelta(seconds=expires):
        return "AccessDenied", "Request has expired"

    canonical_query = "&".join(
        f"{key}={value}"
        for key, value in sorted(
            (_quote(key), _quote(value)) for key, value in query if key != "X-Amz-Signature"
        )
    )
    headers = {
        name[5:].replace("_", "-").lower(): value
        for name, value in environ.items()
        if name.startswith("HTTP_")
    }
    canonical_headers = "".join(
        f"{name}:{' '.join(headers.get(name, '').split())}\n" for name in signed_headers
    )
    raw_path = (environ.get("RAW_URI") or quote(environ.get("PATH_INFO", "/"))).split("?")[0]
    canonical_request = "\n".join(
        [
            environ["REQUEST_METHOD"],
            raw_path,
            canonical_query,
            canonical_headers,
            ";".join(signed_headers),
            "UNSIGNED-PAYLOAD",
        ]
    )
    string_to_sign = "\n".join(
        [
            ALGORITHM,
            params["X-Amz-Date"],
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    key = f"AWS4{secret_key}".encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return "SignatureDoesNotMatch", "The request signature we calculated does not match."
    return None


class PresignedUrlCheck:
    """WSGI middleware: refuse expired or forged presigned requests the way S3 does."""

    def __init__(self, app, secret_key):
        self.app = app
        self.secret_key = secret_key

    def __call__(self, environ, start_response):
        refusal = presigned_refusal(environ, self.secret_key)
        if refusal is None:
            return self.app(environ, start_response)
        code, message = refusal
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
        ).encode()
        start_response(
            "403 Forbidden",
            [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))],
        )
        return [body]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret-key", required=True)
    args = parser.parse_args()

    from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import run_simple

    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        args.host,
        args.port,
        PresignedUrlCheck(app, args.secret_key),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
