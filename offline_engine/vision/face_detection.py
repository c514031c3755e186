"""Face detection: MediaPipe's BlazeFace short-range model, run by OpenCV.

The model looks at a 128x128 letterboxed copy of the image and scores 896 fixed anchor boxes;
this module re-creates MediaPipe's anchors, box decoding and weighted non-maximum suppression
(``face_detection_short_range.pbtxt``), so its boxes match MediaPipe's FaceDetector to a pixel
or two. The short-range model is made for faces that fill a good part of the frame (selfies);
when the whole frame shows none, overlapping crops are tried as well, which finds a face down to
about a tenth of the image width (a half-body photo).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

from ..imaging import downscale
from .networks import FACE_DETECTOR, run

INPUT_SIZE = 128
MIN_SCORE = 0.5
SURE_SCORE = 0.75  # a face this certain ends the search; weaker ones are only candidates
NMS_IOU = 0.3
# Keypoint order in the model's output.
RIGHT_EYE, LEFT_EYE, NOSE_TIP, MOUTH, RIGHT_EAR, LEFT_EAR = range(6)


@dataclass(frozen=True)
class Detection:
    """A face box in image pixels, its score, and six keypoints (x, y) in image pixels.

    "Right eye" is the person's right eye: on the image's left in a selfie.
    """

    x: float
    y: float
    w: float
    h: float
    score: float
    keypoints: tuple[tuple[float, float], ...]

    @property
    def area(self) -> float:
        return self.w * self.h


@cache
def anchors() -> np.ndarray:
    """The 896 anchor centres (x, y) in 0..1, as MediaPipe's SsdAnchorsCalculator makes them.

    Strides 8, 16, 16, 16 with two anchors per layer and cell; layers of equal stride share a
    grid, so stride 8 gives 16x16x2 anchors and stride 16 gives 8x8x6.
    """
    centres = []
    for stride, per_cell in ((8, 2), (16, 6)):
        cells = INPUT_SIZE // stride
        ys, xs = np.mgrid[0:cells, 0:cells]
        grid = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], axis=-1).reshape(-1, 1, 2)
        centres.append(np.repeat(grid, per_cell, axis=1).reshape(-1, 2))
    return np.concatenate(centres).astype(np.float32)


def _letterbox(rgb: np.ndarray) -> tuple[np.ndarray, float, float, float]:
    """The image scaled into a black 128x128 square: (tensor, scale, x offset, y offset)."""
    h, w = rgb.shape[:2]
    k = INPUT_SIZE / max(h, w)
    nw, nh = max(1, round(w * k)), max(1, round(h * k))
    small = downscale(rgb, (nw, nh))
    square = np.zeros((INPUT_SIZE, INPUT_SIZE, 3), np.uint8)
    ox, oy = (INPUT_SIZE - nw) // 2, (INPUT_SIZE - nh) // 2
    square[oy : oy + nh, ox : ox + nw] = small
    return square, k, ox, oy


def _raw_detections(rgb: np.ndarray) -> list[Detection]:
    """Every anchor scoring at least MIN_SCORE, in the pixels of ``rgb``, before suppression."""
    square, k, ox, oy = _letterbox(rgb)
    # The model expects RGB in -1..1, NCHW for OpenCV.
    blob = cv2.dnn.blobFromImage(square.astype(np.float32) / 127.5 - 1.0)
    outputs = run(FACE_DETECTOR, blob)
    regressors = outputs["regressors"].reshape(-1, 16)
    logits = np.clip(outputs["classificators"].reshape(-1).astype(np.float64), -60.0, 60.0)
    scores = 1.0 / (1.0 + np.exp(-logits))
    found = []
    grid = anchors()
    for i in np.flatnonzero(scores >= MIN_SCORE):
        r = regressors[i] / INPUT_SIZE
        ax, ay = grid[i]
        cx, cy, bw, bh = r[0] + ax, r[1] + ay, r[2], r[3]

        def to_image(px: float, py: float) -> tuple[float, float]:
            return ((px * INPUT_SIZE - ox) / k, (py * INPUT_SIZE - oy) / k)

        x0, y0 = to_image(cx - bw / 2, cy - bh / 2)
        points = tuple(to_image(r[4 + 2 * j] + ax, r[5 + 2 * j] + ay) for j in range(6))
        found.append(
            Detection(x0, y0, bw * INPUT_SIZE / k, bh * INPUT_SIZE / k, float(scores[i]), points)
        )
    return found


def _iou(a: Detection, b: Detection) -> float:
    ix = max(0.0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0.0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    inter = ix * iy
    union = a.area + b.area - inter
    return inter / union if union > 0 else 0.0


def weighted_nms(found: list[Detection]) -> list[Detection]:
    """MediaPipe's weighted suppression: overlapping boxes merge into their score-weighted mean."""
    remaining = sorted(found, key=lambda d: d.score, reverse=True)
    merged = []
    while remaining:
        best = remaining[0]
        group = [d for d in remaining if _iou(best, d) > NMS_IOU]
        remaining = [d for d in remaining if _iou(best, d) <= NMS_IOU]
        weights = np.array([d.score for d in group])
        weights = weights / weights.sum()
        box = np.array([[d.x, d.y, d.w, d.h] for d in group]).T @ weights
        points = np.einsum("n,nkc->kc", weights, np.array([d.keypoints for d in group]))
        merged.append(Detection(*map(float, box), best.score, tuple(map(tuple, points.tolist()))))
    return merged


def _crops(h: int, w: int) -> list[tuple[int, int, int]]:
    """Overlapping square crops (x, y, side) that cover the image at about 2x zoom."""
    side = max(INPUT_SIZE, round(min(h, w) * 0.55))
    step = max(1, side // 2)
    xs = sorted({*range(0, max(1, w - side + 1), step), max(0, w - side)})
    ys = sorted({*range(0, max(1, h - side + 1), step), max(0, h - side)})
    return [(x, y, side) for y in ys for x in xs]


def detect_faces(rgb: np.ndarray) -> list[Detection]:
    """The faces in an RGB image, in its pixels, largest first.

    Faces much less certain than the best one are dropped: a patterned shirt can score just
    over MIN_SCORE, and "the largest face" must not be a shirt.
    """
    found = _raw_detections(rgb)
    sure = any(d.score >= SURE_SCORE for d in found)
    if not sure and min(rgb.shape[:2]) > 2 * INPUT_SIZE:
        # No clear face in the whole frame: it may be too small for it; look closer.
        for x, y, side in _crops(*rgb.shape[:2]):
            for d in _raw_detections(rgb[y : y + side, x : x + side]):
                moved = tuple((px + x, py + y) for px, py in d.keypoints)
                found.append(Detection(d.x + x, d.y + y, d.w, d.h, d.score, moved))
    faces = weighted_nms(found)
    if not faces:
        return []
    best = max(d.score for d in faces)
    faces = [d for d in faces if d.score >= max(MIN_SCORE, best - 0.25)]
    return sorted(faces, key=lambda d: d.area, reverse=True)
