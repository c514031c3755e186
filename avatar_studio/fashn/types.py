"""Values and rules of the FASHN protocol: inputs, prediction status, runtime errors.

This module is the one home of each protocol rule, so the app never rebuilds one:

* allowed values and defaults: ``ASPECT_RATIOS``, ``DEFAULT_SEED``, ... (forms, serializers
  and models offer exactly what the protocol accepts);
* the seed range and a fresh seed: ``SEED_MIN``, ``SEED_MAX``, ``random_seed()``;
* whether a prediction still runs or has ended: ``is_running_status()``,
  ``is_terminal_status()`` (plain status strings, as stored) and ``PredictionStatus.is_terminal``;
* whether a new prediction can succeed where an ended one did not:
  ``retry_can_succeed(status, error_name)`` and ``Prediction.retry_can_succeed``.
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ProtocolError

__all__ = [
    "ASPECT_RATIOS",
    "CONTENT_MODERATION_ERROR",
    "CREDITS_USED_HEADER",
    "Credits",
    "DEFAULT_ASPECT_RATIO",
    "DEFAULT_OUTPUT_FORMAT",
    "DEFAULT_SEED",
    "DEFAULT_TRYON_CATEGORY",
    "DEFAULT_TRYON_MODE",
    "FACE_TO_MODEL",
    "FaceToModelInputs",
    "GENERATION_MODES",
    "IMAGE_LOAD_ERROR",
    "INPUT_VALIDATION_ERROR",
    "INTERNAL_SERVER_ERROR",
    "NUM_IMAGES_MAX",
    "NUM_IMAGES_MIN",
    "OUTPUT_FORMATS",
    "PERMANENT_RUNTIME_ERRORS",
    "PIPELINE_ERROR",
    "POSE_ERROR",
    "Prediction",
    "PredictionError",
    "PredictionStatus",
    "RESOLUTIONS",
    "RETRYABLE_RUNTIME_ERRORS",
    "RUNNING_STATUSES",
    "RUNTIME_ERROR_NAMES",
    "SEED_MAX",
    "SEED_MIN",
    "TERMINAL_STATUSES",
    "THIRD_PARTY_ERROR",
    "THIRD_PARTY_PROVIDER_ERROR",
    "TRYON",
    "TRYON_CATEGORIES",
    "TRYON_MAX",
    "TRYON_MAX_GENERATION_MODES",
    "TRYON_MODES",
    "TryOnInputs",
    "TryOnMaxInputs",
    "UNAVAILABLE_ERROR",
    "UNKNOWN_ERROR",
    "is_running_status",
    "is_terminal_status",
    "candidate_seed",
    "random_seed",
    "retry_can_succeed",
]

FACE_TO_MODEL = "face-to-model"
TRYON = "tryon-v1.6"
TRYON_MAX = "tryon-max"
CREDITS_USED_HEADER = "x-fashn-credits-used"

# Inputs of face-to-model, as documented by FASHN.
ASPECT_RATIOS = ("1:1", "4:5", "3:4", "2:3", "9:16")
DEFAULT_ASPECT_RATIO = "2:3"
OUTPUT_FORMATS = ("png", "jpeg")
DEFAULT_OUTPUT_FORMAT = "jpeg"
RESOLUTIONS = ("1k", "2k", "4k")
GENERATION_MODES = ("fast", "balanced", "quality")
# Inputs of tryon-v1.6 (virtual try-on: a garment onto a model image), as documented by FASHN.
TRYON_CATEGORIES = ("auto", "tops", "bottoms", "one-pieces")
DEFAULT_TRYON_CATEGORY = "auto"
TRYON_MODES = ("performance", "balanced", "quality")
DEFAULT_TRYON_MODE = "balanced"
# tryon-max's modes (it has no "fast"); its aspect ratios are face-to-model's.
TRYON_MAX_GENERATION_MODES = ("balanced", "quality")
SEED_MIN = 0
SEED_MAX = 2**32 - 1
DEFAULT_SEED = 42
NUM_IMAGES_MIN = 1
NUM_IMAGES_MAX = 4

# Runtime error names a failed prediction carries in ``error.name``.
IMAGE_LOAD_ERROR = "ImageLoadError"
CONTENT_MODERATION_ERROR = "ContentModerationError"
INPUT_VALIDATION_ERROR = "InputValidationError"
POSE_ERROR = "PoseError"
PIPELINE_ERROR = "PipelineError"
THIRD_PARTY_ERROR = "ThirdPartyError"
THIRD_PARTY_PROVIDER_ERROR = "3rdPartyProviderError"
UNAVAILABLE_ERROR = "UnavailableError"
INTERNAL_SERVER_ERROR = "InternalServerError"
# Not a FASHN name: what we record when a failed prediction carries no usable error name.
UNKNOWN_ERROR = "UnknownError"

# A new prediction with the same inputs can succeed: the fault was on FASHN's side.
# Failed predictions are not charged, so retrying these costs the user nothing.
RETRYABLE_RUNTIME_ERRORS = frozenset(
    {
        PIPELINE_ERROR,
        THIRD_PARTY_ERROR,
        THIRD_PARTY_PROVIDER_ERROR,
        UNAVAILABLE_ERROR,
        INTERNAL_SERVER_ERROR,
    }
)
# The inputs themselves are the problem: the user must send another photo or prompt.
PERMANENT_RUNTIME_ERRORS = frozenset(
    {IMAGE_LOAD_ERROR, CONTENT_MODERATION_ERROR, INPUT_VALIDATION_ERROR, POSE_ERROR}
)
RUNTIME_ERROR_NAMES = RETRYABLE_RUNTIME_ERRORS | PERMANENT_RUNTIME_ERRORS


def random_seed() -> int:
    """A seed drawn uniformly from ``SEED_MIN`` to ``SEED_MAX``, both included."""
    # secrets, not random: seeding the random module (tests, benchmarks) must not make every
    # "new look" the same.
    return SEED_MIN + secrets.randbelow(SEED_MAX - SEED_MIN + 1)


def candidate_seed(seed: int, index: int) -> int:
    """The seed that makes image ``index`` of a ``num_images`` run on its own (num_images 1).

    A run of several images seeds image k with seed+k (wrapping at ``SEED_MAX``), so each
    candidate can be made again alone, e.g. at a higher resolution.
    """
    return (seed + index) % (SEED_MAX + 1)


@dataclass(frozen=True)
class FaceToModelInputs:
    """The ``inputs`` of a face-to-model run, validated on construction.

    ``prompt=""`` leaves the prompt out (FASHN infers the body from the face); ``None`` for
    ``resolution``, ``generation_mode`` and ``num_images`` leaves them out so FASHN's own
    defaults apply.
    """

    face_image: str
    prompt: str = ""
    aspect_ratio: str = DEFAULT_ASPECT_RATIO
    seed: int = DEFAULT_SEED
    output_format: str = DEFAULT_OUTPUT_FORMAT
    return_base64: bool = False
    resolution: str | None = None
    generation_mode: str | None = None
    num_images: int | None = None

    def __post_init__(self) -> None:
        _check_image("face_image", self.face_image)
        if not isinstance(self.prompt, str):
            raise ValueError("prompt must be a string (use '' for no prompt)")
        _check_choice("aspect_ratio", self.aspect_ratio, ASPECT_RATIOS)
        _check_int("seed", self.seed, SEED_MIN, SEED_MAX)
        _check_choice("output_format", self.output_format, OUTPUT_FORMATS)
        if not isinstance(self.return_base64, bool):
            raise ValueError("return_base64 must be True or False")
        if self.resolution is not None:
            _check_choice("resolution", self.resolution, RESOLUTIONS)
        if self.generation_mode is not None:
            _check_choice("generation_mode", self.generation_mode, GENERATION_MODES)
        if self.num_images is not None:
            _check_int("num_images", self.num_images, NUM_IMAGES_MIN, NUM_IMAGES_MAX)

    def to_payload(self) -> dict[str, Any]:
        """The ``inputs`` object of ``POST /v1/run``."""
        payload: dict[str, Any] = {
            "face_image": self.face_image,
            "aspect_ratio": self.aspect_ratio,
            "seed": self.seed,
            "output_format": self.output_format,
            "return_base64": self.return_base64,
        }
        # A blank prompt means "no guidance"; sending whitespace would be guidance of nothing.
        if self.prompt.strip():
            payload["prompt"] = self.prompt
        if self.resolution is not None:
            payload["resolution"] = self.resolution
        if self.generation_mode is not None:
            payload["generation_mode"] = self.generation_mode
        if self.num_images is not None:
            payload["num_images"] = self.num_images
        return payload

    def __repr__(self) -> str:
        return (
            f"FaceToModelInputs(face_image={_short(self.face_image, 80)}, "
            f"prompt={self.prompt!r}, aspect_ratio={self.aspect_ratio!r}, seed={self.seed}, "
            f"output_format={self.output_format!r}, return_base64={self.return_base64}, "
            f"resolution={self.resolution!r}, generation_mode={self.generation_mode!r}, "
            f"num_images={self.num_images})"
        )


@dataclass(frozen=True)
class TryOnInputs:
    """The ``inputs`` of a tryon-v1.6 run: ``garment_image`` dressed onto ``model_image``."""

    model_image: str
    garment_image: str
    category: str = DEFAULT_TRYON_CATEGORY
    mode: str = DEFAULT_TRYON_MODE
    seed: int = DEFAULT_SEED
    num_samples: int = 1
    output_format: str = DEFAULT_OUTPUT_FORMAT
    return_base64: bool = False

    def __post_init__(self) -> None:
        _check_image("model_image", self.model_image)
        _check_image("garment_image", self.garment_image)
        _check_choice("category", self.category, TRYON_CATEGORIES)
        _check_choice("mode", self.mode, TRYON_MODES)
        _check_int("seed", self.seed, SEED_MIN, SEED_MAX)
        _check_int("num_samples", self.num_samples, NUM_IMAGES_MIN, NUM_IMAGES_MAX)
        _check_choice("output_format", self.output_format, OUTPUT_FORMATS)
        if not isinstance(self.return_base64, bool):
            raise ValueError("return_base64 must be True or False")

    def to_payload(self) -> dict[str, Any]:
        """The ``inputs`` object of ``POST /v1/run``."""
        return {
            "model_image": self.model_image,
            "garment_image": self.garment_image,
            "category": self.category,
            "mode": self.mode,
            "seed": self.seed,
            "num_samples": self.num_samples,
            "output_format": self.output_format,
            "return_base64": self.return_base64,
        }

    def __repr__(self) -> str:
        return (
            f"TryOnInputs(model_image={_short(self.model_image, 80)}, "
            f"garment_image={_short(self.garment_image, 80)}, category={self.category!r}, "
            f"mode={self.mode!r}, seed={self.seed}, num_samples={self.num_samples}, "
            f"output_format={self.output_format!r}, return_base64={self.return_base64})"
        )


@dataclass(frozen=True)
class TryOnMaxInputs:
    """The ``inputs`` of a tryon-max run: ``product_image`` dressed onto ``model_image``.

    ``prompt=""`` leaves the prompt out; ``None`` for ``aspect_ratio``, ``generation_mode`` and
    ``num_images`` leaves them out so FASHN's own defaults apply.
    """

    model_image: str
    product_image: str
    prompt: str = ""
    aspect_ratio: str | None = None
    generation_mode: str | None = None
    num_images: int | None = None
    seed: int = DEFAULT_SEED
    output_format: str = DEFAULT_OUTPUT_FORMAT
    return_base64: bool = False

    def __post_init__(self) -> None:
        _check_image("model_image", self.model_image)
        _check_image("product_image", self.product_image)
        if not isinstance(self.prompt, str):
            raise ValueError("prompt must be a string (use '' for no prompt)")
        if self.aspect_ratio is not None:
            _check_choice("aspect_ratio", self.aspect_ratio, ASPECT_RATIOS)
        if self.generation_mode is not None:
            _check_choice("generation_mode", self.generation_mode, TRYON_MAX_GENERATION_MODES)
        if self.num_images is not None:
            _check_int("num_images", self.num_images, NUM_IMAGES_MIN, NUM_IMAGES_MAX)
        _check_int("seed", self.seed, SEED_MIN, SEED_MAX)
        _check_choice("output_format", self.output_format, OUTPUT_FORMATS)
        if not isinstance(self.return_base64, bool):
            raise ValueError("return_base64 must be True or False")

    def to_payload(self) -> dict[str, Any]:
        """The ``inputs`` object of ``POST /v1/run``."""
        payload: dict[str, Any] = {
            "model_image": self.model_image,
            "product_image": self.product_image,
            "seed": self.seed,
            "output_format": self.output_format,
            "return_base64": self.return_base64,
        }
        if self.prompt.strip():
            payload["prompt"] = self.prompt
        if self.aspect_ratio is not None:
            payload["aspect_ratio"] = self.aspect_ratio
        if self.generation_mode is not None:
            payload["generation_mode"] = self.generation_mode
        if self.num_images is not None:
            payload["num_images"] = self.num_images
        return payload

    def __repr__(self) -> str:
        return (
            f"TryOnMaxInputs(model_image={_short(self.model_image, 80)}, "
            f"product_image={_short(self.product_image, 80)}, prompt={self.prompt!r}, "
            f"aspect_ratio={self.aspect_ratio!r}, generation_mode={self.generation_mode!r}, "
            f"num_images={self.num_images}, seed={self.seed}, "
            f"output_format={self.output_format!r}, return_base64={self.return_base64})"
        )


def _check_image(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} is required: an image URL or a data:image/...;base64, URI")
    lowered = value[:40].lower()
    if lowered.startswith(("https://", "http://")):
        return
    if lowered.startswith("data:image/"):
        if ";base64," not in value[:100]:
            raise ValueError(f"{name} data URI must be base64: data:image/<type>;base64,...")
        return
    raise ValueError(f"{name} must be an http(s) URL or a data:image/...;base64, URI")


def _check_choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def _check_int(name: str, value: object, low: int, high: int) -> None:
    # bool is an int subclass; True as a seed is a bug, not a choice.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{name} must be an integer; got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}; got {value}")


class PredictionStatus(enum.StrEnum):
    """Where a prediction is in FASHN's pipeline."""

    STARTING = "starting"
    IN_QUEUE = "in_queue"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"
    TIME_OUT = "time_out"

    @property
    def is_terminal(self) -> bool:
        """True once the prediction will not change any more."""
        return is_terminal_status(self)


