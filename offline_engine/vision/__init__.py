"""The vision models: MediaPipe's face detector, face mesh and selfie segmenter, run by OpenCV.

Their weights are in ``weights/``, checked against ``weights/SHA256SUMS`` before use.
"""
