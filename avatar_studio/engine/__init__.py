"""The offline face-to-model engine: a standalone HTTP server speaking the FASHN API protocol.

It lets the whole product run and be tested with no API key and no internet: point
``FASHN_BASE_URL`` at it. It imports nothing from Django (plain WSGI, stdlib server, in-memory
state). Start it with ``python -m avatar_studio.engine`` or, in tests, ``running_engine()``.
"""

from .app import EngineApp
from .config import EngineConfig
from .server import EngineHandle, make_server, running_engine

__all__ = ["EngineApp", "EngineConfig", "EngineHandle", "make_server", "running_engine"]