RUNNING_STATUSES = frozenset(
    {PredictionStatus.STARTING, PredictionStatus.IN_QUEUE, PredictionStatus.PROCESSING}
)
TERMINAL_STATUSES = frozenset(PredictionStatus) - RUNNING_STATUSES


def is_running_status(status: str) -> bool:
    """True for a status string FASHN gives while the prediction may still change.

    Takes the plain string as stored (``"in_queue"``); a string that is no FASHN status is
    neither running nor terminal.
    """
    return status in RUNNING_STATUSES


def is_terminal_status(status: str) -> bool:
    """True for a status string after which the prediction never changes (completed, failed,
    canceled, time_out)."""
    return status in TERMINAL_STATUSES


def retry_can_succeed(status: str, error_name: str | None) -> bool:
    """True when a new prediction with the same inputs can succeed where this one ended.

    Takes the plain strings a caller stores: the final status and the runtime error name
    (``""`` or None when there was none). Whether attempts are left is the caller's business.
    """
    if status == PredictionStatus.TIME_OUT:
        # FASHN ran out of time: nothing was said against the inputs.
        return True
    # canceled is someone's decision, completed needs no retry, and an error name we do not
    # know cannot be assumed transient.
    return status == PredictionStatus.FAILED and error_name in RETRYABLE_RUNTIME_ERRORS


