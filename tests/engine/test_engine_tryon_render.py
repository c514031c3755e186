"""What a try-on looks like: the garment's colour on the torso, the face untouched, categories.

Renders straight through ``tryon.renderer.render_tryon`` (no HTTP) on an avatar made by this
engine, with garments drawn by tests/support/garments.py, and measures the output where the
person's figure says the torso, the hips and the face are.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from offline_engine.avatar.analysis import decode_image, find_face
from offline_engine.avatar.body import Figure
from offline_engine.avatar.renderer import render_avatar
from offline_engine.errors import RuntimeFailure
from offline_engine.protocol.inputs import TryOnInputs
from offline_engine.protocol.model_runner import run_tryon
from offline_engine.tryon.garment import cut_out
from offline_engine.tryon.person import find_person
from offline_engine.tryon.renderer import render_tryon
from tests.support import garments

from .conftest import data_uri

RED = (200, 40, 50)
BLUE = (40, 70, 190)


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def model_png(face_jpeg) -> bytes:
    # Seed 7 dresses the avatar in a long-sleeved sage top: neither red nor blue.
    return png(Image.fromarray(render_avatar(face_jpeg, "2:3", 7).rgb))


@pytest.fixture(scope="module")
def model_rgb(model_png) -> np.ndarray:
    return decode_image(model_png)


@pytest.fixture(scope="module")
def figure(model_png) -> Figure:
    return find_person(model_png).figure


def region(rgb: np.ndarray, fig: Figure, top: float, bottom: float, half: float) -> np.ndarray:
    """Pixels between two heights (face widths below the neck's notch), ``half`` either side."""
    y0, y1 = int(fig.y(top)), int(fig.y(bottom))
    x0, x1 = int(fig.cx - half * fig.unit), int(fig.cx + half * fig.unit)
    return rgb[y0:y1, x0:x1].reshape(-1, 3).astype(np.float32)


def looks_like(pixels: np.ndarray, colour: tuple[int, int, int], share: float = 0.9) -> bool:
    """True when ``share`` of the pixels have the colour's hue (any shading of it)."""
    target = np.array(colour, np.float32)
    direction = target / np.linalg.norm(target)
    norms = np.linalg.norm(pixels, axis=1) + 1e-3
    cosine = pixels @ direction / norms
    return bool(np.mean(cosine > 0.97) >= share)


def render(model_png: bytes, garment: Image.Image, category: str = "auto", seed: int = 42):
    rgb, size = render_tryon(model_png, png(garment), category, seed)
    return rgb


def test_the_garment_colour_covers_the_torso(model_png, model_rgb, figure):
    out = render(model_png, garments.tshirt(RED), "tops")
    assert out.shape == model_rgb.shape
    chest = region(out, figure, Figure.BUST, Figure.WAIST, 0.6)
    assert looks_like(chest, RED)
    assert not looks_like(region(model_rgb, figure, Figure.BUST, Figure.WAIST, 0.6), RED, 0.1)


def test_the_face_is_left_exactly_as_it_was(model_png, model_rgb):
    """Every pixel of the head inside the face's box is the model's own. The detector's box
    reaches below the jaw corners onto the backdrop, where a garment's soft shadow may fall."""
    face = find_face(model_rgb)
    head = find_person(model_png).head
    assert head.shape == model_rgb.shape[:2]
    box = (slice(face.y, face.y + face.h), slice(face.x, face.x + face.w))
    on_head = head[box] > 0.99
    assert on_head.mean() > 0.6
    for garment in (garments.tshirt(RED), garments.hoodie(), garments.jacket()):
        out = render(model_png, garment, "tops")
        assert np.array_equal(out[box][on_head], model_rgb[box][on_head])


def test_the_background_far_from_the_person_is_unchanged(model_png, model_rgb):
    out = render(model_png, garments.tshirt(RED), "tops")
    assert np.array_equal(out[:, :40], model_rgb[:, :40])
    assert np.array_equal(out[:60], model_rgb[:60])


def test_long_sleeves_go_down_the_arms_short_ones_do_not(model_png, figure):
    joint, elbow, wrist = figure.arm_axis(-1)
    forearm = (elbow + wrist) / 2
    r = int(0.1 * figure.unit)

    def at(rgb, point):
        x, y = int(point[0]), int(point[1])
        return rgb[y - r : y + r, x - r : x + r].reshape(-1, 3).astype(np.float32)

    long_sleeved = render(model_png, garments.blouse(BLUE))
    short_sleeved = render(model_png, garments.tshirt(BLUE))
    assert looks_like(at(long_sleeved, forearm), BLUE)
    assert not looks_like(at(short_sleeved, forearm), BLUE, 0.1)
    upper_arm = joint + (elbow - joint) * 0.3
    assert looks_like(at(short_sleeved, upper_arm), BLUE)


def test_a_pattern_survives_the_fit(model_png, figure):
    out = render(model_png, garments.tshirt(RED, stripes=(240, 232, 210)), "tops")
    chest = region(out, figure, Figure.BUST, Figure.WAIST, 0.3)
    red = np.mean(chest[:, 0] - chest[:, 2] > 80)
    cream = np.mean(np.abs(chest[:, 0] - chest[:, 2]) < 60)
    assert red > 0.3 and cream > 0.2  # both colours of the stripes are there


def test_tops_end_at_the_hips_one_pieces_go_further_down(model_png, figure):
    below_hips = (Figure.HIP + 0.4, Figure.HIP + 0.9)
    top = render(model_png, garments.tshirt(BLUE), "tops")
    dress = render(model_png, garments.dress(BLUE), "one-pieces")
    assert looks_like(region(top, figure, Figure.BUST, Figure.WAIST, 0.5), BLUE)
    assert not looks_like(region(top, figure, *below_hips, 0.3), BLUE, 0.2)
    assert looks_like(region(dress, figure, *below_hips, 0.3), BLUE)


def test_bottoms_dress_the_hips_and_leave_the_chest(model_png, model_rgb, figure):
    out = render(model_png, garments.trousers(BLUE), "bottoms")
    assert looks_like(region(out, figure, Figure.HIP - 0.2, Figure.HIP + 0.3, 0.5), BLUE)
    chest = (Figure.BUST, Figure.BUST + 0.5)
    assert np.array_equal(region(out, figure, *chest, 0.4), region(model_rgb, figure, *chest, 0.4))


@pytest.mark.parametrize(
    ("drawing", "kind"),
    [
        (garments.tshirt, "tops"),
        (garments.hoodie, "tops"),
        (garments.blouse, "tops"),
        (garments.jacket, "tops"),
        (garments.dress, "one-pieces"),
        (garments.trousers, "bottoms"),
        (garments.skirt, "bottoms"),
    ],
)
def test_auto_category_follows_the_garment_shape(drawing, kind):
    assert cut_out(png(drawing())).kind == kind


def test_a_transparent_background_is_used_as_the_cut_out():
    garment = cut_out(png(garments.tshirt(RED, transparent=True)))
    assert garment.alpha.max() == pytest.approx(1.0)
    assert garment.alpha[0, 0] == 0.0 and garment.alpha[-1, -1] == 0.0
    middle = garment.rgb[garment.height // 2, garment.width // 2]
    assert np.allclose(middle, RED, atol=2)


def test_white_details_inside_a_garment_are_kept_on_a_white_background():
    garment = cut_out(png(garments.tshirt(BLUE, logo=(255, 255, 255))))
    # The logo is drawn at (330..400, 150..220) on a 600 x 640 canvas; find it in the cut-out.
    white = (garment.rgb.min(axis=2) > 245) & (garment.alpha > 0.99)
    assert white.sum() > 1000  # the logo is garment, not background
    assert garment.alpha[garment.height // 2, 2] < 0.5  # beside the body: background


def test_same_inputs_give_the_same_image_other_seeds_vary_the_fit(model_png):
    garment = garments.tshirt(RED)
    first = render(model_png, garment, seed=3)
    assert np.array_equal(first, render(model_png, garment, seed=3))
    assert not np.array_equal(first, render(model_png, garment, seed=4))


def test_the_output_keeps_the_model_image_size(face_jpeg):
    avatar = Image.fromarray(render_avatar(face_jpeg, "3:4", 1).rgb).resize((600, 800))
    inputs = TryOnInputs(
        model_image=data_uri(png(avatar), "image/png"),
        garment_image=data_uri(png(garments.hoodie()), "image/png"),
        output_format="jpeg",
    )
    (image,) = run_tryon(inputs)
    assert Image.open(io.BytesIO(image)).size == (600, 800)
    assert image[:3] == b"\xff\xd8\xff"


def test_a_real_photo_of_a_person_can_be_dressed_too(astronaut):
    """Not an avatar: the astronaut in her spacesuit, cut at the chest by the photo's edge."""
    photo = png(astronaut)
    out = render(photo, garments.tshirt(RED), "tops")
    fig = find_person(photo).figure
    y = int(min(fig.y(Figure.BUST), out.shape[0] - 10))
    chest = out[y - 10 : y + 10, int(fig.cx) - 30 : int(fig.cx) + 30].reshape(-1, 3)
    assert looks_like(chest.astype(np.float32), RED, 0.8)


def test_a_blank_garment_photo_is_refused():
    with pytest.raises(RuntimeFailure) as refused:
        cut_out(png(Image.new("RGB", (400, 400), (255, 255, 255))))
    assert refused.value.name == "InputValidationError"


def test_a_garment_photo_that_is_not_an_image_is_an_image_load_error():
    with pytest.raises(RuntimeFailure) as refused:
        cut_out(b"GIF89a but not really")
    assert refused.value.name == "ImageLoadError"


def test_bare_arms_replace_the_old_long_sleeves_below_a_short_sleeve(face_jpeg):
    avatar = render_avatar(face_jpeg, "2:3", 28)  # seed 28: a long-sleeved light top
    assert avatar.outfit.sleeves == "long"
    model = png(Image.fromarray(avatar.rgb))
    person = find_person(model)
    joint, elbow, wrist = person.figure.arm_axis(1)
    x, y = (elbow + wrist) / 2
    r = int(0.08 * person.figure.unit)
    box = (slice(int(y) - r, int(y) + r), slice(int(x) - r, int(x) + r))
    before = np.median(avatar.rgb[box].reshape(-1, 3).astype(np.float32), axis=0)
    after = np.median(render(model, garments.tshirt(RED))[box].reshape(-1, 3), axis=0)
    old_top = avatar.outfit.top
    assert np.abs(before - old_top).max() < 40  # the forearm wore the old sleeve
    # ... and is skin now: the body's skin colour, lit about as the sleeve was.
    skin = person.skin / np.linalg.norm(person.skin)
    assert float(after @ skin / np.linalg.norm(after)) > 0.995
    assert np.abs(after - old_top).max() > 25
