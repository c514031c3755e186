"""The tryon-v1.6 and tryon-max images: a person and a garment in, one dressed image per seed.

Find the person in the model image (``person.py``), cut the garment out of its product photo
(``garment.py``) and fit it (``fit.py``). Analyses of both images are cached (a few each):
samples, retries and the same avatar in another garment skip the models. Same inputs and seed
give the same pixels. tryon-max fits the same way with a finish that keeps more of the garment
photo (``fit.MAX_FINISH``) and crops to the asked aspect ratio. Loading the inputs and encoding
the outputs is the protocol's side (``protocol/model_runner.py``).
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from .fit import MAX_FINISH, fit_garment
from .garment import Garment, cut_out
from .person import Person, find_person

CACHE_SIZE = 4

T = TypeVar("T")


class _Cache:
    """A few analyses by the hash of their image bytes (they are read-only once made)."""

    def __init__(self, make: Callable[[bytes], T]) -> None:
        self._make = make
        self._items: OrderedDict[bytes, T] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, data: bytes) -> T:
        key = hashlib.blake2b(data, digest_size=16).digest()
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = self._make(data)
        with self._lock:
            self._items[key] = value
            while len(self._items) > CACHE_SIZE:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


person_for: Callable[[bytes], Person] = _Cache(find_person)
garment_for: Callable[[bytes], Garment] = _Cache(cut_out)


def resolve_category(category: str, garment: Garment) -> str:
    return garment.kind if category == "auto" else category


def render_tryon(model_bytes: bytes, garment_bytes: bytes, category: str, seed: int):
    """One dressed image at working size (uint8 RGB) and the size to encode it at."""
    person = person_for(model_bytes)
    garment = garment_for(garment_bytes)
    rgb = fit_garment(person, garment, resolve_category(category, garment), seed % 2**32)
    return rgb, person.size


def aspect_crop(person: Person, aspect_ratio: str | None):
    """(x0, y0, x1, y1) in working pixels and the output size for ``aspect_ratio`` ("a:b").

    The crop is the largest of that exact ratio inside the model image: centred on the person
    across, from the top down (the head stays in). ``None`` keeps the model image as it is.
    """
    h, w = person.rgb.shape[:2]
    if aspect_ratio is None:
        return (0, 0, w, h), person.size
    a, b = (int(part) for part in aspect_ratio.split(":"))
    full_w, full_h = person.size
    k = min(full_w // a, full_h // b)
    out_size = (a * k, b * k)
    scale = w / full_w
    cw = min(w, max(1, round(out_size[0] * scale)))
    ch = min(h, max(1, round(out_size[1] * scale)))
    x0 = int(min(max(0, math.floor(person.figure.cx - cw / 2)), w - cw))
    return (x0, 0, x0 + cw, ch), out_size


def render_tryon_max(model_bytes: bytes, garment_bytes: bytes, seed: int, aspect_ratio: str | None):
    """One tryon-max image at working size (uint8 RGB) and the size to encode it at."""
    person = person_for(model_bytes)
    garment = garment_for(garment_bytes)
    rgb = fit_garment(person, garment, garment.kind, seed % 2**32, MAX_FINISH)
    (x0, y0, x1, y1), size = aspect_crop(person, aspect_ratio)
    return rgb[y0:y1, x0:x1], size
