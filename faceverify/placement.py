"""Where the face is in the frame, in words a resident can act on (issue 18).

The page draws an oval face guide over a mirrored preview (templates/reset/_face_check.html:
centre at 50 % × 48 % of the frame, 34 % of its width wide); a resident who cannot see the oval
turn colour needs the same information said: 「顔が右に寄っています」, 「もう少し近づいてください」.
Computed from the face box the tracker already found, never from pixels, and only to advise: a
frame off the guide still counts (the quality gates in quality.py decide what cannot).

Directions are the resident's own, as they see themselves in the mirrored preview: a face at the
*right* edge of the unmirrored camera frame is on the resident's own left (docs/faceverify.md,
"Which way is left").
"""

from __future__ import annotations

from enum import StrEnum

# The guide oval of _face_check.html, as fractions of the frame.
GUIDE_CENTRE_X = 0.50
GUIDE_CENTRE_Y = 0.48
# How far the face box's centre may sit from the oval's centre before it is said (fractions of
# the frame's width / height): about half the oval's half-width, so a face still mostly inside
# the oval is "in place".
MAX_OFFSET_X = 0.10
MAX_OFFSET_Y = 0.12
# The detector's box covers brows to chin, narrower than the oval: on the fixtures' webcam frames
# a face filling the oval measures 0.30–0.36 of the frame width. The quality gates refuse below
# 0.15 and above 0.85; between these and those, the resident is told which way to move.
FAR_FRACTION = 0.22
NEAR_FRACTION = 0.60


class Placement(StrEnum):
    """The face relative to the guide oval; `CENTRED` once it is in place."""

    CENTRED = "centred"
    LEFT = "left"  # on the resident's own left (the preview's left)
    RIGHT = "right"
    HIGH = "high"
    LOW = "low"
    FAR = "far"
    NEAR = "near"


def placement_of(box: tuple[int, int, int, int], width: int, height: int) -> Placement:
    """The face box (left, top, right, bottom) in an unmirrored frame of `width` × `height`."""
    left, top, right, bottom = box
    fraction = (right - left) / width
    if fraction < FAR_FRACTION:
        return Placement.FAR
    if fraction > NEAR_FRACTION:
        return Placement.NEAR
    # The preview is mirrored: the resident's own left is the frame's right.
    dx = GUIDE_CENTRE_X - (left + right) / 2 / width  # > 0: towards the resident's right
    dy = (top + bottom) / 2 / height - GUIDE_CENTRE_Y  # > 0: lower than the oval
    off_x, off_y = abs(dx) / MAX_OFFSET_X, abs(dy) / MAX_OFFSET_Y
    if max(off_x, off_y) <= 1.0:
        return Placement.CENTRED
    if off_x >= off_y:
        return Placement.RIGHT if dx > 0 else Placement.LEFT
    return Placement.LOW if dy > 0 else Placement.HIGH
