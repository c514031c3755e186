"""EngineConfig: every tunable of the offline engine, read from ``ENGINE_<FIELD>`` variables.

The config is an immutable value; a runtime update builds a new one (``updated``) and the engine
swaps it in whole, so a request never sees half an update.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ENV_PREFIX = "ENGINE_"
OUTPUT_SHAPES = ("list", "images")


@dataclass(frozen=True)
class EngineConfig:
    # The one API key the engine accepts, as "Authorization: Bearer <key>".
    api_key: str = "fashn-offline-key"
    # Base of output URLs; empty means "the scheme and Host of the request being answered".
    public_base_url: str = ""
    # How long a prediction spends in each state (seconds from creation); it completes when
    # these have passed AND its images are rendered.
    starting_seconds: float = 0.0
    in_queue_seconds: float = 0.0
    processing_seconds: float = 0.0
    # Each admitted prediction's processing time is multiplied by a factor drawn uniformly from
    # [1 - spread, 1 + spread] (seeded by fault_seed): FASHN's predictions vary in length, so
    # slots free one by one rather than all at once. 0 gives every prediction exactly its time.
    processing_spread: float = 0.0
    # face-to-model's processing time per generation_mode (FASHN: about 20 s for fast at 1k up
    # to 120 s); None means processing_seconds. An omitted mode is "balanced".
    processing_seconds_fast: float | None = None
    processing_seconds_balanced: float | None = None
    processing_seconds_quality: float | None = None
    # tryon-max's processing time per generation_mode (FASHN: about 50 s); None means
    # processing_seconds, so tests and local runs stay quick unless asked otherwise.
    tryon_max_processing_seconds_balanced: float | None = None
    tryon_max_processing_seconds_quality: float | None = None
    # FASHN's default account limits.
    max_in_flight: int = 6
    run_limit: int = 50
    run_window_seconds: float = 60.0
    status_limit: int = 50
    status_window_seconds: float = 10.0
    credits_limit: int = 30
    credits_window_seconds: float = 10.0
    # Starting balance; setting it at runtime sets the balance.
    credits: int = 10000
    # Runtime error name -> probability that a new prediction fails with it (seeded RNG).
    failure_rates: dict[str, float] = field(default_factory=dict)
    fault_seed: int = 0
    # "list": output is a list of URLs; "images": output is {"images": [...]}.
    output_shape: str = "list"

    def __post_init__(self) -> None:
        problems = validate(self)
        if problems:
            raise ValueError("; ".join(problems))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> EngineConfig:
        """Defaults, then ``ENGINE_<FIELD_UPPER>`` variables, then keyword overrides."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None and raw != "":
                values[f.name] = _parse_env(f.name, raw)
        values.update(overrides)
        return cls().updated(values)

    def updated(self, changes: Mapping[str, Any]) -> EngineConfig:
        """A new config with ``changes`` applied; ValueError names unknown or bad fields."""
        known = {f.name: f for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - set(known))
        if unknown:
            raise ValueError(f"Unknown config field(s): {', '.join(unknown)}.")
        coerced = {name: _coerce(name, value) for name, value in changes.items()}
        return dataclasses.replace(self, **coerced)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def processing_seconds_for(self, generation_mode: str | None) -> float:
        """How long a prediction of this face-to-model mode processes; ``None`` (a model with
        no generation_mode, such as tryon-v1.6) takes ``processing_seconds``."""
        if generation_mode is None:
            return self.processing_seconds
        override = getattr(self, f"processing_seconds_{generation_mode}")
        return self.processing_seconds if override is None else override

    def tryon_max_processing_seconds_for(self, generation_mode: str) -> float:
        """How long a tryon-max prediction of this mode processes."""
        override = getattr(self, f"tryon_max_processing_seconds_{generation_mode}")
        return self.processing_seconds if override is None else override


_INT_FIELDS = {
    "max_in_flight",
    "run_limit",
    "status_limit",
    "credits_limit",
    "credits",
    "fault_seed",
}
_FLOAT_FIELDS = {
    "starting_seconds",
    "in_queue_seconds",
    "processing_seconds",
    "processing_spread",
    "run_window_seconds",
    "status_window_seconds",
    "credits_window_seconds",
}
# Seconds that may be null: "not set, use the general setting".
_OPTIONAL_FLOAT_FIELDS = {
    "processing_seconds_fast",
    "processing_seconds_balanced",
    "processing_seconds_quality",
    "tryon_max_processing_seconds_balanced",
    "tryon_max_processing_seconds_quality",
}
_STR_FIELDS = {"api_key", "public_base_url", "output_shape"}


def _parse_env(name: str, raw: str) -> Any:
    if name == "failure_rates":
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{ENV_PREFIX}FAILURE_RATES must be a JSON object: {exc}") from exc
    if name in _INT_FIELDS:
        try:
            return int(raw)
        except ValueError as exc:
            raise ValueError(f"{ENV_PREFIX}{name.upper()} must be an integer") from exc
    if name in _FLOAT_FIELDS | _OPTIONAL_FLOAT_FIELDS:
        try:
            return float(raw)
        except ValueError as exc:
            raise ValueError(f"{ENV_PREFIX}{name.upper()} must be a number") from exc
    return raw


def _coerce(name: str, value: Any) -> Any:
    """Type-check one field value (JSON-friendly: ints are accepted where floats are)."""
    if name in _INT_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an integer.")
        return value
    if name in _OPTIONAL_FLOAT_FIELDS and value is None:
        return None
    if name in _FLOAT_FIELDS | _OPTIONAL_FLOAT_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name} must be a number.")
        return float(value)
    if name in _STR_FIELDS:
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a string.")
        return value.rstrip("/") if name == "public_base_url" else value
    if name == "failure_rates":
        if not isinstance(value, Mapping):
            raise ValueError("failure_rates must be an object of error name -> probability.")
        rates = {}
        for key, p in value.items():
            if not isinstance(key, str) or isinstance(p, bool) or not isinstance(p, int | float):
                raise ValueError("failure_rates must map error names to numbers.")
            rates[key] = float(p)
        return rates
    return value


def validate(config: EngineConfig) -> list[str]:
    problems = []
    if not config.api_key:
        problems.append("api_key must not be empty")
    for name in sorted(_FLOAT_FIELDS | _OPTIONAL_FLOAT_FIELDS):
        value = getattr(config, name)
        if value is not None and value < 0:
            problems.append(f"{name} must be >= 0")
    if not config.processing_spread < 1:  # also refuses NaN
        problems.append("processing_spread must be below 1 (a fraction of the processing time)")
    for name in ("max_in_flight", "run_limit", "status_limit", "credits_limit"):
        if getattr(config, name) < 1:
            problems.append(f"{name} must be >= 1")
    for name in ("run_window_seconds", "status_window_seconds", "credits_window_seconds"):
        if getattr(config, name) <= 0:
            problems.append(f"{name} must be > 0")
    if config.credits < 0:
        problems.append("credits must be >= 0")
    if config.output_shape not in OUTPUT_SHAPES:
        problems.append(f"output_shape must be one of {', '.join(OUTPUT_SHAPES)}")
    for name, p in config.failure_rates.items():
        if not 0.0 <= p <= 1.0:
            problems.append(f"failure_rates[{name!r}] must be between 0 and 1")
    return problems
