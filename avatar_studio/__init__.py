"""Avatar Studio: turn a selfie into a try-on-ready avatar through the FASHN protocol."""

from .celery import app as celery_app

__all__ = ["celery_app"]
