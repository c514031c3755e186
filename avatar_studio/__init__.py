"""Avatar Studio: turn a selfie into a try-on-ready avatar through the FASHN protocol.

Importing the package imports nothing else, so that ``avatar_studio.fashn`` can be used with
``requests`` alone. The Celery app lives in ``avatar_studio.celery``: ``celery -A avatar_studio``
finds it there, and Django imports it at start (``avatar_studio.core.apps``). ``celery_app`` is
still available here, imported on first use.
"""


def __getattr__(name):
    if name == "celery_app":
        from .celery import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
