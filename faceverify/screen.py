"""A second, independent sign of a held photo or screen: the surroundings move with the face.

A real head turns in front of a background that stays where it is. A photo or a phone held up to
the camera carries its own background (the rest of the print, the rest of the screen) and, being
one rigid plane, that background moves exactly as the face does. So, between a frontal frame and
a turned one, the region *around* the face is predicted two ways:
- "follows": the frontal frame warped by the homography of the face landmarks (planarity.py);
- "static": the frontal frame unchanged.
`surround_follow` is the ratio of their errors (blurred, so small misregistration does not count).
Well below 1: the surroundings moved with the face — the rest of a print or screen. About 1 or
above: they did not (a real background; or a different scene altogether).

It uses pixels but no landmarks beyond the ones the turn is judged on, and its failure modes differ
from planarity's: it catches a photo bent or curved enough to fake some nose parallax, as long as
its margin is in view; it misses a photo cut out along the face outline (then the real background
surrounds it), and it says nothing (None) about a plain, textureless background.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
import numpy.typing as npt

from faceverify.geometry import Points
from faceverify.planarity import ALL_STABLE, fit_homography

logger = logging.getLogger(__name__)

Gray = npt.NDArray[np.uint8]
MIN_TEXTURE = 4.0  # gray-level std of the surroundings below which they say nothing
_BLUR = 2.0
_RING_OUTER = 0.7  # the ring reaches this many face widths beyond the face box
_RING_INNER = 0.12  # and leaves this margin around it (hair, ears move with a real head)


def surround_follow(
    frontal: Gray, frontal_points: Points, turned: Gray, turned_points: Points
) -> float | None:
    """Error of the face-homography prediction over the static one, around the turned face.

    Both images are the same size (the session's downscaled gray frames) and the points are in
    their coordinates. None when the surroundings are too plain or too little of them is in view.
    """
    if frontal.shape != turned.shape:
        return None
    matrix = fit_homography(frontal_points, turned_points, ALL_STABLE)
    if matrix is None:
        return None
    height, width = turned.shape
    ring = _ring(turned_points, width, height)
    # Only where the warp had frontal pixels to bring (not outside the frontal frame).
    covered = cv2.warpPerspective(np.full_like(frontal, 255), matrix, (width, height))
    mask = ring & (covered == 255)
    if int(mask.sum()) < 200:
        return None
    follow = np.asarray(
        cv2.warpPerspective(frontal, matrix, (width, height), flags=cv2.INTER_LINEAR),
        dtype=np.uint8,
    )
    now = _smooth(turned)
    if float(now[mask].std()) < MIN_TEXTURE:
        return None
    follow_error = float(np.mean(np.abs(now[mask] - _smooth(follow)[mask])))
    static_error = float(np.mean(np.abs(now[mask] - _smooth(frontal)[mask])))
    return (follow_error + 1.0) / (static_error + 1.0)


def _smooth(gray: Gray) -> npt.NDArray[np.float32]:
    return np.asarray(cv2.GaussianBlur(gray.astype(np.float32), (0, 0), _BLUR), dtype=np.float32)


def _ring(points: Points, width: int, height: int) -> npt.NDArray[np.bool_]:
    left, top = points.min(axis=0)
    right, bottom = points.max(axis=0)
    side = max(right - left, bottom - top)
    mask = np.zeros((height, width), dtype=bool)
    outer = _clip(left, top, right, bottom, _RING_OUTER * side, width, height)
    inner = _clip(left, top - 0.5 * side, right, bottom, _RING_INNER * side, width, height)
    mask[outer[1] : outer[3], outer[0] : outer[2]] = True
    mask[inner[1] : inner[3], inner[0] : inner[2]] = False
    return mask


def _clip(
    left: float, top: float, right: float, bottom: float, margin: float, width: int, height: int
) -> tuple[int, int, int, int]:
    return (
        max(0, int(left - margin)),
        max(0, int(top - margin)),
        min(width, int(right + margin)),
        min(height, int(bottom + margin)),
    )
