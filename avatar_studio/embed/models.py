"""Shops that embed the "See it on me" button, and the looks shoppers made through it.

A shop is known by its publishable key (``pk_...``, public: it sits in the shop's page) and the
exact origins its pages are served from. The key alone proves nothing (anyone can copy it); what
it gives a shop is that our window posts its "done" message only to one of those origins.
"""

import secrets
import uuid
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import models

from avatar_studio.shop.models import Look

KEY_PREFIX = "pk_"
MAX_ORIGIN_LENGTH = 255  # EmbedLook.origin


def new_key():
    return KEY_PREFIX + secrets.token_urlsafe(24)


def normalised_origin(text):
    """``text`` if it is exactly an origin (``scheme://host[:port]``, http or https, nothing
    else), else None. Browsers send origins in lower case with no default port, so do we."""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.username or parts.password or parts.path or parts.query or parts.fragment:
        return None
    default = 443 if parts.scheme == "https" else 80
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    origin = f"{parts.scheme}://{host}" + ("" if port in (None, default) else f":{port}")
    return origin if origin == text else None


def validate_origins(value):
    bad = [
        line
        for line in _lines(value)
        if normalised_origin(line) is None or len(line) > MAX_ORIGIN_LENGTH
    ]
    if bad:
        raise ValidationError(
            "Each line must be exactly an origin, like https://shop.example or "
            "https://shop.example:8443 (lower case, no path, no default port). Not: %(bad)s",
            params={"bad": ", ".join(bad)},
        )
    if not _lines(value):
        raise ValidationError("List at least one origin the shop's pages are served from.")


def _lines(value):
    return [line.strip() for line in value.splitlines() if line.strip()]


class Shop(models.Model):
    name = models.CharField(max_length=100)
    allowed_origins = models.TextField(
        validators=[validate_origins],
        help_text="One origin per line, exactly as browsers send it: https://shop.example",
    )
    key = models.CharField(max_length=64, unique=True, default=new_key, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.name

    @property
    def origins(self):
        return _lines(self.allowed_origins)


class EmbedLook(models.Model):
    """A look a shopper made from a shop's button: which shop, and what it called the garment.

    The look itself (``shop.Look``) is the shopper's, in their account, whatever becomes of the
    shop. The id is a random UUID: the window's address carries it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    look = models.ForeignKey(Look, on_delete=models.CASCADE, related_name="+")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="looks")
    origin = models.CharField(max_length=MAX_ORIGIN_LENGTH)
    garment_name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.garment_name} from {self.shop}"
