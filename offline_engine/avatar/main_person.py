"""The person map of the main face's owner only, in the head's segmentation frame.

The selfie segmenter marks every person in its input, and the head's frame (3.4 face widths
square) easily takes in a neighbour's ear, hair or shoulder in a group photo. Before the head is
cut out, the map is narrowed to the main person: only the segmented region connected to the main
face is kept, and the heads around the other people's faces are taken out even where the two
people touch (the main face's own head is never taken out).

When the segmenter sees no person on the face at all (a photo of a face alone, cropped tight:
the model needs shoulders to recognise a person), the map is replaced by a head shape drawn from
the face mesh's outline, so the avatar still gets its head; the head's cut-out then follows the
photo's own edges inside it.
"""

from __future__ import annotations

import cv2
import numpy as np

SEEN_ON_FACE = 0.5  # mean person probability inside the face outline for the map to be trusted
JOIN_PX = 7  # gaps up to this many map pixels (of 256) do not split one person in two
# A head around a face outline, as multiples of the outline's width and height: the skull and
# hair reach past the cheekbones and well above the forehead.
HEAD_HALF_WIDTH = 0.72
HEAD_HALF_HEIGHT = 0.78
HEAD_RAISE = 0.22  # the head's middle above the outline's, in outline heights


def main_person_only(
    person: np.ndarray, main_oval: np.ndarray, other_ovals: list[np.ndarray]
) -> np.ndarray:
    """``person`` (a square probability map) for the main face's person alone.

    Outlines are in the map's pixels.
    """
    size = person.shape[:2]
    face = _filled(size, [main_oval.astype(np.int32)])
    if not face.any() or float(person[face > 0].mean()) < SEEN_ON_FACE:
        person = head_shape(size, main_oval)
    own_head = _filled(size, [_head_ellipse(main_oval, 1.0)])
    if other_ovals:
        others = _filled(size, [_head_ellipse(oval, 1.15) for oval in other_ovals])
        others[own_head > 0] = 0
        person = person * (1.0 - _soft(others, 2.0))
    return person * _soft(_connected_to(person, face), 2.0)


def head_shape(size: tuple[int, int], oval: np.ndarray) -> np.ndarray:
    """A soft head-shaped map around a face outline (what the segmenter would have said)."""
    return _soft(_filled(size, [_head_ellipse(oval, 1.0)]), 3.0)


def _head_ellipse(oval: np.ndarray, grow: float) -> np.ndarray:
    lo, hi = oval.min(axis=0), oval.max(axis=0)
    w, h = hi - lo
    cx, cy = (lo + hi) / 2
    axes = (max(1, round(w * HEAD_HALF_WIDTH * grow)), max(1, round(h * HEAD_HALF_HEIGHT * grow)))
    centre = (round(cx), round(cy - HEAD_RAISE * h))
    return cv2.ellipse2Poly(centre, axes, 0, 0, 360, 6)


def _filled(size: tuple[int, int], polygons: list[np.ndarray]) -> np.ndarray:
    mask = np.zeros(size, np.uint8)
    cv2.fillPoly(mask, polygons, 1)
    return mask


def _connected_to(person: np.ndarray, face: np.ndarray) -> np.ndarray:
    """The person pixels connected to the face (0/1), small gaps bridged."""
    solid = (person > 0.5).astype(np.uint8)
    bridged = cv2.dilate(solid, np.ones((JOIN_PX, JOIN_PX), np.uint8))
    count, labels = cv2.connectedComponents(bridged, connectivity=8)
    if count <= 2:  # one region or none: nothing to take apart
        return np.ones_like(solid)
    touching = np.unique(labels[(face > 0) & (bridged > 0)])
    touching = touching[touching > 0]
    if touching.size == 0:
        return np.ones_like(solid)
    return np.isin(labels, touching).astype(np.uint8)


def _soft(mask: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(mask.astype(np.float32), (0, 0), sigma)
