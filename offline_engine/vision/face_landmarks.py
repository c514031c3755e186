"""Face geometry: MediaPipe's 468-point face mesh, run by OpenCV on a crop around a detection.

As in MediaPipe's face landmark graph, the crop is a square 1.5 times the face box, turned so the
eyes are level, resized to 192x192 (RGB in 0..1); the model answers 468 points in crop pixels and a
face-presence score. One refinement pass re-centres the crop on the first answer's points, as
MediaPipe's tracking does, which steadies the chin and jaw.

The presence score is the mesh's own verdict on whether its crop shows a face, independent of
the detector's: ``measure_face`` keeps it for the first and the re-centred crop, and
``mirrored_presence`` asks again on the mirror image; the avatar uses them to refuse what is not
a human face (``avatar/face_choice.py``).

From the mesh the renderer needs only a few named places (eyes, chin, cheekbones, jaw corners,
the top of the forehead) and the face outline. When the mesh model does not recognise a face,
``FaceGeometry.from_detection`` estimates the same places from the detector's six keypoints
(the try-on's model images; the avatar refuses such a face instead).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ..imaging import warp_region
from .face_detection import LEFT_EAR, LEFT_EYE, MOUTH, NOSE_TIP, RIGHT_EAR, RIGHT_EYE, Detection
from .networks import FACE_LANDMARKS, run

INPUT_SIZE = 192
ROI_SCALE = 1.5
MIN_PRESENCE = 0.5

# Mesh indices (MediaPipe's canonical face model). "Right" is the person's right.
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip
RIGHT_EYE_CORNERS = (33, 133)
LEFT_EYE_CORNERS = (362, 263)
CHIN, FOREHEAD, NOSE = 152, 10, 4
RIGHT_CHEEKBONE, LEFT_CHEEKBONE = 234, 454
RIGHT_JAW, LEFT_JAW = 172, 397
RIGHT_CHEEK, LEFT_CHEEK = 205, 425  # the middle of each cheek: well-lit skin, no hair


@dataclass(frozen=True)
class FaceGeometry:
    """Named places of one face, (x, y) in image pixels."""

    right_eye: np.ndarray
    left_eye: np.ndarray
    chin: np.ndarray
    forehead: np.ndarray
    right_cheekbone: np.ndarray
    left_cheekbone: np.ndarray
    right_jaw: np.ndarray
    left_jaw: np.ndarray
    right_cheek: np.ndarray
    left_cheek: np.ndarray
    nose: np.ndarray
    oval: np.ndarray  # the face outline, 36 points clockwise from the top of the forehead
    from_mesh: bool

    @property
    def eye_mid(self) -> np.ndarray:
        return (self.right_eye + self.left_eye) / 2

    @property
    def roll(self) -> float:
        """Head tilt in radians, positive when the person's left eye is lower in the image."""
        d = self.left_eye - self.right_eye
        return math.atan2(d[1], d[0])

    @property
    def width(self) -> float:
        """Cheekbone to cheekbone: the face width the layout is measured in."""
        return float(np.linalg.norm(self.left_cheekbone - self.right_cheekbone))

    @property
    def jaw_width(self) -> float:
        return float(np.linalg.norm(self.left_jaw - self.right_jaw))

    @property
    def height(self) -> float:
        """Top of the forehead to the chin."""
        return float(np.linalg.norm(self.chin - self.forehead))

    @property
    def turn_extent(self) -> float:
        """How far the face is turned, unbounded: the nose's offset from the middle of the
        cheekbones over half their distance (0 frontal, about 0.85 at a 45 degree
        three-quarter view, past 1.5 towards a profile; negative to the image's left)."""
        across = self.left_cheekbone - self.right_cheekbone
        norm = float(np.linalg.norm(across)) or 1.0
        offset = float(np.dot(self.nose - self.centre, across / norm))
        return offset / (norm / 2)

    @property
    def turn(self) -> float:
        """How far the face is turned: -1 (to the image's left) .. 1, from the nose's offset."""
        return max(-1.0, min(1.0, self.turn_extent))

    @property
    def centre(self) -> np.ndarray:
        """Middle of the head across: between the cheekbones (not the eyes, which a turned
        face moves towards its near side)."""
        return (self.right_cheekbone + self.left_cheekbone) / 2

    @classmethod
    def from_mesh(cls, mesh: np.ndarray) -> FaceGeometry:
        def at(i: int) -> np.ndarray:
            return mesh[i].astype(np.float64)

        return cls(
            right_eye=mesh[list(RIGHT_EYE_CORNERS)].mean(axis=0).astype(np.float64),
            left_eye=mesh[list(LEFT_EYE_CORNERS)].mean(axis=0).astype(np.float64),
            chin=at(CHIN),
            forehead=at(FOREHEAD),
            right_cheekbone=at(RIGHT_CHEEKBONE),
            left_cheekbone=at(LEFT_CHEEKBONE),
            right_jaw=at(RIGHT_JAW),
            left_jaw=at(LEFT_JAW),
            right_cheek=at(RIGHT_CHEEK),
            left_cheek=at(LEFT_CHEEK),
            nose=at(NOSE),
            oval=mesh[list(FACE_OVAL)].astype(np.float64),
            from_mesh=True,
        )

    @classmethod
    def from_detection(cls, d: Detection) -> FaceGeometry:
        """Rough places from the six detector keypoints, in face proportions."""
        k = np.array(d.keypoints, dtype=np.float64)
        reye, leye, mouth = k[RIGHT_EYE], k[LEFT_EYE], k[MOUTH]
        across = leye - reye
        eye_gap = float(np.linalg.norm(across)) or d.w * 0.4
        ux = across / eye_gap
        uy = np.array([-ux[1], ux[0]])  # down the face
        mid = (reye + leye) / 2
        down = float(np.dot(mouth - mid, uy)) or eye_gap * 0.9
        centre = (k[RIGHT_EAR] + k[LEFT_EAR]) / 2
        half = max(float(np.linalg.norm(k[LEFT_EAR] - k[RIGHT_EAR])) * 0.45, eye_gap * 0.95)
        chin = mid + uy * down * 1.75
        forehead = mid - uy * down * 1.25
        angles = np.linspace(-math.pi / 2, 1.5 * math.pi, 36, endpoint=False)
        oc = (chin + forehead) / 2
        ry = float(np.linalg.norm(chin - forehead)) / 2
        oval = np.array([oc + ux * half * math.cos(a) + uy * ry * math.sin(a) for a in angles])
        return cls(
            right_eye=reye,
            left_eye=leye,
            chin=chin,
            forehead=forehead,
            right_cheekbone=centre - ux * half,
            left_cheekbone=centre + ux * half,
            right_jaw=mid + uy * down * 1.3 - ux * half * 0.78,
            left_jaw=mid + uy * down * 1.3 + ux * half * 0.78,
            right_cheek=mid + uy * down * 0.6 - ux * eye_gap * 0.55,
            left_cheek=mid + uy * down * 0.6 + ux * eye_gap * 0.55,
            nose=k[NOSE_TIP],
            oval=oval,
            from_mesh=False,
        )


