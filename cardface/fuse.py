"""Several frames of a small card made into one sharper card: straighten, align, average.

A 640x480 webcam at arm's length shows the card 200-260 px wide: its security code is 4-6 px
tall, and one frame's pixels (with the camera's noise and JPEG blocks) do not hold it — the
recogniser misreads it, sometimes confidently. A hand never holds a card to the pixel, so every
frame samples the card at other sub-pixel places: straightened to the same card-sized image and
aligned to a reference frame, their mean keeps the print and cancels the noise and the blocks
(shift-and-add super-resolution). Measured on synth's webcam cards (bench/cardface_bench.py), six
frames averaged read all three values where one frame read almost none.

The frames live only in local variables, as everywhere in this package.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import cv2
import numpy as np

logger = logging.getLogger(__name__)

# The alignment runs on the straightened cards scaled by this factor: enough detail for ECC,
# a quarter of the pixels.
ALIGN_SCALE = 0.5
# A frame whose best alignment correlates less than this with the reference is another view
# (a wrongly found card, a frame turned the other way round, a strong smear): it is left out.
MIN_CORRELATION = 0.75
_ECC_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 60, 1e-4)
# The averaged card's blur, as a Gaussian in card pixels (CARD_WIDTH = 1000): the camera's own
# softness and the upscaling of a 200-260 px card to 1000 px, plus the small misalignments the
# average keeps. Measured on bench steady webcam bursts (two draws, 80 bursts): deconvolving at
# 1.5 read 71 of 80, at 1.2 66, the unsharp mask (reader.sharpen) 64, at 1.0 with 20 rounds 66.
DEBLUR_SIGMA = 1.5
DEBLUR_ROUNDS = 10


def _small_gray(card: np.ndarray) -> np.ndarray:
    gray = cv2.cvtColor(card, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(gray, None, fx=ALIGN_SCALE, fy=ALIGN_SCALE, interpolation=cv2.INTER_AREA)
    return small.astype(np.float32)


def _align(reference: np.ndarray, card: np.ndarray) -> tuple[float, np.ndarray] | None:
    """The affine map that lays `card` onto `reference` (both straightened), with its ECC
    correlation; None when the search does not converge."""
    start = np.eye(2, 3, dtype=np.float32)
    try:
        correlation, found = cv2.findTransformECC(
            reference, _small_gray(card), start, cv2.MOTION_AFFINE, _ECC_CRITERIA,
            None, 5,  # type: ignore[call-overload]  # the stubs lack the gaussFiltSize form
        )
    except cv2.error:
        return None
    warp = np.asarray(found, dtype=np.float32)
    warp[:, 2] /= ALIGN_SCALE  # the translation, back in full-size card pixels
    return float(correlation), warp


def align(cards: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The straightened cards that align with the first (the caller's best frame), laid onto it.

    The corner order of a card found near 45 degrees may flip between frames, so a card that
    does not align as it is (under MIN_CORRELATION) is tried turned round, and the better
    alignment is kept. Trying both every time cost 0.2 s a burst (an ECC search each) for
    nothing: on 819 bench frames of 120 small-card bursts (moving and steady hands), every
    frame aligned as it is and none better turned round. Float32, for averaging.
    """
    if not cards:
        return []
    reference = cards[0]
    ref_gray = _small_gray(reference)
    h, w = reference.shape[:2]
    aligned: list[np.ndarray] = [reference.astype(np.float32)]
    for card in cards[1:]:
        best: tuple[float, np.ndarray, np.ndarray] | None = None
        for turned in (False, True):
            if best is not None and best[0] >= MIN_CORRELATION:
                break
            candidate = cv2.rotate(card, cv2.ROTATE_180) if turned else card
            found = _align(ref_gray, candidate)
            if found is not None and (best is None or found[0] > best[0]):
                best = (found[0], found[1], candidate)
        if best is None or best[0] < MIN_CORRELATION:
            logger.info("card face fuse: a frame did not align and was left out")
            continue
        aligned.append(cv2.warpAffine(
            best[2].astype(np.float32), best[1], (w, h),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE,
        ))
    return aligned


def average(aligned: Sequence[np.ndarray]) -> np.ndarray:
    """The mean of aligned cards (from align()), as a BGR image."""
    total = np.sum(np.stack(aligned), axis=0) / len(aligned)
    return np.clip(total, 0, 255).astype(np.uint8)


def deblur(card: np.ndarray, *, sigma: float = DEBLUR_SIGMA,
           rounds: int = DEBLUR_ROUNDS) -> np.ndarray:
    """Richardson-Lucy deconvolution of an averaged card with a Gaussian point spread.

    The unsharp mask (reader.sharpen) only steepens the edges of a soft stroke; undoing the
    blur itself brings back the small code's gaps (a 0 from an 8, a 3 from a 9). Richardson-Lucy
    keeps the picture positive and, stopped after a few rounds, does not build up ringing.
    """
    observed = card.astype(np.float32) + 1.0  # no division by zero in the ratio below
    estimate = observed.copy()
    for _ in range(rounds):
        blurred = cv2.GaussianBlur(estimate, (0, 0), sigma)
        estimate *= cv2.GaussianBlur(observed / np.maximum(blurred, 1e-3), (0, 0), sigma)
    return np.clip(estimate - 1.0, 0, 255).astype(np.uint8)
