"""Schema validation of a ``/v1/run`` body for ``face-to-model``, ``tryon-v1.6`` and ``tryon-max``.

Everything checked here is a schema problem: it answers HTTP 400 BadRequest and no prediction is
created. Problems only found while running (an unreadable image, no face, no person) are runtime
errors and belong to the renderers. Unknown keys in ``inputs`` are ignored, as FASHN does, and a
JSON null counts as "not sent".
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ApiError
from .pricing import face_to_model_credits, tryon_credits, tryon_max_credits

MODEL_NAME = "face-to-model"
TRYON_MODEL_NAME = "tryon-v1.6"
TRYON_MAX_MODEL_NAME = "tryon-max"
MODEL_NAMES = (MODEL_NAME, TRYON_MODEL_NAME, TRYON_MAX_MODEL_NAME)
ASPECT_RATIOS = ("1:1", "4:5", "3:4", "2:3", "9:16")
OUTPUT_FORMATS = ("png", "jpeg")
RESOLUTIONS = ("1k", "2k", "4k")
GENERATION_MODES = ("fast", "balanced", "quality")
TRYON_CATEGORIES = ("auto", "tops", "bottoms", "one-pieces")
TRYON_MODES = ("performance", "balanced", "quality")
TRYON_MAX_GENERATION_MODES = ("balanced", "quality")
SEED_MAX = 2**32 - 1
MAX_IMAGES = 4
# FASHN picks a mode when none is sent and does not say which; the engine picks the middle one,
# so an omitted mode renders, takes and costs what "balanced" does.
DEFAULT_GENERATION_MODE = "balanced"
# FASHN's original face-to-model size, about one megapixel.
DEFAULT_RESOLUTION = "1k"


@dataclass(frozen=True)
class FaceToModelInputs:
    face_image: str
    prompt: str = ""
    aspect_ratio: str = "2:3"
    seed: int = 42
    output_format: str = "jpeg"
    return_base64: bool = False
    resolution: str = DEFAULT_RESOLUTION
    generation_mode: str = DEFAULT_GENERATION_MODE
    num_images: int = 1

    model_name = MODEL_NAME

    @property
    def credits(self) -> int:
        """What completing this prediction charges, by FASHN's table."""
        return face_to_model_credits(self.generation_mode, self.resolution, self.num_images)


@dataclass(frozen=True)
class TryOnInputs:
    model_image: str
    garment_image: str
    category: str = "auto"
    mode: str = "balanced"
    seed: int = 42
    num_samples: int = 1
    output_format: str = "png"  # FASHN's default for tryon (face-to-model's is jpeg)
    return_base64: bool = False

    model_name = TRYON_MODEL_NAME

    @property
    def num_images(self) -> int:
        """Outputs made and credits charged: the prediction store counts images this way."""
        return self.num_samples

    @property
    def credits(self) -> int:
        """What completing this prediction charges: one credit per sample."""
        return tryon_credits(self.num_samples)


@dataclass(frozen=True)
class TryOnMaxInputs:
    model_image: str
    product_image: str
    prompt: str = ""
    # None: the model image's own shape. FASHN documents the input but not its default; keeping
    # the model image as it is is this engine's assumption (docs/ENGINE.md).
    aspect_ratio: str | None = None
    generation_mode: str = "balanced"
    num_images: int = 1
    output_format: str = "png"  # as tryon-v1.6
    return_base64: bool = False
    seed: int = 42

    model_name = TRYON_MAX_MODEL_NAME

    @property
    def credits(self) -> int:
        """What completing this prediction charges, per image by generation mode."""
        return tryon_max_credits(self.generation_mode, self.num_images)


RunInputs = FaceToModelInputs | TryOnInputs | TryOnMaxInputs