@dataclass(frozen=True)
class PredictionError:
    """The ``error`` of a failed prediction: ``name`` is one of the runtime error names."""

    name: str
    message: str

    @property
    def retryable(self) -> bool:
        """True when a failed prediction with this error can succeed on a new attempt.

        For a prediction that ended otherwise (time_out, canceled) ask
        ``Prediction.retry_can_succeed``: the status decides there, not the error.
        """
        return retry_can_succeed(PredictionStatus.FAILED, self.name)


@dataclass(frozen=True)
class Prediction:
    """One answer of ``GET /v1/status/{id}``, normalised.

    ``outputs`` is always a list of strings (URLs or data URIs), whichever of the two
    documented shapes FASHN used, and empty while the prediction runs.
    """

    id: str
    status: PredictionStatus
    outputs: list[str] = field(default_factory=list)
    error: PredictionError | None = None
    credits_used: int | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal

    @property
    def is_completed(self) -> bool:
        return self.status is PredictionStatus.COMPLETED

    @property
    def retry_can_succeed(self) -> bool:
        """True when this prediction ended without an image and a new one can succeed."""
        return retry_can_succeed(self.status, self.error.name if self.error else None)

    @classmethod
    def from_response(cls, data: object, *, credits_used: int | None = None) -> Prediction:
        """Build from the decoded status JSON; ``ProtocolError`` if it breaks the protocol.

        An unknown status string is a ``ProtocolError`` rather than "still running": it is
        retryable, so the caller keeps polling until its own deadline, but the anomaly is
        visible in its logs instead of being silently treated as progress.
        """
        if not isinstance(data, Mapping):
            raise ProtocolError(f"status answer is not a JSON object: {_short(data)}")
        prediction_id = data.get("id")
        if not isinstance(prediction_id, str) or not prediction_id:
            raise ProtocolError(f"status answer has no prediction id: {_short(data)}")
        raw_status = data.get("status")
        try:
            status = PredictionStatus(raw_status)
        except ValueError:
            raise ProtocolError(
                f"prediction {prediction_id} has an unknown status {_short(raw_status)}"
            ) from None
        outputs = _parse_outputs(data.get("output"), prediction_id)
        error = _parse_error(data.get("error"))
        if error is None and status is PredictionStatus.FAILED:
            # The pipeline needs a name to decide; an unnamed failure is neither retryable
            # nor one of the known permanent errors, and is recorded as such.
            error = PredictionError(UNKNOWN_ERROR, "FASHN reported a failure without details")
        return cls(
            id=prediction_id,
            status=status,
            outputs=outputs,
            error=error,
            credits_used=credits_used,
        )


