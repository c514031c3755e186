"""Command line: ``python -m offline_engine --host 127.0.0.1 --port 8100``.

Reads EngineConfig from ``ENGINE_*`` variables, prints the base URL and API key to use as
``FASHN_BASE_URL`` and ``FASHN_API_KEY``, and serves until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from .protocol.app import EngineApp
from .protocol.config import EngineConfig
from .protocol.server import make_server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m offline_engine",
        description="Offline engine speaking the FASHN API protocol (model: face-to-model).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8100, help="port (0 picks a free one)")
    parser.add_argument("--api-key", help="API key to accept (default: ENGINE_API_KEY or built-in)")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        config = EngineConfig.from_env()
        if args.api_key:
            config = config.updated({"api_key": args.api_key})
    except ValueError as exc:
        parser.error(str(exc))

    app = EngineApp(config)
    server = make_server(args.host, args.port, app)
    host, port = server.server_address[:2]
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    print(f"FASHN offline engine serving face-to-model at {url}", flush=True)
    print(f"FASHN_BASE_URL={url}", flush=True)
    print(f"FASHN_API_KEY={config.api_key}", flush=True)

    def stop(signum, frame):  # SIGTERM ends like Ctrl-C: leave serve_forever, then clean up
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        app.close()
        print("engine stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
