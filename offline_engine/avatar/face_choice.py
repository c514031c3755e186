"""Which face an avatar is made of, or why none can be: one real human face, the main one.

FASHN's face-to-model turns one person's face into an avatar; what it could not turn into a
person ends the prediction ``failed`` with ``InputValidationError`` and a message that says what
to do. The detector alone is not enough to decide: BlazeFace calls a cat's eye, a coffee cup's
rim or a galaxy "face-like" at scores a real face in poor light also gets. So every candidate
the detector finds is checked with the face mesh, a second, independent model:

- the mesh's own face flag on the detection's crop, again on the crop re-centred on the mesh's
  points (a real face stays a face; a pattern that fooled it once seldom survives the move), and
  on that crop's mirror image (a face is still a face in a mirror; a cat's eye is not);
- the mesh's proportions: eyes, chin and cheekbones where a human face has them.

Of the human faces, the main one is the most prominent: the widest, less so the farther it is
from the middle of the photo. When a second face is nearly as prominent there is no main face
and the photo is refused rather than guessed at. The main face must be wide enough (in the
uploaded photo's pixels) and inside the frame: a face cut in half by the photo's edge has no
chin or no eye to place. It must also face the camera, at most in a three-quarter view: a
profile gives half a face to place, and whatever is in front of it is taken for the head.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import RuntimeFailure
from ..vision.face_detection import Detection, detect_faces
from ..vision.face_landmarks import (
    MIN_PRESENCE,
    FaceGeometry,
    FaceMeasure,
    measure_face,
    mirrored_presence,
)

MIN_FACE_PX = 64  # face box width in the original photo's pixels
MAX_CANDIDATES = 4  # the largest detections checked with the mesh (two mesh runs each)
MIN_INSIDE = 0.9  # share of the face outline's area that must lie inside the photo
EDGE_SLACK = 0.03  # face widths the outline below the eyes may pass the photo's edge by
EQUALLY_MAIN = 0.85  # a second face at least this prominent leaves no main face
CENTRE_WEIGHT = 0.5  # prominence lost by a face at a corner of the photo (0 in the middle)
# A human face's proportions as the mesh measures them (eye distance and eyes-to-chin over
# cheekbone width; turned faces included), with a wide margin: only what no face can be.
EYE_SPAN = (0.25, 0.75)
EYES_TO_CHIN = (0.45, 1.6)
# How far the main face may be turned aside (FaceGeometry.turn_extent): a three-quarter view
# (about 0.85 at 45 degrees) still shows both eyes and the face's shape; towards a profile
# (1.5 and more) half the face is missing and what is in front of it (a camera, a hand) is
# taken for the head. Measured: frontal photos 0.0-0.07, the made three-quarter view 0.29,
# the cameraman behind his camera 2.0.
MAX_TURN = 1.3

ERROR_NAME = "InputValidationError"
WHAT_TO_UPLOAD = (
    "Upload a photo where one person's face is clearly visible, facing the camera, "
    f"at least {MIN_FACE_PX} px wide."
)
NO_FACE_MESSAGE = f"No face was found in the image. {WHAT_TO_UPLOAD}"
NOT_HUMAN_MESSAGE = (
    "The image shows no human face: what looks like a face is not a person's (an animal, "
    f"a pattern or an object). {WHAT_TO_UPLOAD}"
)
CUT_OFF_MESSAGE = (
    "The face is cut off by the edge of the photo. Upload a photo where the whole face, "
    "from the forehead to the chin and from ear to ear, is inside the frame."
)
TOO_SMALL_MESSAGE = (
    "The face in the image is too small ({width} px wide; at least {minimum} px is needed). "
    "Use a closer photo or a higher-resolution image."
)
TURNED_AWAY_MESSAGE = (
    "The face is turned too far to the side. Upload a photo with the face towards the "
    "camera: facing the camera or a three-quarter view is fine, a profile is not."
)
TWO_MAIN_MESSAGE = (
    "The photo shows {count} people whose faces are equally prominent, so it is not clear "
    "whose avatar to make. Upload a photo of just that person, or one where their face is the "
    "largest and most central."
)


@dataclass(frozen=True)
class HumanFace:
    detection: Detection
    measure: FaceMeasure  # with a mesh: geometry is not None
    prominence: float

    @property
    def geometry(self) -> FaceGeometry:
        assert self.measure.geometry is not None
        return self.measure.geometry


@dataclass(frozen=True)
class ChosenFace:
    """The main face, and the outlines of the other people's faces (image pixels)."""

    detection: Detection
    geometry: FaceGeometry
    others: tuple[np.ndarray, ...]


def refuse(message: str) -> RuntimeFailure:
    return RuntimeFailure(ERROR_NAME, message)


