"""Person segmentation: MediaPipe's general selfie segmenter, run by OpenCV on the head's frame.

The model takes 256x256 RGB in 0..1 and answers, per pixel, the probability that it shows a
person (hair included). It is run on the same upright square the head is later cut from (see
``avatar/head.py``), not on the whole photo: the head then fills the model's input, so the hair
edge gets four to ten times more of its resolution, and a tilted head is seen upright, the way the
model was trained.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..imaging import warp_region
from .networks import SELFIE_SEGMENTER, run

INPUT_SIZE = 256


def segment(rgb: np.ndarray, frame_to_image: np.ndarray) -> np.ndarray:
    """Person probability (256x256 float32) over a square frame of the image.

    ``frame_to_image`` is the 2x3 affine from frame pixels (0..256) to image pixels; where the
    frame leaves the image the edge pixels are repeated, which the model reads as more of the
    same (hair or background) rather than as a black border it would cut along.
    """
    crop = warp_region(rgb, frame_to_image, (INPUT_SIZE, INPUT_SIZE))
    outputs = run(SELFIE_SEGMENTER, cv2.dnn.blobFromImage(crop.astype(np.float32) / 255.0))
    (mask,) = outputs.values()
    return np.clip(mask.reshape(INPUT_SIZE, INPUT_SIZE), 0.0, 1.0).astype(np.float32)
