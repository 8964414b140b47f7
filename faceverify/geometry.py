"""Head pose and expression from the 68 iBUG 300-W landmarks (pure geometry, no models).

Sign conventions (documented in docs/faceverify.md, tested with mirrored images):
- yaw > 0: the person turned their head to *their own left*. In an unmirrored camera frame (what
  the sensor sees, not the mirrored selfie preview) their nose then moves toward the image's
  right edge. Mirroring the frame flips the sign of yaw and roll, not pitch.
- pitch > 0: looking up. Absolute pitch depends on the generic 3-D model and on where the camera
  sits, so the liveness check only uses pitch relative to the session's first frontal frames.
- roll > 0: head tilted so that the image-left eye is higher.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

logger = logging.getLogger(__name__)

Points = npt.NDArray[np.float64]  # shape (68, 2), image x right, y down

# iBUG 300-W indices. "Image-left" is the subject's right side in an unmirrored frame.
NOSE_TIP = 30
CHIN = 8
EYE_OUTER_IMAGE_LEFT = 36
EYE_OUTER_IMAGE_RIGHT = 45
MOUTH_CORNER_IMAGE_LEFT = 48
MOUTH_CORNER_IMAGE_RIGHT = 54
UPPER_LIP_TOP = 51
LOWER_LIP_BOTTOM = 57
INNER_LIP_TOP = 62
INNER_LIP_BOTTOM = 66

_PNP_INDICES = (
    NOSE_TIP,
    CHIN,
    EYE_OUTER_IMAGE_LEFT,
    EYE_OUTER_IMAGE_RIGHT,
    MOUTH_CORNER_IMAGE_LEFT,
    MOUTH_CORNER_IMAGE_RIGHT,
)
# A generic adult head in millimetres, camera axes (x right, y down, z away from the camera) with
# the nose tip at the origin: the rest of the face lies behind it (z > 0). Values follow the
# commonly used six-point model (nose, chin, outer eye corners, mouth corners).
_MODEL_POINTS = np.array(
    [
        (0.0, 0.0, 0.0),
        (0.0, 330.0, 65.0),
        (-225.0, -170.0, 135.0),
        (225.0, -170.0, 135.0),
        (-150.0, 150.0, 125.0),
        (150.0, 150.0, 125.0),
    ],
    dtype=np.float64,
)


@dataclass(frozen=True)
class Pose:
    """Head rotation in degrees (see the module docstring for the signs)."""

    yaw: float
    pitch: float
    roll: float


def head_pose(points: Points, frame_size: tuple[int, int]) -> Pose:
    """solvePnP of the six-point model against a pinhole camera with focal length = frame width.

    frame_size is (width, height). A webcam's true focal length is unknown; the width is a fair
    guess for a 60–70° field of view, and errors in it change the angles only a little.
    """
    width, height = frame_size
    focal = float(width)
    camera = np.array(
        [[focal, 0.0, width / 2.0], [0.0, focal, height / 2.0], [0.0, 0.0, 1.0]], dtype=np.float64
    )
    image_points = np.ascontiguousarray(points[list(_PNP_INDICES)], dtype=np.float64)
    ok, rvec, _tvec = cv2.solvePnP(
        _MODEL_POINTS, image_points, camera, np.zeros(4), flags=cv2.SOLVEPNP_ITERATIVE
    )
    if not ok:
        return Pose(yaw=float("nan"), pitch=float("nan"), roll=float("nan"))
    rotation, _ = cv2.Rodrigues(rvec)
    angles = cv2.RQDecomp3x3(rotation)[0]
    # The face looks along -z of the model. Rotating it by +θ about the (downward) y axis points it
    # toward image-left, i.e. the person's own right in an unmirrored frame; hence the minus sign.
    # Likewise +φ about x points it downwards.
    return Pose(yaw=-float(angles[1]), pitch=-float(angles[0]), roll=_wrap(float(angles[2])))


def smile_measure(points: Points) -> float:
    """Mouth width over outer-eye distance, plus how far the mouth corners rise above the lips.

    A smile widens the mouth (zygomaticus major pulls the corners outward and up); speaking or
    a neutral face does not. Both terms are ratios of distances on the face, so they do not change
    with the face's size in the frame and change little with moderate yaw (both spans shrink
    together). Typical values: neutral 0.75–0.85, broad smile 0.95–1.1 (docs/faceverify.md).
    """
    eye_span = _dist(points[EYE_OUTER_IMAGE_LEFT], points[EYE_OUTER_IMAGE_RIGHT])
    if eye_span <= 0:
        return 0.0
    mouth_span = _dist(points[MOUTH_CORNER_IMAGE_LEFT], points[MOUTH_CORNER_IMAGE_RIGHT])
    corners_y = (points[MOUTH_CORNER_IMAGE_LEFT][1] + points[MOUTH_CORNER_IMAGE_RIGHT][1]) / 2.0
    lips_mid_y = (points[UPPER_LIP_TOP][1] + points[LOWER_LIP_BOTTOM][1]) / 2.0
    lift = (lips_mid_y - corners_y) / eye_span  # > 0 when the corners sit above the lips' middle
    return float(mouth_span / eye_span + lift)


def mouth_open(points: Points) -> float:
    """Inner-lip gap over mouth width: high when speaking or yawning, low for a closed smile."""
    width = _dist(points[MOUTH_CORNER_IMAGE_LEFT], points[MOUTH_CORNER_IMAGE_RIGHT])
    if width <= 0:
        return 0.0
    return float(_dist(points[INNER_LIP_TOP], points[INNER_LIP_BOTTOM]) / width)


def mirror_points(points: Points, frame_width: int) -> Points:
    """The landmarks of the horizontally mirrored frame, re-indexed to iBUG order.

    Mirroring swaps the image-left and image-right halves of the face, so each point takes the
    index of its symmetric partner.
    """
    flipped = points.copy()
    flipped[:, 0] = (frame_width - 1) - flipped[:, 0]
    return flipped[list(_MIRROR_INDEX)]


def _mirror_index() -> tuple[int, ...]:
    pairs: list[tuple[int, int]] = []
    pairs += [(i, 16 - i) for i in range(17)]  # jaw
    pairs += [(17 + i, 26 - i) for i in range(10)]  # brows
    pairs += [(27, 27), (28, 28), (29, 29), (30, 30)]  # nose bridge
    pairs += [(31, 35), (32, 34), (33, 33), (34, 32), (35, 31)]  # nostrils
    pairs += [(36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46)]
    pairs += [(42, 39), (43, 38), (44, 37), (45, 36), (46, 41), (47, 40)]
    pairs += [(48, 54), (49, 53), (50, 52), (51, 51), (52, 50), (53, 49), (54, 48)]
    pairs += [(55, 59), (56, 58), (57, 57), (58, 56), (59, 55)]
    pairs += [(60, 64), (61, 63), (62, 62), (63, 61), (64, 60)]
    pairs += [(65, 67), (66, 66), (67, 65)]
    index = dict(pairs)
    return tuple(index[i] for i in range(68))


_MIRROR_INDEX = _mirror_index()


def _dist(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> float:
    return float(math.hypot(float(a[0] - b[0]), float(a[1] - b[1])))


def _wrap(angle: float) -> float:
    return (angle + 180.0) % 360.0 - 180.0
