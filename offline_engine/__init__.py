"""The offline face-to-model engine: a standalone HTTP server speaking the FASHN API protocol.

It lets the whole product run and be tested with no API key and no internet: point
``FASHN_BASE_URL`` at it. It imports nothing from Django or from ``avatar_studio`` (plain WSGI,
stdlib server, in-memory state). Start it with ``python -m offline_engine`` or, in tests,
``running_engine()``.

Subpackages: ``protocol`` (the HTTP server and FASHN's protocol), ``vision`` (the MediaPipe
networks and their weights), ``avatar`` (face-to-model's drawing) and ``tryon`` (tryon-v1.6).
"""

from .protocol.app import EngineApp
from .protocol.config import EngineConfig
from .protocol.server import EngineHandle, make_server, running_engine

__all__ = ["EngineApp", "EngineConfig", "EngineHandle", "make_server", "running_engine"]
