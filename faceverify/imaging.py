"""Decoding and resizing of untrusted image bytes (JPEG frames, JP2/JPEG/PNG references)."""

from __future__ import annotations

import logging

import cv2
import numpy as np
import numpy.typing as npt

logger = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]  # BGR, H×W×3

# OpenCV refuses to decode anything larger than CV_IO_MAX_IMAGE_PIXELS (2^30) by default; a
# camera frame has no business being a fraction of that, so the header is checked first.
MAX_FRAME_SIDE = 1920
MIN_FRAME_SIDE = 64


class ImageError(ValueError):
    """The bytes are not a usable image."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def decode(data: bytes, *, max_side: int = MAX_FRAME_SIDE, min_side: int = MIN_FRAME_SIDE) -> Image:
    """BGR pixels of a JPEG, PNG or JPEG 2000 file; ImageError("undecodable"|"dimensions")."""
    if not data:
        raise ImageError("undecodable")
    buffer = np.frombuffer(data, dtype=np.uint8)
    image = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
    if image is None or image.ndim != 3 or image.shape[2] != 3:
        raise ImageError("undecodable")
    height, width = image.shape[:2]
    if max(height, width) > max_side or min(height, width) < min_side:
        raise ImageError("dimensions")
    return np.ascontiguousarray(image, dtype=np.uint8)


def scale_to_width(image: Image, width: int) -> tuple[Image, float]:
    """A copy no wider than `width` and the factor (≤ 1) that maps full-size coordinates to it."""
    current = image.shape[1]
    if current <= width:
        return image, 1.0
    factor = width / current
    size = (width, max(1, round(image.shape[0] * factor)))
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8), factor


def to_gray(image: Image) -> npt.NDArray[np.uint8]:
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)


def to_rgb(image: Image) -> Image:
    return np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), dtype=np.uint8)
