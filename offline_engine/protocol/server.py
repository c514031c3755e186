"""Serving the engine: a threaded stdlib WSGI server, and ``running_engine()`` for tests.

``running_engine(**overrides)`` starts an engine on 127.0.0.1 on a free port in a background
thread and yields an ``EngineHandle``; leaving the ``with`` block stops it::

    with running_engine(processing_seconds=1) as engine:
        client = Fashn(api_key=engine.api_key, base_url=engine.url)
"""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from .app import EngineApp
from .config import EngineConfig

log = logging.getLogger(__name__)


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    """One thread per request, so a delayed answer never blocks other clients."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class QuietHandler(WSGIRequestHandler):
    """Access lines go to the ``offline_engine.protocol.server`` logger, not stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)


def make_server(host: str, port: int, app: EngineApp) -> ThreadingWSGIServer:
    """Bind (port 0 picks a free one) without serving yet."""
    server_class = ThreadingWSGIServer
    if ":" in host:  # an IPv6 literal such as ::1
        server_class = type(
            "ThreadingWSGIServer6", (ThreadingWSGIServer,), {"address_family": socket.AF_INET6}
        )
    server = server_class((host, port), QuietHandler)
    server.set_app(app)
    return server


class EngineHandle:
    """A running engine, as tests see it."""

    def __init__(self, server: ThreadingWSGIServer, app: EngineApp) -> None:
        self.server = server
        self.app = app
        host, port = server.server_address[:2]
        host = f"[{host}]" if ":" in host else host
        self.url = f"http://{host}:{port}"  # no trailing slash: the value for FASHN_BASE_URL

    @property
    def api_key(self) -> str:
        return self.app.config.api_key

    @property
    def config(self) -> EngineConfig:
        return self.app.config

    def configure(self, **fields: Any) -> EngineConfig:
        return self.app.configure(**fields)

    def add_faults(self, *items: dict) -> int:
        return self.app.add_faults(list(items))

    def stats(self) -> dict:
        return self.app.stats_snapshot()

    def reset(self) -> None:
        self.app.reset()


@contextmanager
def running_engine(
    config: EngineConfig | None = None, *, host: str = "127.0.0.1", port: int = 0, **overrides: Any
) -> Iterator[EngineHandle]:
    """Serve an engine in a background thread for the duration of the ``with`` block.

    Starts from ``config`` (default: EngineConfig defaults, NOT the environment, so a developer's
    ENGINE_* variables never slow or break a test run) with ``overrides`` applied.
    """
    base = config or EngineConfig()
    app = EngineApp(base.updated(overrides) if overrides else base)
    server = make_server(host, port, app)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.1},
        daemon=True,
        name="engine-server",
    )
    thread.start()
    try:
        yield EngineHandle(server, app)
    finally:
        server.shutdown()
        server.server_close()
        app.close()
        thread.join(timeout=5)