def _roi_matrix(centre: np.ndarray, size: float, angle: float) -> np.ndarray:
    """2x3 affine from crop pixels (0..192) to image pixels for a turned square ROI."""
    c, s = math.cos(angle), math.sin(angle)
    k = size / INPUT_SIZE
    m = np.array([[c * k, -s * k, 0.0], [s * k, c * k, 0.0]])
    m[:, 2] = centre - m[:, :2] @ np.array([INPUT_SIZE / 2, INPUT_SIZE / 2])
    return m


def _roi_crop(rgb: np.ndarray, centre: np.ndarray, size: float, angle: float):
    m = _roi_matrix(centre, size, angle)
    return m, warp_region(rgb, m, (INPUT_SIZE, INPUT_SIZE), border=cv2.BORDER_CONSTANT)


def _mesh_on_crop(crop: np.ndarray) -> tuple[np.ndarray, float]:
    """(468 points in crop pixels, presence score) for one 192x192 crop."""
    outputs = run(FACE_LANDMARKS, cv2.dnn.blobFromImage(crop.astype(np.float32) / 255.0))
    points = presence = None
    for value in outputs.values():
        if value.size == 468 * 3:
            points = value.reshape(468, 3)[:, :2]
        elif value.size == 1:
            presence = 1.0 / (1.0 + math.exp(-float(np.clip(value.item(), -50, 50))))
    if points is None or presence is None:
        raise RuntimeError("face landmark model answered unexpected outputs")
    return points, presence


