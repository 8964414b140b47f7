"""Has the face itself changed? A frozen-stream measure that pixel noise cannot fool.

Raw frame differences say "moving" for a still photo with a little noise added, or shifted by a
pixel. Here the face is compared with itself after alignment instead:
- geometry: the 68 landmarks, Procrustes-aligned (similarity) onto an anchor frame's, RMS
  residual over the outer-eye distance — shifts, zoom and in-plane rotation cancel out;
- texture: a 32×32 patch of the face, warped by the eye-and-mouth similarity to a fixed layout,
  blurred (σ = 1.5 px, which averages sensor noise away) and normalised to zero mean and unit
  variance (brightness and contrast changes cancel out), mean absolute difference to the anchor's.

`change` is the larger of the two over its tolerance: below 1.0 the face has not changed since
the anchor; at or above it the face moved (blink, gaze, a turn, a smile, another photo) and the
anchor becomes the current frame. Compared with an anchor, not the previous frame, so a slow drift
adds up. Tolerances: docs/faceverify.md, "Frozen stream".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from faceverify.geometry import Points
from faceverify.planarity import eye_span

logger = logging.getLogger(__name__)

Gray = npt.NDArray[np.uint8]
PATCH = 32
# Where the eye centres and the mouth centre land in the patch.
_LAYOUT = np.array([(9.0, 11.0), (23.0, 11.0), (16.0, 25.0)], dtype=np.float32)


@dataclass(frozen=True)
class StillnessConfig:
    geometry_tolerance: float = 0.05  # RMS landmark residual / eye span
    texture_tolerance: float = 0.12  # mean |Δ| of the normalised patch


@dataclass
class StillnessMeter:
    """Per-stream anchor; `change` once per frame with a face."""

    config: StillnessConfig = field(default_factory=StillnessConfig)
    _points: Points | None = None
    _patch: npt.NDArray[np.float32] | None = None

    def change(self, gray: Gray, points: Points) -> float | None:
        """The face's change since the anchor, in tolerances; None on the first face."""
        patch = aligned_patch(gray, points)
        if patch is None:
            return None
        if self._points is None or self._patch is None:
            self._points, self._patch = points, patch
            return None
        geometry = shape_change(self._points, points) / self.config.geometry_tolerance
        texture = float(np.mean(np.abs(patch - self._patch))) / self.config.texture_tolerance
        value = max(geometry, texture)
        if value >= 1.0:
            self._points, self._patch = points, patch
        return value

    def reset(self) -> None:
        self._points = None
        self._patch = None


def shape_change(anchor: Points, points: Points) -> float:
    """RMS residual of `points` after the best similarity onto `anchor`, over the eye span."""
    matrix = similarity(points, anchor)
    scale = eye_span(anchor)
    if matrix is None or scale <= 1.0:
        return float("inf")
    mapped = points @ matrix[:, :2].T + matrix[:, 2]
    error = mapped - anchor
    return float(np.sqrt(np.mean(np.sum(error * error, axis=1))) / scale)


def similarity(
    source: npt.NDArray[np.float64], target: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64] | None:
    """Least-squares similarity (scale, rotation, shift) taking `source` onto `target`, as a 2×3
    matrix. All points count (OpenCV's estimators are robust, i.e. they may drop the very points
    whose motion is being measured)."""
    src_mean, dst_mean = source.mean(axis=0), target.mean(axis=0)
    src, dst = source - src_mean, target - dst_mean
    norm = float(np.sum(src * src))
    if norm < 1e-9:
        return None
    a = float(np.sum(src * dst)) / norm  # s·cos θ
    b = float(np.sum(src[:, 0] * dst[:, 1] - src[:, 1] * dst[:, 0])) / norm  # s·sin θ
    rotation = np.array([[a, -b], [b, a]], dtype=np.float64)
    shift = dst_mean - rotation @ src_mean
    return np.hstack([rotation, shift[:, np.newaxis]])


def aligned_patch(gray: Gray, points: Points) -> npt.NDArray[np.float32] | None:
    """The face warped to the fixed layout, blurred and normalised; None if it is degenerate."""
    anchors = np.array(
        [points[36:42].mean(axis=0), points[42:48].mean(axis=0), points[48:68].mean(axis=0)],
        dtype=np.float32,
    )
    # Warped at twice the size and then averaged down: warpAffine samples, it does not average.
    matrix = similarity(anchors.astype(np.float64), _LAYOUT.astype(np.float64) * 2)
    if matrix is None:
        return None
    large = cv2.warpAffine(
        gray,
        matrix,
        (2 * PATCH, 2 * PATCH),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    small = cv2.resize(large, (PATCH, PATCH), interpolation=cv2.INTER_AREA)
    patch = np.asarray(cv2.GaussianBlur(small.astype(np.float32), (0, 0), 1.5), dtype=np.float32)
    std = float(patch.std())
    if std < 1.0:
        return None
    return np.asarray((patch - patch.mean()) / std, dtype=np.float32)
