"""The face-to-model pipeline as the prediction store runs it: load the face image, render."""

from __future__ import annotations

from .inputs import FaceToModelInputs
from .loading import load_face_image
from .renderer import RenderOptions, render_avatars


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
