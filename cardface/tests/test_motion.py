"""Motion blur measured on synthetic smears of known direction and length, and undone."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cardface import locate, motion, synth


def _card_crop(scene: synth.Scene) -> np.ndarray:
    photo = synth.render_photo(synth.CardFront(), scene)
    quad = locate.find_card(photo)
    assert quad is not None
    x, y, w, h = cv2.boundingRect(np.asarray(quad.corners, dtype=np.float32))
    return photo[max(0, y - 16) : y + h + 16, max(0, x - 16) : x + w + 16]


def _angle_apart(a: float, b: float) -> float:
    d = abs(a - b) % 180.0
    return min(d, 180.0 - d)


@pytest.mark.parametrize(
    ("length", "angle"), [(5.0, 0.0), (9.0, 0.0), (11.0, 45.0)],
    ids=["horizontal-5", "horizontal-9", "diagonal-11"],
)
def test_it_measures_a_straight_smear(length: float, angle: float) -> None:
    crop = _card_crop(synth.Scene(motion=length, motion_angle=angle, seed=7))
    found = motion.estimate(crop)
    assert found.present
    assert abs(found.length - length) <= 1.5
    assert _angle_apart(found.angle, angle) <= 15.0


@pytest.mark.parametrize(
    "scene",
    [synth.Scene(seed=8), synth.Scene(canvas=(640, 480), card_width=400, seed=9),
     synth.Scene(blur=3.0, seed=10)],
    ids=["sharp", "sharp-small", "out-of-focus"],
)
def test_no_smear_is_found_where_there_is_none(scene: synth.Scene) -> None:
    assert not motion.estimate(_card_crop(scene)).present


def test_deconvolution_brings_the_card_closer_to_the_unsmeared_photo() -> None:
    front = synth.CardFront()
    sharp_photo = synth.render_photo(front, synth.Scene(seed=11))
    quad = locate.find_card(sharp_photo)
    assert quad is not None
    x, y, w, h = cv2.boundingRect(np.asarray(quad.corners, dtype=np.float32))
    box = (slice(y - 16, y + h + 16), slice(x - 16, x + w + 16))
    sharp = sharp_photo[box].astype(np.float64)
    smeared = synth.render_photo(front, synth.Scene(motion=9.0, seed=11))[box]
    found = motion.estimate(smeared)
    assert found.present
    restored = motion.deconvolve(smeared, found)
    assert restored.shape == smeared.shape and restored.dtype == np.uint8
    # Compare where the smear did its damage (stroke edges), not on flat card or table.
    damaged = np.abs(smeared - sharp).max(axis=2) > 25
    before = np.abs(smeared - sharp)[damaged].mean()
    after = np.abs(restored.astype(np.float64) - sharp)[damaged].mean()
    assert after < 0.7 * before


def test_the_kernel_is_a_normalised_line() -> None:
    line = motion.kernel(9.0, 0.0)
    assert line.sum() == pytest.approx(1.0)
    rows = np.nonzero(line.sum(axis=1))[0]
    assert len(rows) == 1  # horizontal: one row only
    diagonal = motion.kernel(9.0, 45.0)
    assert np.allclose(diagonal, diagonal.T, atol=1e-6)  # symmetric about the diagonal
