"""The models as the prediction store runs them: face-to-model, tryon-v1.6 and tryon-max.

This is the protocol's side of each model: load the input images (data URIs or loopback URLs),
render one image per requested variant or sample (seeds seed, seed+1, ...) and encode each.
"""

from __future__ import annotations

from ..avatar.renderer import RenderOptions, render_avatars
from ..errors import RuntimeFailure
from ..imaging import encode
from ..tryon.renderer import render_tryon, render_tryon_max
from .image_loading import load_face_image
from .inputs import FaceToModelInputs, RunInputs, TryOnInputs, TryOnMaxInputs


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


def load_image(value: str, name: str) -> bytes:
    """Bytes of an image input; ImageLoadError messages name the input they are about."""
    try:
        return load_face_image(value)
    except RuntimeFailure as failure:
        # image_loading.py words its messages for face-to-model's face_image.
        raise RuntimeFailure(failure.name, failure.message.replace("face image", name)) from None


def run_tryon(inputs: TryOnInputs) -> list[bytes]:
    """Encoded output images; raises RuntimeFailure (ImageLoadError, PoseError, ...)."""
    model_bytes = load_image(inputs.model_image, "model image")
    garment_bytes = load_image(inputs.garment_image, "garment image")
    images = []
    for i in range(inputs.num_samples):
        rgb, size = render_tryon(model_bytes, garment_bytes, inputs.category, inputs.seed + i)
        images.append(encode(rgb, inputs.output_format, size))
    return images


def run_tryon_max(inputs: TryOnMaxInputs) -> list[bytes]:
    """Encoded output images, image k seeded seed+k; raises RuntimeFailure as run_tryon does.

    The prompt is accepted and not used: the engine draws no styling from text.
    """
    model_bytes = load_image(inputs.model_image, "model image")
    garment_bytes = load_image(inputs.product_image, "product image")
    images = []
    for k in range(inputs.num_images):
        try:
            rgb, size = render_tryon_max(
                model_bytes, garment_bytes, inputs.seed + k, inputs.aspect_ratio
            )
        except RuntimeFailure as failure:
            # The try-on machinery words its messages for v1.6's garment_image.
            message = failure.message.replace("garment image", "product image")
            raise RuntimeFailure(failure.name, message) from None
        images.append(encode(rgb, inputs.output_format, size))
    return images


def run_model(inputs: RunInputs) -> list[bytes]:
    """Encoded output images of whichever model the inputs are for; raises RuntimeFailure."""
    if isinstance(inputs, TryOnMaxInputs):
        return run_tryon_max(inputs)
    if isinstance(inputs, TryOnInputs):
        return run_tryon(inputs)
    return run_face_to_model(inputs)