def _mesh_in_roi(rgb: np.ndarray, centre: np.ndarray, size: float, angle: float):
    """(468 points in image pixels, presence score) for one ROI."""
    m, crop = _roi_crop(rgb, centre, size, angle)
    points, presence = _mesh_on_crop(crop)
    return points @ m[:, :2].T + m[:, 2], presence


@dataclass(frozen=True)
class FaceMeasure:
    """What the mesh says about one detection: is it a face, and where its points are.

    ``presence`` is the mesh model's own face flag (0..1) on the detection's crop and
    ``refined_presence`` on the crop re-centred on the mesh's own points; neither is the
    detector's score: the detector says "something face-like is here", the mesh "this is a face
    I can fit". ``mesh`` (468 points, image pixels) and ``geometry`` are None when the first
    crop's flag is under MIN_PRESENCE. ``crop`` is the 192x192 input the kept mesh came from.
    """

    presence: float
    refined_presence: float
    mesh: np.ndarray | None
    geometry: FaceGeometry | None
    crop: np.ndarray | None


def measure_face(rgb: np.ndarray, d: Detection) -> FaceMeasure:
    """The mesh on the detection's crop, refined once when it sees a face."""
    k = np.array(d.keypoints)
    eyes = k[LEFT_EYE] - k[RIGHT_EYE]
    angle = math.atan2(eyes[1], eyes[0])
    centre = np.array([d.x + d.w / 2, d.y + d.h / 2])
    size = max(d.w, d.h) * ROI_SCALE
    m, crop = _roi_crop(rgb, centre, size, angle)
    points, presence = _mesh_on_crop(crop)
    if presence < MIN_PRESENCE:
        return FaceMeasure(presence, 0.0, None, None, None)
    mesh = points @ m[:, :2].T + m[:, 2]
    # Refine once: centre the ROI on the mesh itself, level by the outer eye corners.
    eyes = mesh[263] - mesh[33]
    angle = math.atan2(eyes[1], eyes[0])
    c, s = math.cos(angle), math.sin(angle)
    local = (mesh - mesh.mean(axis=0)) @ np.array([[c, -s], [s, c]])
    lo, hi = local.min(axis=0), local.max(axis=0)
    mid_local = (lo + hi) / 2
    centre = mesh.mean(axis=0) + np.array([[c, -s], [s, c]]) @ mid_local
    size = float((hi - lo).max()) * ROI_SCALE
    m2, crop2 = _roi_crop(rgb, centre, size, angle)
    points2, refined_presence = _mesh_on_crop(crop2)
    if refined_presence >= MIN_PRESENCE:
        mesh, crop = points2 @ m2[:, :2].T + m2[:, 2], crop2
    return FaceMeasure(presence, refined_presence, mesh, FaceGeometry.from_mesh(mesh), crop)


def mirrored_presence(measured: FaceMeasure) -> float:
    """The mesh's face flag on the mirror image of the kept crop (0 without a mesh).

    A face seen in a mirror is still a face; a cat's eye or a pattern that happens to set the
    flag on one crop seldom does on its mirror image. One more run of the mesh (a few ms).
    """
    if measured.crop is None:
        return 0.0
    return _mesh_on_crop(np.ascontiguousarray(measured.crop[:, ::-1]))[1]


def face_geometry(rgb: np.ndarray, d: Detection) -> FaceGeometry:
    """The face's geometry from the mesh model, or estimated from the detection if it fails."""
    measured = measure_face(rgb, d)
    return measured.geometry or FaceGeometry.from_detection(d)