def plausible_proportions(g: FaceGeometry) -> bool:
    width = max(g.width, 1e-6)
    eye_span = float(np.linalg.norm(g.left_eye - g.right_eye)) / width
    # Down the face: the chin must be below the eyes, the forehead above them.
    across = (g.left_eye - g.right_eye) / max(float(np.linalg.norm(g.left_eye - g.right_eye)), 1e-6)
    down = np.array([-across[1], across[0]])
    to_chin = float(np.dot(g.chin - g.eye_mid, down)) / width
    to_forehead = float(np.dot(g.forehead - g.eye_mid, down))
    return (
        EYE_SPAN[0] <= eye_span <= EYE_SPAN[1]
        and EYES_TO_CHIN[0] <= to_chin <= EYES_TO_CHIN[1]
        and to_forehead < 0
    )


def human_face(rgb: np.ndarray, d: Detection) -> FaceMeasure | None:
    """The mesh's measure of a detection if it is a human face, else None."""
    measured = measure_face(rgb, d)
    g = measured.geometry
    if g is None or measured.refined_presence < MIN_PRESENCE:
        return None
    if not plausible_proportions(g):
        return None
    if mirrored_presence(measured) < MIN_PRESENCE:
        return None
    return measured


def prominence(g: FaceGeometry, shape: tuple[int, ...]) -> float:
    """The face's width, less the farther its middle is from the photo's (0 at a corner)."""
    h, w = shape[:2]
    offset = (g.centre - np.array([w / 2, h / 2])) / (np.hypot(w, h) / 2)
    return g.width * (1.0 - CENTRE_WEIGHT * min(1.0, float(np.hypot(*offset))))


def share_inside(oval: np.ndarray, shape: tuple[int, ...]) -> float:
    """The share of the face outline's area that lies inside the photo."""
    h, w = shape[:2]
    hull = cv2.convexHull(oval.astype(np.float32))
    area = float(cv2.contourArea(hull))
    if area <= 0:
        return 0.0
    frame = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    inside, _ = cv2.intersectConvexConvex(hull, frame)
    return float(inside) / area


def cut_off(g: FaceGeometry, shape: tuple[int, ...]) -> bool:
    """Whether the photo's edge cuts the face: its cheeks, jaw or chin, or much of the rest.

    A tight selfie often cuts through the hair and the top of the forehead, which the head's
    rounded crown replaces; below the eyes nothing can be made up.
    """
    h, w = shape[:2]
    if share_inside(g.oval, shape) < MIN_INSIDE:
        return True
    across = (g.left_eye - g.right_eye) / max(float(np.linalg.norm(g.left_eye - g.right_eye)), 1e-6)
    down = np.array([-across[1], across[0]])
    lower = g.oval[(g.oval - g.eye_mid) @ down > 0]
    slack = EDGE_SLACK * g.width
    return bool(
        (lower[:, 0] < -slack).any()
        or (lower[:, 0] > w + slack).any()
        or (lower[:, 1] < -slack).any()
        or (lower[:, 1] > h + slack).any()
    )


def box_share_inside(d: Detection, shape: tuple[int, ...]) -> float:
    h, w = shape[:2]
    ix = max(0.0, min(d.x + d.w, w) - max(d.x, 0.0))
    iy = max(0.0, min(d.y + d.h, h) - max(d.y, 0.0))
    return ix * iy / max(d.area, 1e-6)


def choose_face(rgb: np.ndarray, scale: float = 1.0) -> ChosenFace:
    """The main human face, or InputValidationError saying why there is none to use."""
    detections = detect_faces(rgb)
    if not detections:
        raise refuse(NO_FACE_MESSAGE)
    humans = []
    for d in detections[:MAX_CANDIDATES]:
        measured = human_face(rgb, d)
        if measured is not None:
            humans.append(HumanFace(d, measured, prominence(measured.geometry, rgb.shape)))
    if not humans:
        # A face the photo's edge cuts through is often not fitted by the mesh at all: say so
        # rather than call it not human.
        if box_share_inside(detections[0], rgb.shape) < MIN_INSIDE:
            raise refuse(CUT_OFF_MESSAGE)
        raise refuse(NOT_HUMAN_MESSAGE)
    humans.sort(key=lambda f: f.prominence, reverse=True)
    main = humans[0]
    rivals = [f for f in humans[1:] if f.prominence >= EQUALLY_MAIN * main.prominence]
    if rivals:
        raise refuse(TWO_MAIN_MESSAGE.format(count=len(rivals) + 1))
    if cut_off(main.geometry, rgb.shape):
        raise refuse(CUT_OFF_MESSAGE)
    if abs(main.geometry.turn_extent) > MAX_TURN:
        raise refuse(TURNED_AWAY_MESSAGE)
    width = round(main.detection.w / scale)
    if width < MIN_FACE_PX:
        raise refuse(TOO_SMALL_MESSAGE.format(width=width, minimum=MIN_FACE_PX))
    others = tuple(f.geometry.oval for f in humans[1:])
    return ChosenFace(main.detection, main.geometry, others)
