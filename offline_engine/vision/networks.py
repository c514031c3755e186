"""The neural network files the engine runs, carried in the repository and checked before use.

Three TensorFlow Lite models from MediaPipe (Apache-2.0, taken unchanged from the mediapipe
0.10.21 wheel; see ``weights/NOTICE``): BlazeFace short-range face detection, the 468-point face
mesh and the general selfie segmenter. They are read once per process, checked against
``weights/SHA256SUMS`` (a corrupted or swapped file stops the engine with a clear error instead of
producing strange avatars), and run by OpenCV's DNN module.

Why not MediaPipe's own runtime: mediapipe 1.2.x's tasks API posts usage logs to a Google
endpoint from a background thread (seen with strace: ``CurlClient::Post``), and this engine must
never send anything off the machine; it also weighs 170 MB and needs opencv-contrib-python, which
clashes with the engine's opencv-python-headless. OpenCV runs the same files in the same few
milliseconds, with the pre- and post-processing of MediaPipe's graphs re-implemented in
``face_detection.py``, ``face_landmarks.py`` and ``person_segmentation.py``.

``cv2.dnn.Net`` is not safe to share between threads, so each thread gets its own copy, built from
the verified bytes (a few milliseconds, once per thread).
"""

from __future__ import annotations

import hashlib
import threading
from functools import cache
from pathlib import Path

import cv2
import numpy as np

WEIGHTS_DIR = Path(__file__).parent / "weights"
FACE_DETECTOR = "face_detection_short_range.tflite"
FACE_LANDMARKS = "face_landmark.tflite"
SELFIE_SEGMENTER = "selfie_segmentation.tflite"


class ModelFileError(RuntimeError):
    """A model file is missing or is not the file SHA256SUMS names."""


@cache
def expected_digests() -> dict[str, str]:
    digests = {}
    for line in (WEIGHTS_DIR / "SHA256SUMS").read_text().splitlines():
        if line.strip():
            digest, name = line.split()
            digests[name.lstrip("*")] = digest
    return digests


@cache
def model_bytes(name: str) -> bytes:
    """The contents of a model file, verified against SHA256SUMS."""
    expected = expected_digests().get(name)
    if expected is None:
        raise ModelFileError(f"{name} is not listed in {WEIGHTS_DIR / 'SHA256SUMS'}")
    path = WEIGHTS_DIR / name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelFileError(f"model file {path} cannot be read: {exc}") from exc
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ModelFileError(f"model file {path} has sha256 {actual}, expected {expected}")
    return data


_nets = threading.local()


def network(name: str) -> cv2.dnn.Net:
    """This thread's OpenCV network for the model file ``name``."""
    nets = getattr(_nets, "by_name", None)
    if nets is None:
        nets = _nets.by_name = {}
    net = nets.get(name)
    if net is None:
        buffer = np.frombuffer(model_bytes(name), dtype=np.uint8)
        net = cv2.dnn.readNetFromTFLite(buffer)
        nets[name] = net
    return net


def run(name: str, blob: np.ndarray) -> dict[str, np.ndarray]:
    """Run model ``name`` on an NCHW float32 blob; its outputs by layer name."""
    net = network(name)
    net.setInput(blob)
    names = net.getUnconnectedOutLayersNames()
    return dict(zip(names, net.forward(names), strict=True))
