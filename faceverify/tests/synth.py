"""Test frames synthesised from the real fixture photos (tests/fixtures/faces/, public domain).

Nothing here is a rendered or fake face: every frame is a crop of a real photograph, moved a few
pixels and given sensor-like noise so consecutive frames differ the way a webcam's do. The only
"turned head" is a real one: obama2.jpg shows a head turned about 25° to the subject's own right,
so its mirror image is a real head turned to the subject's own *left*. The only smile is obama.jpg.
"""

from __future__ import annotations

import functools
import logging
import math
from pathlib import Path

import cv2
import numpy as np

from faceverify.analyzer import analyze_image
from faceverify.imaging import Image, scale_to_width

logger = logging.getLogger(__name__)

FACES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "faces"
NAMES = ("obama", "obama2", "obama3", "biden")


@functools.cache
def photo(name: str) -> Image:
    """A fixture photo, scaled to at most 800 px wide (the faces stay > 140 px wide)."""
    image = cv2.imread(str(FACES / f"{name}.jpg"), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(FACES / f"{name}.jpg")
    small, _ = scale_to_width(np.asarray(image, dtype=np.uint8), 800)
    return small


@functools.cache
def face_box(name: str, mirror: bool = False) -> tuple[int, int, int, int]:
    image = source(name, mirror)
    faces = analyze_image(image)
    if len(faces) != 1:
        raise AssertionError(f"{name}: expected one face, found {len(faces)}")
    return faces[0].box


def source(name: str, mirror: bool = False) -> Image:
    image = photo(name)
    return np.ascontiguousarray(cv2.flip(image, 1)) if mirror else image


def webcam_frame(
    name: str,
    *,
    mirror: bool = False,
    seed: int = 0,
    size: tuple[int, int] = (480, 360),
    face_fraction: float = 0.34,
    noise: float = 2.0,
    jitter: float = 3.0,
) -> Image:
    """A frame as a webcam would send it: the face about a third of the width, a little motion."""
    return place(
        source(name, mirror),
        face_box(name, mirror),
        seed=seed,
        size=size,
        face_fraction=face_fraction,
        noise=noise,
        jitter=jitter,
    )


def place(
    image: Image,
    box: tuple[int, int, int, int],
    *,
    seed: int = 0,
    size: tuple[int, int] = (480, 360),
    face_fraction: float = 0.34,
    noise: float = 2.0,
    jitter: float = 3.0,
) -> Image:
    """`image` scaled and moved so its face (`box`) sits in a webcam-sized frame, plus noise."""
    rng = np.random.default_rng(seed)
    left, top, right, bottom = box
    width, height = size
    scale = face_fraction * width / (right - left) * (1.0 + rng.uniform(-0.01, 0.01))
    cx = (left + right) / 2.0 + rng.uniform(-jitter, jitter) / scale
    cy = (top + bottom) / 2.0 + rng.uniform(-jitter, jitter) / scale
    matrix = np.array(
        [[scale, 0.0, width / 2.0 - scale * cx], [0.0, scale, height * 0.45 - scale * cy]],
        dtype=np.float64,
    )
    frame = cv2.warpAffine(
        image, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    noisy = frame.astype(np.float64) + rng.normal(0.0, noise, frame.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def tilt(frame: Image, degrees: float, *, axis: str = "vertical", distance: float = 1.0) -> Image:
    """`frame` as a flat print of it would look turned by `degrees` in front of the camera.

    The plane is rotated about a line through the face's centre (width / 2, 0.45 × height — where
    `place` puts it), vertical or horizontal, and seen by a pinhole camera whose focal length is
    the frame width, the plane `distance` focal lengths away: a perspective warp, exactly what
    tilting a photo or a phone does. Positive and negative angles tilt opposite ways.
    """
    height, width = frame.shape[:2]
    focal = float(width)
    depth = focal * distance
    cx, cy = width / 2.0, height * 0.45
    angle = math.radians(degrees)
    cos, sin = math.cos(angle), math.sin(angle)
    if axis == "vertical":
        rotate = np.array([[focal * cos, 0.0, 0.0], [0.0, focal, 0.0], [-sin, 0.0, depth]])
    else:
        rotate = np.array([[focal, 0.0, 0.0], [0.0, focal * cos, 0.0], [0.0, -sin, depth]])
    to_centre = np.array([[1.0, 0.0, -cx], [0.0, 1.0, -cy], [0.0, 0.0, 1.0]])
    back = np.array([[1.0, 0.0, cx], [0.0, 1.0, cy], [0.0, 0.0, 1.0]])
    matrix = back @ rotate @ to_centre
    warped = cv2.warpPerspective(
        frame, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return np.asarray(warped, dtype=np.uint8)


def jpeg(image: Image, quality: int = 85) -> bytes:
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return bytes(buffer.tobytes())


def chip_photo(name: str, *, rate_x1000: int = 30, width: int = 180) -> bytes:
    """A chip-like reference: head-and-shoulders crop, 3:4, 180×240, JPEG 2000 of about 4 KB."""
    image = photo(name)
    left, top, right, bottom = face_box(name)
    side = right - left
    crop_w = side * 1.8
    crop_h = crop_w * 4 / 3
    cx, cy = (left + right) / 2.0, (top + bottom) / 2.0
    x0 = int(max(0, cx - crop_w / 2))
    y0 = int(max(0, cy - crop_h * 0.45))
    crop = image[y0 : int(y0 + crop_h), x0 : int(x0 + crop_w)]
    small = cv2.resize(crop, (width, width * 4 // 3), interpolation=cv2.INTER_AREA)
    ok, buffer = cv2.imencode(".jp2", small, [cv2.IMWRITE_JPEG2000_COMPRESSION_X1000, rate_x1000])
    assert ok
    return bytes(buffer.tobytes())


def darken(image: Image, factor: float = 0.18) -> Image:
    return np.clip(image.astype(np.float64) * factor, 0, 255).astype(np.uint8)


def blur(image: Image, sigma: float = 5.0) -> Image:
    return np.asarray(cv2.GaussianBlur(image, (0, 0), sigma), dtype=np.uint8)


def side_by_side(a: Image, b: Image) -> Image:
    height = min(a.shape[0], b.shape[0])
    return np.ascontiguousarray(np.hstack([a[:height], b[:height]]))


def blank(size: tuple[int, int] = (480, 360), level: int = 128) -> Image:
    return np.full((size[1], size[0], 3), level, dtype=np.uint8)
