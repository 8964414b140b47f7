"""Where the face is, in words (faceverify.placement; issue 18): geometry, then real frames."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from faceverify.imaging import Image
from faceverify.liveness import PlacementEvent, ProgressEvent
from faceverify.placement import Placement, placement_of
from faceverify.session import FaceCheck
from faceverify.tests import synth

W, H = 640, 480


def _box(cx: float, cy: float, width: float = 0.32) -> tuple[int, int, int, int]:
    """A face box centred at (cx, cy), fractions of an unmirrored W × H frame."""
    half_w, half_h = width * W / 2, width * W / 2
    return (
        round(cx * W - half_w),
        round(cy * H - half_h),
        round(cx * W + half_w),
        round(cy * H + half_h),
    )


@pytest.mark.parametrize(
    ("box", "expected"),
    [
        (_box(0.50, 0.48), Placement.CENTRED),
        (_box(0.57, 0.56), Placement.CENTRED),  # a little off is still in the oval
        # The frame's right is the resident's own left (the preview is a mirror).
        (_box(0.70, 0.48), Placement.LEFT),
        (_box(0.30, 0.48), Placement.RIGHT),
        (_box(0.50, 0.25), Placement.HIGH),
        (_box(0.50, 0.70), Placement.LOW),
        (_box(0.50, 0.48, width=0.18), Placement.FAR),
        (_box(0.50, 0.48, width=0.70), Placement.NEAR),
        (_box(0.68, 0.64), Placement.LEFT),  # both off: the larger offset is said
    ],
)
def test_the_face_box_is_said_from_the_residents_side(
    box: tuple[int, int, int, int], expected: Placement
) -> None:
    assert placement_of(box, W, H) is expected


def _shifted(frame: Image, dx: int, dy: int) -> Image:
    matrix = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]], dtype=np.float64)
    height, width = frame.shape[:2]
    return np.asarray(
        cv2.warpAffine(frame, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE),
        dtype=np.uint8,
    )


def test_a_real_face_is_said_where_it_is_once_per_change() -> None:
    check = FaceCheck(reference=None)
    said: list[Placement] = []
    moves = [(0, 0), (0, 0), (110, 0), (110, 0), (-110, 0), (0, -95)]
    for seed, (dx, dy) in enumerate(moves):
        frame = _shifted(synth.webcam_frame("obama", seed=seed), dx, dy)
        events = check.feed(frame, seed * 0.2)
        assert isinstance(events[-1], ProgressEvent)  # still the frame's closing event
        said += [e.where for e in events if isinstance(e, PlacementEvent)]
    # Moved to the frame's right = the resident's own left; said once, not on every frame.
    assert said == [Placement.CENTRED, Placement.LEFT, Placement.RIGHT, Placement.HIGH]
