"""One real human face, or a refusal that says what to do; the main face of a group; tiny faces.

The photos are real ones that ship inside packages (tools/photo_samples.py), and variations of
them. Refusals are checked through the engine's HTTP protocol, as a client sees them: the
prediction ends ``failed`` with FASHN's error name, a message that says what to upload, and no
credits charged.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from PIL import Image

from offline_engine.avatar.analysis import analyse, decode, find_face
from offline_engine.avatar.face_choice import human_face
from offline_engine.avatar.main_person import main_person_only
from offline_engine.avatar.renderer import render_avatar
from offline_engine.errors import RuntimeFailure
from offline_engine.vision.face_detection import detect_faces
from offline_engine.vision.face_landmarks import MIN_PRESENCE, measure_face
from offline_engine.vision.person_segmentation import segment
from tools import photo_samples as photos

from .conftest import data_uri

WHAT_TO_DO = "Upload a photo where"


def _failed(api, image_bytes: bytes) -> dict:
    response = api.wait(api.submit(face_image=data_uri(image_bytes)))
    doc = response.json()
    assert doc["status"] == "failed", doc
    assert doc["output"] is None
    assert response.headers["x-fashn-credits-used"] == "0"
    return doc["error"]


@pytest.mark.parametrize(
    ("sample", "words"),
    [
        ("cat", "no human face"),
        ("coffee", "no human face"),
        ("rocket (no face)", "No face was found"),
        ("horse (a drawing)", "No face was found"),
        ("astronaut, face too small", "too small (42 px wide; at least 64 px"),
        ("astronaut, chin cut off", "cut off by the edge of the photo"),
        ("astronaut, cut below the eyes", "cut off by the edge of the photo"),
        ("two equal faces", "2 people whose faces are equally prominent"),
        ("cameraman (face turned aside)", "a three-quarter view is fine, a profile is not"),
    ],
)
def test_each_refusal_through_the_protocol(api, sample, words):
    error = _failed(api, photos.sample(sample).jpeg())
    assert error["name"] == "InputValidationError"
    assert words in error["message"]
    assert "Upload a photo" in error["message"] or "Use a closer photo" in error["message"]


def test_refusals_that_name_no_size_say_what_a_usable_photo_is(api):
    error = _failed(api, photos.sample("cat").jpeg())
    assert WHAT_TO_DO in error["message"]
    assert "facing the camera, at least 64 px wide" in error["message"]


def test_the_cats_eye_fools_the_detector_and_the_meshs_first_look_but_not_the_checks():
    """What the issue saw: a cat's eye taken for a face. The detector finds it and the mesh's
    face flag on its crop is high; re-centring and mirroring the crop are what refuse it."""
    rgb = decode(photos.sample("cat").jpeg()).rgb
    detections = detect_faces(rgb)
    assert detections
    fooled = [d for d in detections if measure_face(rgb, d).presence >= MIN_PRESENCE]
    assert fooled, "the mesh's first look no longer takes the cat's eye for a face"
    assert all(human_face(rgb, d) is None for d in detections)


@pytest.mark.parametrize("name", ["astronaut", "Grace Hopper", "astronaut tilted 15°",
                                  "Hopper tilted -12°", "astronaut dark", "astronaut grey",
                                  "astronaut three-quarter", "Hopper close crop"])  # fmt: skip
def test_real_faces_and_their_variations_are_accepted(name):
    rgb = decode(photos.sample(name).jpeg()).rgb
    face = find_face(rgb)
    assert face.w >= 64


def test_a_face_turned_towards_a_profile_is_refused_a_three_quarter_view_is_not():
    """The cameraman looks into his camera, nearly in profile: the mesh measures his turn far
    past a three-quarter view's, and the avatar would paste the camera and half a head. The
    made three-quarter view is turned too, well within the limit."""
    from offline_engine.avatar.face_choice import MAX_TURN, choose_face

    def turn(name: str) -> float:
        d = decode(photos.sample(name).jpeg())
        return human_face(d.rgb, detect_faces(d.rgb)[0]).geometry.turn_extent

    assert abs(turn("cameraman (face turned aside)")) > 1.3 * MAX_TURN
    assert 0.2 < abs(turn("astronaut three-quarter")) < 0.5 * MAX_TURN
    d = decode(photos.sample("cameraman (face turned aside)").jpeg())
    with pytest.raises(RuntimeFailure, match="turned too far to the side") as refused:
        choose_face(d.rgb, d.scale)
    assert refused.value.name == "InputValidationError"
    d = decode(photos.sample("astronaut three-quarter").jpeg())
    assert choose_face(d.rgb, d.scale).geometry.turn > 0.2


def test_a_small_rival_face_is_not_equally_main():
    """The same face twice, one 30 % smaller: the bigger one is the main face."""
    astronaut = photos.photo("astronaut")
    smaller = photos.scaled(astronaut, 0.7)
    pair = Image.new("RGB", (astronaut.width + smaller.width, astronaut.height), "grey")
    pair.paste(smaller, (0, astronaut.height - smaller.height))
    pair.paste(astronaut, (smaller.width, 0))
    rgb = decode(photos.jpeg(pair)).rgb
    assert len(detect_faces(rgb)) == 2
    assert find_face(rgb).x > smaller.width  # the bigger face, on the right


def test_the_group_photos_avatar_has_the_main_persons_head_and_nothing_of_the_neighbour():
    group = photos.group_photo("grace_hopper", "astronaut")
    data = photos.jpeg(group.image)
    rgb = decode(data).rgb
    assert len(detect_faces(rgb)) >= 2  # the neighbour's face is found too

    face = find_face(rgb)
    x0, y0, x1, y1 = group.main_face
    assert abs(face.x - x0) < 0.1 * (x1 - x0) and abs(face.y - y0) < 0.1 * (y1 - y0)

    avatar = render_avatar(data, "2:3", seed=3)
    head = avatar.head
    # The placed face is the main face: the photo's pixels at the head's eyes are Hopper's.
    a = analyse(data)
    eye_mid = a.geometry.eye_mid
    assert x0 < eye_mid[0] < x1 and y0 < eye_mid[1] < y1
    # Nothing of the neighbour: the head's alpha is zero wherever the patch shows the pasted
    # neighbour's rectangle.
    h, w = head.alpha.shape
    ys, xs = np.mgrid[0:h, 0:w]
    m = head.placement.patch_to_image
    ix = m[0, 0] * xs + m[0, 1] * ys + m[0, 2]
    iy = m[1, 0] * xs + m[1, 1] * ys + m[1, 2]
    nx0, ny0, nx1, ny1 = group.neighbour
    neighbour = (ix >= nx0) & (ix < nx1) & (iy >= ny0) & (iy < ny1)
    assert neighbour.sum() > 10_000  # the neighbour is inside the head's frame...
    assert head.alpha[neighbour].max() < 0.15  # ...and nothing of it is kept
    assert head.alpha.max() == 1.0


def test_main_person_only_keeps_the_region_of_the_main_face():
    person = np.zeros((256, 256), np.float32)
    cv2.circle(person, (90, 120), 40, 1.0, -1)  # the main person
    cv2.circle(person, (210, 120), 30, 1.0, -1)  # someone else, not touching
    oval = cv2.ellipse2Poly((90, 120), (20, 26), 0, 0, 360, 10).astype(np.float64)
    kept = main_person_only(person, oval, [])
    assert kept[120, 90] > 0.99
    assert kept[120, 210] < 0.01


def test_main_person_only_takes_out_a_touching_neighbours_head():
    person = np.zeros((256, 256), np.float32)
    cv2.rectangle(person, (20, 60), (240, 250), 1.0, -1)  # two people touching: one region
    main = cv2.ellipse2Poly((80, 130), (22, 28), 0, 0, 360, 10).astype(np.float64)
    other = cv2.ellipse2Poly((190, 130), (18, 24), 0, 0, 360, 10).astype(np.float64)
    kept = main_person_only(person, main, [other])
    assert kept[130, 80] > 0.99
    assert kept[130, 190] < 0.01 and kept[100, 190] < 0.01  # the other face and its hair


@pytest.mark.parametrize("name", ["astronaut", "grace_hopper"])
def test_a_112_px_grey_face_makes_an_avatar_with_its_head(name):
    """A face alone, cropped tight and small (as face data sets keep them): the segmenter sees
    no person there (it needs shoulders), the mesh still fits the face, so the head is drawn
    from the mesh's outline and the avatar has its head."""
    small = photos.small_face(name)
    assert small.size == (112, 112)
    data = photos.jpeg(small)
    a = analyse(data)
    assert a.geometry.from_mesh
    # The injected condition: the segmenter alone finds no person on this face.
    raw = segment(a.rgb, a.frame.frame_to_image(256))
    assert float(raw.mean()) < 0.3

    avatar = render_avatar(data, "2:3", seed=1)
    head = avatar.head
    # The head is there: the face's middle (between the eyes and the chin) is fully kept...
    inv = cv2.invertAffineTransform(head.placement.patch_to_image)
    g = a.geometry
    for point in (g.eye_mid, g.nose, (g.eye_mid + g.chin) / 2, g.right_cheek, g.left_cheek):
        px, py = inv[:, :2] @ point + inv[:, 2]
        assert head.alpha[round(py), round(px)] > 0.95, point
    # ...and it is the photo's face, scaled: the placed pixels follow the photo's.
    ox, oy = head.placement.origin
    x, y = (inv[:, :2] @ g.nose + inv[:, 2]).round().astype(int)
    r = max(8, round(0.25 * head.placement.scale * g.width))
    placed = avatar.rgb[oy + y - r : oy + y + r, ox + x - r : ox + x + r].astype(np.float32)
    source = cv2.warpAffine(
        a.rgb, inv, head.alpha.shape[::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )[y - r : y + r, x - r : x + r].astype(np.float32)
    corr = np.corrcoef(placed[..., 1].ravel(), source[..., 1].ravel())[0, 1]
    assert corr > 0.9
    assert math.isclose(float(placed.std(axis=2).mean()), 0.0, abs_tol=3.0)  # still grey
