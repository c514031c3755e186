"""Schema validation of a ``/v1/run`` body for the ``face-to-model`` model.

Everything checked here is a schema problem: it answers HTTP 400 BadRequest and no prediction is
created. Problems only found while running (an unreadable image, no face) are runtime errors and
belong to the renderer.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ApiError

MODEL_NAME = "face-to-model"
ASPECT_RATIOS = ("1:1", "4:5", "3:4", "2:3", "9:16")
OUTPUT_FORMATS = ("png", "jpeg")
RESOLUTIONS = ("1k", "2k", "4k")
GENERATION_MODES = ("fast", "balanced", "quality")
SEED_MAX = 2**32 - 1
MAX_IMAGES = 4


@dataclass(frozen=True)
class FaceToModelInputs:
    face_image: str
    prompt: str = ""
    aspect_ratio: str = "2:3"
    seed: int = 42
    output_format: str = "jpeg"
    return_base64: bool = False
    resolution: str = "1k"
    generation_mode: str = "balanced"
    num_images: int = 1


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


def parse_run_body(body: object) -> FaceToModelInputs:
    """Validate a decoded JSON body; raise ApiError(400) naming the first problem found."""
    if not isinstance(body, dict):
        raise _bad("The request body must be a JSON object with model_name and inputs.")
    model_name = body.get("model_name")
    if model_name is None:
        raise _bad("model_name is required.")
    if not isinstance(model_name, str):
        raise _bad("model_name must be a string.")
    if model_name != MODEL_NAME:
        raise _bad(f"Unknown model_name {model_name!r}; this engine serves only '{MODEL_NAME}'.")
    inputs = body.get("inputs")
    if inputs is None:
        raise _bad("inputs is required.")
    if not isinstance(inputs, dict):
        raise _bad("inputs must be a JSON object.")

    face_image = inputs.get("face_image")
    if face_image is None:
        raise _bad("inputs.face_image is required.")
    if not isinstance(face_image, str):
        raise _bad("inputs.face_image must be a string (an image URL or a base64 data URI).")
    if not face_image.strip():
        raise _bad("inputs.face_image must not be empty.")

    prompt = inputs.get("prompt")
    if prompt is None:
        prompt = ""
    elif not isinstance(prompt, str):
        raise _bad("inputs.prompt must be a string.")

    seed = inputs.get("seed")
    if seed is None:
        seed = 42
    elif not _is_int(seed):
        raise _bad("inputs.seed must be an integer.")
    elif not 0 <= seed <= SEED_MAX:
        raise _bad(f"inputs.seed must be between 0 and {SEED_MAX}; got {seed}.")

    return_base64 = inputs.get("return_base64")
    if return_base64 is None:
        return_base64 = False
    elif not isinstance(return_base64, bool):
        raise _bad("inputs.return_base64 must be a boolean.")

    num_images = inputs.get("num_images")
    if num_images is None:
        num_images = 1
    elif not _is_int(num_images):
        raise _bad("inputs.num_images must be an integer.")
    elif not 1 <= num_images <= MAX_IMAGES:
        raise _bad(f"inputs.num_images must be between 1 and {MAX_IMAGES}; got {num_images}.")

    return FaceToModelInputs(
        face_image=face_image,
        prompt=prompt,
        aspect_ratio=_enum(inputs, "aspect_ratio", ASPECT_RATIOS, "2:3"),
        seed=seed,
        output_format=_enum(inputs, "output_format", OUTPUT_FORMATS, "jpeg"),
        return_base64=return_base64,
        resolution=_enum(inputs, "resolution", RESOLUTIONS, "1k"),
        generation_mode=_enum(inputs, "generation_mode", GENERATION_MODES, "balanced"),
        num_images=num_images,
    )