def _parse_outputs(raw: object, prediction_id: str) -> list[str]:
    if raw is None:
        return []
    # One FASHN page documents {"images": [...]}, the SDK a bare list: accept both.
    if isinstance(raw, Mapping):
        raw = raw.get("images")
        if raw is None:
            return []
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ProtocolError(f"prediction {prediction_id} has malformed output: {_short(raw)}")
    return list(raw)


def _parse_error(raw: object) -> PredictionError | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, Mapping):
        name = raw.get("name")
        message = raw.get("message")
        return PredictionError(
            name=name if isinstance(name, str) and name else UNKNOWN_ERROR,
            message=message if isinstance(message, str) else "",
        )
    # Tolerate an older bare-string error; keep its text, and its name if it is one.
    text = str(raw)
    return PredictionError(
        name=text if text in RUNTIME_ERROR_NAMES else UNKNOWN_ERROR, message=text
    )


@dataclass(frozen=True)
class Credits:
    """The account balance from ``GET /v1/credits``.

    ``subscription`` and ``on_demand`` are 0 when FASHN leaves them out (no subscription).
    """

    total: int
    subscription: int = 0
    on_demand: int = 0

    @classmethod
    def from_response(cls, data: object) -> Credits:
        credits = data.get("credits") if isinstance(data, Mapping) else None
        if not isinstance(credits, Mapping):
            raise ProtocolError(f"credits answer has no credits object: {_short(data)}")
        values = {}
        for key in ("total", "subscription", "on_demand"):
            value = credits.get(key)
            if value is None and key != "total":
                value = 0
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise ProtocolError(f"credits.{key} is not a number: {_short(value)}")
            values[key] = int(value)
        return cls(**values)


def _short(value: object, limit: int = 200) -> str:
    """``repr(value)`` cut to about ``limit`` characters, for messages and reprs."""
    # Data URIs and answer bodies can be megabytes long: keep logs readable.
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
