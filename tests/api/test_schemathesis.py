"""``schemathesis run`` against /api/schema/, as CI runs it: real HTTP on loopback.

Every operation is called with generated data (valid and invalid), as Alice with her token; no
server error is allowed, and every status code, content type and body must match the schema.
"""

import os
import subprocess
import sys
from pathlib import Path

from rest_framework.authtoken.models import Token

from avatar_studio.api import fetch, webhooks

CONFIG = Path(__file__).with_name("schemathesis.toml")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


def test_schemathesis_finds_no_failures(live_server, alice, settings, tmp_path, monkeypatch):
    # Generated https:// URLs must never reach DNS or the network: every host "resolves" to
    # loopback, which the fetcher refuses before connecting.
    monkeypatch.setattr(
        fetch,
        "default_policy",
        lambda: fetch.FetchPolicy(max_bytes=1024, resolve=lambda host, port: ["127.0.0.1"]),
    )
    # Generated webhook URLs likewise: every host "resolves" to loopback, refused at creation.
    monkeypatch.setattr(
        webhooks,
        "default_policy",
        lambda: webhooks.WebhookPolicy(resolve=lambda host, port: ["127.0.0.1"]),
    )
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            "anon": "100000/hour",
            "user": "100000/hour",
            "avatar_create": "100000/hour",
        },
    }
    token = Token.objects.create(user=alice)
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "", "NO_COLOR": "1"}

    run = subprocess.run(
        [
            str(SCHEMATHESIS),
            "--config-file",
            str(CONFIG),
            "run",
            f"{live_server.url}/api/schema/",
            "--header",
            f"Authorization: Token {token.key}",
            "--checks",
            "all",
            "--max-examples",
            "30",
            "--seed",
            "1",
            "--generation-database",
            "none",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=280,
        cwd=tmp_path,
    )

    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
