"""Is the face a plane? Parallax between frontal and turned landmarks, and expression change.

A photo or a screen held in front of the camera is flat: however it is tilted or shifted, the 68
landmarks of one view map onto those of another by a single homography (the projective map of a
plane), up to the landmark detector's own noise. A real head is not flat: when it turns, the nose
tip (about 3 cm in front of the cheeks) and the face outline (the occluding contour, which slides
around the head) move differently, and no homography explains both. `turn_parallax` measures that
unexplained part at the nose — its sign follows the turn, which landmark noise cannot fake — as a
fraction of the outer-eye distance so the face's size does not matter. Calibration and margin:
docs/faceverify.md, "Presentation attacks".

`expression_change` uses the same idea for the smile: the smiling frame is mapped onto the
neutral frame by the homography of the rigid upper face (eyes, brows, nose), so a tilted or
shifted photo maps back onto itself and its smile change is ≈ 0, whatever the photo shows; a real
smile moves the mouth corners out and up relative to the upper face.

Pure numpy / OpenCV on landmark arrays: no pixels, no models.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from faceverify.geometry import (
    EYE_OUTER_IMAGE_LEFT,
    EYE_OUTER_IMAGE_RIGHT,
    Points,
    smile_measure,
)

logger = logging.getLogger(__name__)

# iBUG 300-W groups (geometry.py has the index conventions).
JAW = tuple(range(0, 17))
BROWS = tuple(range(17, 27))
NOSE = tuple(range(27, 36))
EYES = tuple(range(36, 48))
MOUTH = tuple(range(48, 68))
# The upper face does not move with a smile: the reference frame for expression change.
RIGID = BROWS + NOSE + EYES
# Everything the detector places reliably on a turned face (the inner lips are left out: they
# move with speech and add expression, not depth).
ALL_STABLE = JAW + BROWS + NOSE + EYES + tuple(range(48, 60))
# The part of the nose that stands out of the face (ridge, tip, columella) and the rest of the
# face the homography is fitted on.
NOSE_OUT = (29, 30, 33)
FACE_WITHOUT_NOSE = tuple(i for i in ALL_STABLE if i not in NOSE[2:])


def eye_span(points: Points) -> float:
    left, right = points[EYE_OUTER_IMAGE_LEFT], points[EYE_OUTER_IMAGE_RIGHT]
    return float(math.hypot(float(right[0] - left[0]), float(right[1] - left[1])))


def fit_homography(
    source: Points, target: Points, indices: Sequence[int]
) -> npt.NDArray[np.float64] | None:
    """Least-squares homography (all points, no RANSAC: the outliers *are* the signal)."""
    src = np.ascontiguousarray(source[list(indices)], dtype=np.float64)
    dst = np.ascontiguousarray(target[list(indices)], dtype=np.float64)
    matrix, _ = cv2.findHomography(src, dst, 0)
    if matrix is None or not np.all(np.isfinite(matrix)):
        return None
    return np.asarray(matrix, dtype=np.float64)


def project(matrix: npt.NDArray[np.float64], points: Points) -> Points:
    ones = np.ones((points.shape[0], 1), dtype=np.float64)
    mapped = np.hstack([points, ones]) @ matrix.T
    w = mapped[:, 2:3]
    w = np.where(np.abs(w) < 1e-9, 1e-9, w)
    return np.asarray(mapped[:, :2] / w, dtype=np.float64)


def turn_parallax(frontal: Points, turned: Points) -> float:
    """How far the nose moved beyond the face's best homography, toward the image's right edge.

    Fit a homography from the frontal to the turned landmarks on everything but the protruding
    nose, then take the mean horizontal offset of the real nose points from where it puts them,
    over the outer-eye distance. A head turning to its own left (yaw > 0, geometry.py) swings
    the nose tip toward the image's right *more* than the cheeks and outline: positive, 0.058–0.113
    on the fixtures. A tilted photo: the nose lies in the plane, only landmark noise remains,
    -0.045 … +0.026 for tilts of 10°–60° both ways. NaN when no homography can be fitted.
    """
    matrix = fit_homography(frontal, turned, FACE_WITHOUT_NOSE)
    scale = eye_span(turned)
    if matrix is None or scale <= 1.0:
        return float("nan")
    offset = turned[list(NOSE_OUT)] - project(matrix, frontal[list(NOSE_OUT)])
    return float(np.mean(offset[:, 0]) / scale)


def expression_change(neutral: Points, current: Points) -> float:
    """How much more the face smiles than `neutral`, with the planar motion between them removed.

    The current landmarks are mapped into the neutral frame's geometry by the homography of the
    rigid upper face; the smile measure (geometry.smile_measure) of the mapped points minus the
    neutral one is the change. NaN when no homography can be fitted.
    """
    matrix = fit_homography(current, neutral, RIGID)
    if matrix is None:
        return float("nan")
    return smile_measure(project(matrix, current)) - smile_measure(neutral)


def median_turn_parallax(frontal: Sequence[Points], turned: Sequence[Points]) -> float:
    """The median `turn_parallax` over every frontal × turned pair (NaN pairs left out)."""
    values = [turn_parallax(f, t) for f in frontal for t in turned]
    finite = [v for v in values if math.isfinite(v)]
    return float(np.median(finite)) if finite else float("nan")
