"""The face-to-model renderer, in-process: placement, determinism, speed, awkward inputs."""

from __future__ import annotations

import io
import random
import time

import numpy as np
import pytest
from PIL import Image

from avatar_studio.engine.errors import RuntimeFailure
from avatar_studio.engine.renderer import (
    BASE_SIZES,
    Layout,
    RenderOptions,
    body_shape,
    decode_image,
    draw_body,
    find_face,
    output_size,
    render_avatars,
)

from .conftest import jpeg_bytes


def _open(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(np.float32)


def test_a_head_on_a_body_on_a_backdrop(face_jpeg):
    image = _open(render_avatars(face_jpeg, RenderOptions(output_format="png", seed=1))[0])
    h, w, _ = image.shape
    corner = image[: h // 20, : w // 20].reshape(-1, 3).mean(axis=0)
    assert corner.min() > 200 and np.ptp(corner) < 10  # a light, neutral studio backdrop
    # Top centre: the selfie's face (skin: red above blue), where the canvas is otherwise empty.
    face = image[int(0.30 * w) : int(0.36 * w), int(0.46 * w) : int(0.54 * w)].reshape(-1, 3)
    r, g, b = face.mean(axis=0)
    assert r > b + 20 and r > 120
    # Below it, a body fills the middle of every lower row but not the edges.
    for y in (int(0.8 * w), h - 5):
        middle = image[y, int(0.45 * w) : int(0.55 * w)].mean(axis=0)
        edge = image[y, :10].mean(axis=0)
        assert np.abs(middle - edge).max() > 25


def test_same_seed_same_pixels_other_seed_differs(face_jpeg):
    first = render_avatars(face_jpeg, RenderOptions(seed=5, output_format="png"))[0]
    again = render_avatars(face_jpeg, RenderOptions(seed=5, output_format="png"))[0]
    other = render_avatars(face_jpeg, RenderOptions(seed=6, output_format="png"))[0]
    assert first == again and first != other


def test_variants_use_seed_plus_i(face_jpeg):
    pair = render_avatars(face_jpeg, RenderOptions(seed=10, num_images=2))
    assert pair[1] == render_avatars(face_jpeg, RenderOptions(seed=11))[0]
    assert pair[0] != pair[1]


def test_sizes_for_every_ratio_and_resolution():
    for ratio, (w, h) in BASE_SIZES.items():
        assert 0.95e6 < w * h < 1.1e6, ratio  # about one megapixel at 1k
        assert output_size(ratio, "2k") == (2 * w, 2 * h)
        assert output_size(ratio, "4k") == (4 * w, 4 * h)


def test_prompt_words_change_the_build():
    def shape(prompt):
        return body_shape(prompt, random.Random(1))

    plain, athletic, curvy, slender = map(shape, ["", "athletic build", "Curvy figure", "slender"])
    assert athletic.shoulder > plain.shoulder > slender.shoulder
    assert curvy.waist > plain.waist > slender.waist
    assert curvy.hip > plain.hip

    def torso_width(prompt):
        masks = draw_body(416, 624, shape(prompt), Layout(), "crew")
        return int((masks.top[300] > 0.5).sum())  # a row at chest height

    assert torso_width("athletic") > torso_width("") > torso_width("slender")


def test_renders_a_1k_2_3_png_well_under_a_second(astronaut):
    fresh = jpeg_bytes(astronaut, quality=83)  # bytes never seen: detection included
    started = time.perf_counter()
    render_avatars(fresh, RenderOptions(aspect_ratio="2:3", output_format="png"))
    assert time.perf_counter() - started < 1.0


def test_exif_orientation_is_applied(astronaut):
    # Stored sideways with an EXIF tag saying "rotate back": only an upright face is found.
    sideways = astronaut.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: the viewer must turn it 90 degrees clockwise
    buffer = io.BytesIO()
    sideways.save(buffer, "JPEG", exif=exif)
    rgb = decode_image(buffer.getvalue())
    assert rgb.shape[:2] == (512, 512)
    face = find_face(rgb)
    assert 150 < face.x < 210 and 40 < face.y < 100  # where the upright astronaut's face is


def test_big_jpegs_are_decoded_at_reduced_size(astronaut):
    big = jpeg_bytes(astronaut.resize((4096, 4096), Image.Resampling.BILINEAR))
    rgb = decode_image(big)
    assert max(rgb.shape[:2]) <= 2048
    assert find_face(rgb).w >= 64


def test_transparent_png_is_flattened_onto_white(astronaut):
    rgba = astronaut.convert("RGBA")
    alpha = Image.new("L", rgba.size, 255)
    alpha.paste(0, (0, 0, 100, 512))  # the left strip is see-through
    rgba.putalpha(alpha)
    buffer = io.BytesIO()
    rgba.save(buffer, "PNG")
    rgb = decode_image(buffer.getvalue())
    assert rgb.shape == (512, 512, 3)
    assert (rgb[:, :100] == 255).all()
    assert find_face(rgb).w >= 64


@pytest.mark.parametrize("size", [(40, 40), (400, 300)])
def test_no_face_raises_input_validation_error(size):
    buffer = io.BytesIO()
    Image.new("RGB", size, (90, 140, 200)).save(buffer, "PNG")
    with pytest.raises(RuntimeFailure) as failure:
        render_avatars(buffer.getvalue(), RenderOptions())
    assert failure.value.name == "InputValidationError"
    assert "No face was found" in failure.value.message
