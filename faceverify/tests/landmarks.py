"""68-point landmark sets for scripted challenge tests: a real frontal face, turned in 3-D.

The 2-D layout is one real detection (obama.jpg, frontal); depth is a rough head model in units
of the outer-eye distance (nose tip well in front of the eyes, the outline curving back), enough
for a turn to show parallax the way a head does. A "photo" turned the same amount is the same
points with the depth flattened to zero: a plane, which planarity.py must tell apart.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from faceverify.analyzer import analyze_image
from faceverify.geometry import Points
from faceverify.planarity import eye_span
from faceverify.tests import synth


@functools.cache
def _template() -> tuple[Points, np.ndarray]:
    points = analyze_image(synth.webcam_frame("obama"))[0].points
    centre = points.mean(axis=0)
    local = (points - centre) / eye_span(points)
    half = float(np.abs(local[:17, 0]).max())
    x2 = (local[:, 0] / half) ** 2
    depth = np.zeros(68)
    depth[0:17] = -0.9 * x2[0:17]  # the outline curves back toward the ears
    depth[17:27] = 0.1 - 0.3 * x2[17:27]
    depth[27:31] = (0.15, 0.25, 0.35, 0.45)  # nose bridge to tip
    depth[31:36] = 0.25
    depth[36:48] = -0.15 * x2[36:48]
    depth[48:68] = 0.15 - 0.2 * x2[48:68]
    return local, depth


def face_points(
    yaw: float = 0.0,
    *,
    smile: bool = False,
    flat: bool = False,
    shift: tuple[float, float] = (240.0, 160.0),
    size: float = 60.0,
) -> Points:
    """The face turned by `yaw` degrees (positive: toward its own left, nose to the image's
    right), `size` px between the outer eye corners, centred at `shift`."""
    local, depth = _template()
    points = local.copy()
    if smile:  # the corners go out and up, the lips between them follow halfway
        for index, direction in ((48, -1.0), (54, 1.0)):
            points[index] += (0.08 * direction, -0.05)
        for index, direction in ((49, -1.0), (59, -1.0), (53, 1.0), (55, 1.0)):
            points[index] += (0.04 * direction, -0.02)
    z = np.zeros(68) if flat else depth
    angle = math.radians(yaw)
    turned = points.copy()
    turned[:, 0] = points[:, 0] * math.cos(angle) + z * math.sin(angle)
    return np.asarray(turned * size + np.array(shift), dtype=np.float64)
