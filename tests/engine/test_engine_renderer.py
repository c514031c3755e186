"""The face-to-model renderer, in-process: the real face kept, sizes, builds, seeds, errors."""

from __future__ import annotations

import io
import math

import cv2
import numpy as np
import pytest
from PIL import Image

from offline_engine.avatar.analysis import decode_image, find_face
from offline_engine.avatar.body import Build, prompt_terms
from offline_engine.avatar.renderer import (
    BASE_SIZES,
    RenderOptions,
    build_from_prompt,
    output_size,
    render_avatar,
    render_avatars,
)
from offline_engine.errors import RuntimeFailure
from offline_engine.vision import networks

from .conftest import jpeg_bytes


def _open(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(np.float32)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _row_width(mask: np.ndarray, y: float) -> int:
    return int((mask[round(y)] > 0.5).sum())


def test_a_head_on_a_body_on_a_backdrop(face_jpeg):
    image = _open(render_avatars(face_jpeg, RenderOptions(output_format="png", seed=1))[0])
    h, w, _ = image.shape
    corner = image[: h // 20, : w // 20].reshape(-1, 3).mean(axis=0)
    assert corner.min() > 190 and np.ptp(corner) < 10  # a light, neutral studio backdrop
    # Top centre: the selfie's face (skin: red above blue), where the canvas is otherwise empty.
    face = image[int(0.30 * w) : int(0.36 * w), int(0.46 * w) : int(0.54 * w)].reshape(-1, 3)
    r, g, b = face.mean(axis=0)
    assert r > b + 20 and r > 120
    # Below it, a body fills the middle of every lower row but not the edges.
    for y in (int(0.8 * w), h - 5):
        middle = image[y, int(0.45 * w) : int(0.55 * w)].mean(axis=0)
        edge = image[y, :10].mean(axis=0)
        assert np.abs(middle - edge).max() > 25


def test_the_face_is_the_selfies_own_pixels(face_jpeg):
    """Inside the face the avatar is the selfie scaled, nothing else: no grain, tint or blur."""
    avatar = render_avatar(face_jpeg, "2:3", seed=3)
    p = avatar.head.placement
    assert p.angle == 0.0  # the astronaut's head is level: kept as shot
    x0, y0, x1, y1 = p.crop
    source = decode_image(face_jpeg)
    h, w = source.shape[:2]
    # Past the photo's edges the renderer repeats its edge (the crown rule decides what shows).
    pads = (max(0, -y0), max(0, y1 - h), max(0, -x0), max(0, x1 - w))
    crop = source[max(0, y0) : min(h, y1), max(0, x0) : min(w, x1)]
    crop = cv2.copyMakeBorder(crop, *pads, cv2.BORDER_REPLICATE)
    interpolation = cv2.INTER_AREA if p.scale < 1 else cv2.INTER_CUBIC
    expected = cv2.resize(crop, p.size, interpolation=interpolation)
    ox, oy = p.origin
    # The face itself: the box between the eyes' outer corners, brows to mouth.
    face = find_face(source)
    fx, fy, fw, fh = face.x, face.y, face.w, face.h
    sx = lambda x: round((x - x0) * p.scale)  # noqa: E731
    sy = lambda y: round((y - y0) * p.scale)  # noqa: E731
    box = (
        slice(sy(fy + 0.15 * fh), sy(fy + 0.85 * fh)),
        slice(sx(fx + 0.2 * fw), sx(fx + 0.8 * fw)),
    )
    assert avatar.head.alpha[box].min() > 0.999
    rows, cols = box  # patch pixels; the patch's origin may lie above the canvas
    got = avatar.rgb[oy + rows.start : oy + rows.stop, ox + cols.start : ox + cols.stop]
    got = got.astype(int)
    want = np.clip(expected[box].astype(np.float32) + 0.5, 0, 255).astype(int)
    assert np.abs(got - want).max() <= 1
    assert got.size > 60 * 60 * 3


def test_a_tilted_head_is_set_upright(astronaut):
    tilted = astronaut.rotate(15, resample=Image.Resampling.BICUBIC, fillcolor=(200, 200, 200))
    avatar = render_avatar(jpeg_bytes(tilted), "2:3", seed=1)
    assert math.degrees(avatar.head.placement.angle) == pytest.approx(-15, abs=3)


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
        assert w / h == pytest.approx(eval(ratio.replace(":", "/")), rel=0.01)
        assert output_size(ratio, "2k") == (2 * w, 2 * h)
        assert output_size(ratio, "4k") == (4 * w, 4 * h)


@pytest.mark.parametrize("ratio", list(BASE_SIZES))
def test_output_size_matches_the_aspect_ratio(face_jpeg, ratio):
    (jpeg,) = render_avatars(face_jpeg, RenderOptions(aspect_ratio=ratio))
    assert Image.open(io.BytesIO(jpeg)).size == BASE_SIZES[ratio]
    # The head keeps its size and place (in canvas widths): a longer ratio shows more body below.
    width = BASE_SIZES[ratio][0]
    p = render_avatar(face_jpeg, ratio, seed=42).head.placement
    square = render_avatar(face_jpeg, "1:1", 42).head.placement
    assert p.scale / width == pytest.approx(square.scale / 1024, rel=0.01)
    assert p.origin[1] / width == pytest.approx(square.origin[1] / 1024, abs=0.005)


def test_2k_scales_the_1k_avatar_up(face_jpeg):
    (big,) = render_avatars(face_jpeg, RenderOptions(aspect_ratio="4:5", resolution="2k"))
    assert Image.open(io.BytesIO(big)).size == (1824, 2280)


def test_prompt_words_are_read_with_strength_and_negation():
    assert prompt_terms("An athletic build, very broad shoulders") == [
        ("athletic", 1.0),
        ("broad shoulders", 1.5),
    ]
    assert prompt_terms("slightly curvy, not skinny") == [("curvy", 0.5)]
    assert prompt_terms("Plus-size woman") == [("plus size", 1.0), ("woman", 1.0)]
    assert prompt_terms("wearing a blue hat in Paris") == []


def test_unknown_words_fall_back_to_the_face_hint():
    assert build_from_prompt("a person in a red coat") == Build()
    assert build_from_prompt("zxqv", face_hint=0.8).waist > Build().waist
    assert build_from_prompt("zxqv", face_hint=-0.8).waist < Build().waist
    # Words win over the face.
    assert build_from_prompt("slender", face_hint=1.0).waist < Build().waist


def test_builds_stay_possible():
    extreme = build_from_prompt("very very muscular bodybuilder broad shoulders plus size fat")
    assert extreme.shoulder <= 2.0 and extreme.waist <= 1.75


def test_prompts_change_the_silhouette_measurably(face_jpeg):
    def measure(prompt: str) -> dict[str, int]:
        avatar = render_avatar(face_jpeg, "2:3", seed=7, prompt=prompt)
        f, m = avatar.figure, avatar.masks  # both at the work size (half the canvas)
        body = np.maximum(np.maximum(m.top, m.arms), m.skin)
        return {
            "shoulders": _row_width(body, f.y(f.SHOULDER_JOINT)),
            "waist": _row_width(m.top, f.y(f.WAIST)),
            "hips": _row_width(m.trousers, f.y(f.HIP)),
        }

    plain = measure("")
    athletic = measure("athletic build")
    curvy = measure("curvy figure")
    slender = measure("slender frame")
    assert athletic["shoulders"] > plain["shoulders"] * 1.08
    assert slender["shoulders"] < plain["shoulders"] * 0.93
    assert slender["waist"] < plain["waist"] * 0.9
    assert curvy["hips"] > plain["hips"] * 1.15
    assert curvy["hips"] / curvy["waist"] > plain["hips"] / plain["waist"] * 1.1
    assert measure("pregnant")["waist"] > plain["waist"] * 1.2
    assert measure("petite")["shoulders"] < plain["shoulders"]


# How long this takes (well under a second on one core) is measured by bench/engine.py.
def test_renders_a_1k_2_3_png_from_a_selfie_never_seen(astronaut):
    fresh = jpeg_bytes(astronaut, quality=83)  # bytes never seen: analysis included
    [data] = render_avatars(fresh, RenderOptions(aspect_ratio="2:3", output_format="png"))
    with Image.open(io.BytesIO(data)) as image:
        assert (image.format, image.size) == ("PNG", output_size("2:3", "1k"))


def test_a_second_real_face(grace_hopper):
    avatar = render_avatar(grace_hopper, "3:4", seed=2, prompt="slender")
    assert avatar.rgb.shape == (1184, 888, 3)
    assert avatar.head.alpha.max() == pytest.approx(1.0)


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


def test_a_small_face_in_a_big_photo_is_found(astronaut):
    # The astronaut's face is a tenth of this frame's width: the whole-frame pass misses it.
    wide = Image.new("RGB", (1600, 1000), (120, 130, 140))
    wide.paste(astronaut, (900, 300))
    face = find_face(np.asarray(wide))
    assert 1060 < face.x < 1100 and 370 < face.y < 400


def test_transparent_png_is_flattened_onto_white(astronaut):
    rgba = astronaut.convert("RGBA")
    alpha = Image.new("L", rgba.size, 255)
    alpha.paste(0, (0, 0, 100, 512))  # the left strip is see-through
    rgba.putalpha(alpha)
    rgb = decode_image(_png(rgba))
    assert rgb.shape == (512, 512, 3)
    assert (rgb[:, :100] == 255).all()
    assert find_face(rgb).w >= 64


@pytest.mark.parametrize("size", [(40, 40), (400, 300)])
def test_no_face_raises_input_validation_error(size):
    with pytest.raises(RuntimeFailure) as failure:
        render_avatars(_png(Image.new("RGB", size, (90, 140, 200))), RenderOptions())
    assert failure.value.name == "InputValidationError"
    assert "No face was found" in failure.value.message


def test_a_tiny_face_is_refused_with_its_size(astronaut):
    small = astronaut.resize((200, 200), Image.Resampling.LANCZOS)  # the face is ~37 px wide
    with pytest.raises(RuntimeFailure) as failure:
        render_avatars(jpeg_bytes(small), RenderOptions())
    assert failure.value.name == "InputValidationError"
    assert "too small" in failure.value.message and "64 px" in failure.value.message


def test_an_unreadable_image_is_an_image_load_error():
    with pytest.raises(RuntimeFailure) as failure:
        render_avatars(b"GIF89a this is not really an image", RenderOptions())
    assert failure.value.name == "ImageLoadError"
    assert "could not be read" in failure.value.message


def test_model_files_are_checked_against_their_digests(tmp_path, monkeypatch):
    for name in (networks.FACE_DETECTOR, "SHA256SUMS"):
        (tmp_path / name).write_bytes((networks.WEIGHTS_DIR / name).read_bytes())
    tampered = bytearray((tmp_path / networks.FACE_DETECTOR).read_bytes())
    tampered[1000] ^= 0xFF
    (tmp_path / networks.FACE_DETECTOR).write_bytes(bytes(tampered))
    monkeypatch.setattr(networks, "WEIGHTS_DIR", tmp_path)
    networks.model_bytes.cache_clear()
    networks.expected_digests.cache_clear()
    try:
        with pytest.raises(networks.ModelFileError, match="sha256"):
            networks.model_bytes(networks.FACE_DETECTOR)
    finally:
        networks.model_bytes.cache_clear()
        networks.expected_digests.cache_clear()
