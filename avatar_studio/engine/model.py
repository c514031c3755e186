"""The models as the prediction store runs them: face-to-model and tryon-v1.6, by their inputs."""

from __future__ import annotations

from .inputs import FaceToModelInputs, RunInputs, TryOnInputs
from .loading import load_face_image
from .renderer import RenderOptions, render_avatars
from .tryon import run_tryon


def run_face_to_model(inputs: FaceToModelInputs) -> list[bytes]:
    """Encoded output images; raises RuntimeFailure (ImageLoadError, InputValidationError)."""
    face_bytes = load_face_image(inputs.face_image)
    options = RenderOptions(
        aspect_ratio=inputs.aspect_ratio,
        seed=inputs.seed,
        prompt=inputs.prompt,
        output_format=inputs.output_format,
        resolution=inputs.resolution,
        num_images=inputs.num_images,
    )
    return render_avatars(face_bytes, options)


def run_model(inputs: RunInputs) -> list[bytes]:
    """Encoded output images of whichever model the inputs are for; raises RuntimeFailure."""
    if isinstance(inputs, TryOnInputs):
        return run_tryon(inputs)
    return run_face_to_model(inputs)