def _bad(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def _is_int(value: object) -> bool:
    # bool is an int subclass in Python, but JSON true is not a number.
    return isinstance(value, int) and not isinstance(value, bool)


def _enum(inputs: dict, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = inputs.get(name)
    if value is None:
        return default
    if not isinstance(value, str) or value not in allowed:
        choices = ", ".join(f'"{a}"' for a in allowed)
        raise _bad(f"inputs.{name} must be one of {choices}; got {value!r}.")
    return value


def _image(inputs: dict, name: str) -> str:
    value = inputs.get(name)
    if value is None:
        raise _bad(f"inputs.{name} is required.")
    if not isinstance(value, str):
        raise _bad(f"inputs.{name} must be a string (an image URL or a base64 data URI).")
    if not value.strip():
        raise _bad(f"inputs.{name} must not be empty.")
    return value


def _seed(inputs: dict) -> int:
    seed = inputs.get("seed")
    if seed is None:
        return 42
    if not _is_int(seed):
        raise _bad("inputs.seed must be an integer.")
    if not 0 <= seed <= SEED_MAX:
        raise _bad(f"inputs.seed must be between 0 and {SEED_MAX}; got {seed}.")
    return seed


def _flag(inputs: dict, name: str) -> bool:
    value = inputs.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _bad(f"inputs.{name} must be a boolean.")
    return value


def _count(inputs: dict, name: str) -> int:
    value = inputs.get(name)
    if value is None:
        return 1
    if not _is_int(value):
        raise _bad(f"inputs.{name} must be an integer from 1 to {MAX_IMAGES}; got {value!r}.")
    if not 1 <= value <= MAX_IMAGES:
        raise _bad(f"inputs.{name} must be between 1 and {MAX_IMAGES}; got {value}.")
    return value


def parse_run_body(body: object) -> RunInputs:
    """Validate a decoded JSON body; raise ApiError(400) naming the first problem found."""
    if not isinstance(body, dict):
        raise _bad("The request body must be a JSON object with model_name and inputs.")
    model_name = body.get("model_name")
    if model_name is None:
        raise _bad("model_name is required.")
    if not isinstance(model_name, str):
        raise _bad("model_name must be a string.")
    if model_name not in MODEL_NAMES:
        served = ", ".join(f"'{name}'" for name in MODEL_NAMES)
        raise _bad(f"Unknown model_name {model_name!r}; this engine serves {served}.")
    inputs = body.get("inputs")
    if inputs is None:
        raise _bad("inputs is required.")
    if not isinstance(inputs, dict):
        raise _bad("inputs must be a JSON object.")
    if model_name == TRYON_MODEL_NAME:
        return parse_tryon_inputs(inputs)
    if model_name == TRYON_MAX_MODEL_NAME:
        return parse_tryon_max_inputs(inputs)
    return parse_face_to_model_inputs(inputs)


def _prompt(inputs: dict) -> str:
    prompt = inputs.get("prompt")
    if prompt is None:
        return ""
    if not isinstance(prompt, str):
        raise _bad("inputs.prompt must be a string.")
    return prompt


def parse_face_to_model_inputs(inputs: dict) -> FaceToModelInputs:
    face_image = _image(inputs, "face_image")
    return FaceToModelInputs(
        face_image=face_image,
        prompt=_prompt(inputs),
        aspect_ratio=_enum(inputs, "aspect_ratio", ASPECT_RATIOS, "2:3"),
        seed=_seed(inputs),
        output_format=_enum(inputs, "output_format", OUTPUT_FORMATS, "jpeg"),
        return_base64=_flag(inputs, "return_base64"),
        resolution=_enum(inputs, "resolution", RESOLUTIONS, DEFAULT_RESOLUTION),
        generation_mode=_enum(inputs, "generation_mode", GENERATION_MODES, DEFAULT_GENERATION_MODE),
        num_images=_count(inputs, "num_images"),
    )


def parse_tryon_inputs(inputs: dict) -> TryOnInputs:
    return TryOnInputs(
        model_image=_image(inputs, "model_image"),
        garment_image=_image(inputs, "garment_image"),
        category=_enum(inputs, "category", TRYON_CATEGORIES, "auto"),
        mode=_enum(inputs, "mode", TRYON_MODES, "balanced"),
        seed=_seed(inputs),
        num_samples=_count(inputs, "num_samples"),
        output_format=_enum(inputs, "output_format", OUTPUT_FORMATS, "png"),
        return_base64=_flag(inputs, "return_base64"),
    )


def parse_tryon_max_inputs(inputs: dict) -> TryOnMaxInputs:
    model_image = _image(inputs, "model_image")
    product_image = _image(inputs, "product_image")
    aspect_ratio = None
    if inputs.get("aspect_ratio") is not None:
        aspect_ratio = _enum(inputs, "aspect_ratio", ASPECT_RATIOS, "")
    return TryOnMaxInputs(
        model_image=model_image,
        product_image=product_image,
        prompt=_prompt(inputs),
        aspect_ratio=aspect_ratio,
        generation_mode=_enum(inputs, "generation_mode", TRYON_MAX_GENERATION_MODES, "balanced"),
        num_images=_count(inputs, "num_images"),
        output_format=_enum(inputs, "output_format", OUTPUT_FORMATS, "png"),
        return_base64=_flag(inputs, "return_base64"),
        seed=_seed(inputs),
    )
