"""The tryon-v1.6 model as the prediction store runs it: two images in, dressed images out.

Load both images (data URIs or loopback URLs, as for face-to-model), find the person in the model
image (``tryon_person.py``), cut the garment out of its product photo (``tryon_garment.py``), fit
it (``tryon_fit.py``) once per sample with seeds seed, seed+1, ..., and encode each at the model
image's own size. Analyses of both images are cached (a few each): samples, retries and the same
avatar in another garment skip the models. Same inputs and seed give the same bytes.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from .errors import RuntimeFailure
from .inputs import TryOnInputs
from .loading import load_face_image
from .renderer import encode
from .tryon_fit import fit_garment
from .tryon_garment import Garment, cut_out
from .tryon_person import Person, find_person

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


def load_image(value: str, name: str) -> bytes:
    """Bytes of an image input; ImageLoadError messages name the input they are about."""
    try:
        return load_face_image(value)
    except RuntimeFailure as failure:
        # loading.py words its messages for face-to-model's face_image.
        raise RuntimeFailure(failure.name, failure.message.replace("face image", name)) from None


def resolve_category(category: str, garment: Garment) -> str:
    return garment.kind if category == "auto" else category


def render_tryon(model_bytes: bytes, garment_bytes: bytes, category: str, seed: int):
    """One dressed image at working size (uint8 RGB) and the size to encode it at."""
    person = person_for(model_bytes)
    garment = garment_for(garment_bytes)
    rgb = fit_garment(person, garment, resolve_category(category, garment), seed % 2**32)
    return rgb, person.size


def run_tryon(inputs: TryOnInputs) -> list[bytes]:
    """Encoded output images; raises RuntimeFailure (ImageLoadError, PoseError, ...)."""
    model_bytes = load_image(inputs.model_image, "model image")
    garment_bytes = load_image(inputs.garment_image, "garment image")
    images = []
    for i in range(inputs.num_samples):
        rgb, size = render_tryon(model_bytes, garment_bytes, inputs.category, inputs.seed + i)
        images.append(encode(rgb, inputs.output_format, size))
    return images
