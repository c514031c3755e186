"""Small image operations shared by the vision models, the avatar, the try-on and the outputs."""

from __future__ import annotations

import io
import math

import cv2
import numpy as np
from PIL import Image

PNG_OPENCV_MAX_PIXELS = 2_200_000  # up to 1k outputs; bigger PNGs are Pillow's (no copies)
PNG_HUFFMAN_ONLY = 2  # zlib's Z_HUFFMAN_ONLY strategy (cv2.IMWRITE_PNG_STRATEGY_HUFFMAN_ONLY)


def warp_region(
    image: np.ndarray,
    out_to_image: np.ndarray,
    size: tuple[int, int],
    *,
    border: int = cv2.BORDER_REPLICATE,
    interpolation: int = cv2.INTER_LINEAR,
) -> np.ndarray:
    """Sample ``image`` on an output grid of ``size`` (w, h) through a 2x3 affine.

    ``out_to_image`` maps output pixels to image pixels. Only the region the output covers is
    touched, and when the output is much smaller than that region it is first shrunk with
    area averaging, so that a big photo is not aliased by point sampling.
    """
    w, h = size
    corners = np.array([[0, 0, 1], [w, 0, 1], [0, h, 1], [w, h, 1]], np.float64) @ out_to_image.T
    x0, y0 = np.floor(corners.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(corners.max(axis=0)).astype(int) + 2
    ih, iw = image.shape[:2]
    cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(iw, x1), min(ih, y1)
    if cx0 >= cx1 or cy0 >= cy1:  # entirely outside: the border rule alone decides
        cx0, cy0 = min(max(0, x0), iw - 1), min(max(0, y0), ih - 1)
        cx1, cy1 = cx0 + 1, cy0 + 1
    step = math.sqrt(abs(np.linalg.det(out_to_image[:, :2])))  # image pixels per output pixel
    # OpenCV's area averaging by exactly two is ten times faster than by a fraction: halve
    # while the step allows (the region grown, or else cut, to even sides), then the rest.
    halvings = max(0, int(math.log2(step))) if step >= 2.0 else 0
    n = 2**halvings
    if n > 1:
        cx1 = cx0 + max(n, -(-(cx1 - cx0) // n) * n)
        cy1 = cy0 + max(n, -(-(cy1 - cy0) // n) * n)
        if cx1 > iw:
            cx1 = cx0 + max(n, (iw - cx0) // n * n)
        if cy1 > ih:
            cy1 = cy0 + max(n, (ih - cy0) // n * n)
        if cx1 > iw or cy1 > ih:  # a region smaller than the whole step: one fractional shrink
            n, halvings = 1, 0
            cx1, cy1 = min(cx1, iw), min(cy1, ih)
    crop = image[cy0:cy1, cx0:cx1]
    matrix = out_to_image.astype(np.float64).copy()
    matrix[:, 2] -= (cx0, cy0)
    for _ in range(halvings):
        crop, matrix = _shrunk(crop, (crop.shape[1] // 2, crop.shape[0] // 2), matrix)
    step /= n
    if step > 1.25:
        k = 1.0 / step
        small = (max(1, round(crop.shape[1] * k)), max(1, round(crop.shape[0] * k)))
        crop, matrix = _shrunk(crop, small, matrix)
    return cv2.warpAffine(
        crop, matrix, (w, h), flags=interpolation | cv2.WARP_INVERSE_MAP, borderMode=border
    )


def _shrunk(crop: np.ndarray, size: tuple[int, int], matrix: np.ndarray):
    """``crop`` area-averaged to ``size`` (w, h), and ``matrix`` (output to crop) made to point
    at the smaller copy's pixels."""
    fx, fy = size[0] / crop.shape[1], size[1] / crop.shape[0]
    small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    # Pixel centres: x_small = (x + 0.5) * f - 0.5.
    scale = np.array([[fx, 0, 0.5 * fx - 0.5], [0, fy, 0.5 * fy - 0.5]])
    return small, scale @ np.vstack([matrix, [0, 0, 1]])


def downscale(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` area-averaged down to ``size`` (w, h): halved while it is at least twice as big
    (OpenCV's fastest area path), then by the rest. Close to one ``cv2.resize`` with
    ``INTER_AREA`` (a level or two apart) at a fraction of its time on a big photo."""
    while image.shape[1] >= 2 * size[0] and image.shape[0] >= 2 * size[1]:
        h, w = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
        image = cv2.resize(image[:h, :w], (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    if (image.shape[1], image.shape[0]) == tuple(size):
        return image
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def blur(image: np.ndarray, sigma: float, shrink: int = 4) -> np.ndarray:
    """A wide Gaussian blur done at 1/``shrink`` size: shadows and glows need no detail."""
    h, w = image.shape[:2]
    sw, sh = max(1, w // shrink), max(1, h // shrink)
    small = downscale(image, (sw, sh))  # by halvings: the fast path
    small = cv2.GaussianBlur(small, (0, 0), max(0.5, sigma / shrink))
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def bounding_box(mask: np.ndarray, grow: int = 0) -> tuple[slice, slice] | None:
    """The rows and columns (slices) that hold every true pixel of ``mask``, and ``grow``
    pixels more on each side (within the mask's shape); None when nothing is true."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    h, w = mask.shape
    return (
        slice(max(0, int(rows[0]) - grow), min(h, int(rows[-1]) + 1 + grow)),
        slice(max(0, int(cols[0]) - grow), min(w, int(cols[-1]) + 1 + grow)),
    )


def smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.subtract(x, edge0)
    if t.ndim == 0 or t.dtype.kind != "f":
        t = np.clip(t / (edge1 - edge0), 0.0, 1.0)
        return t * t * (3.0 - 2.0 * t)
    # The same arithmetic in place: a third faster on the big maps (called hundreds of times).
    t /= edge1 - edge0
    np.clip(t, 0.0, 1.0, out=t)
    out = t * t
    t *= 2.0
    np.subtract(3.0, t, out=t)
    out *= t
    return out


def encode(rgb: np.ndarray | Image.Image, output_format: str, size: tuple[int, int]) -> bytes:
    image = rgb if isinstance(rgb, Image.Image) else Image.fromarray(rgb)
    if image.size != size:
        image = image.resize(size, Image.Resampling.BICUBIC)
    if output_format == "png" and image.width * image.height > PNG_OPENCV_MAX_PIXELS:
        # Level 1: five times faster than the default and only slightly larger. Pillow encodes
        # from its own buffer: a 4k frame gets no copies (OpenCV's path would take two, 100 MB).
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", compress_level=1)
        return buffer.getvalue()
    if output_format == "png":
        # Level 1 and Huffman coding only: a grained picture barely compresses further, and
        # this is a quarter faster than Pillow's level 1 (48 against 64 ms at 1k) for 6 % more
        # bytes; both are many times faster than the default level.
        bgr = cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2BGR)
        params = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_STRATEGY, PNG_HUFFMAN_ONLY]
        ok, data = cv2.imencode(".png", bgr, params)
        if not ok:  # pragma: no cover - OpenCV encodes any 8-bit RGB image
            raise ValueError("PNG encoding failed")
        return data.tobytes()
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()
