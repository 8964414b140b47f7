"""Cheap image measures that explain why a straightened card could not be read."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

logger = logging.getLogger(__name__)

# Thresholds measured on bench/cardface_bench.py's synthetic cards warped to 1000 x 631.
# The recogniser reads through more blur and glare than these measures suggest, so they only
# skip the OCR when nothing can be left (HOPELESS_*) and otherwise explain a failed reading.
HOPELESS_SHARPNESS = 1.5
SOFT_SHARPNESS = 12.0
HOPELESS_GLARE = 0.85
SOFT_GLARE = 0.12
# A pixel is glare when burnt out AND clearly brighter than the card's own background: a white
# sheet of paper that is merely bright is not glare.
BURNT = 250
ABOVE_BACKGROUND = 8
WASHED_OUT = 252


@dataclass(frozen=True)
class Quality:
    """Sharpness (variance of the Laplacian) and glare (share of saturated white pixels)."""

    sharpness: float
    glare: float


def measure(card: np.ndarray) -> Quality:
    gray = cv2.cvtColor(card, cv2.COLOR_BGR2GRAY)
    # Skip a margin: the warp's replicated border and the card's rounded corners are not text.
    h, w = gray.shape
    inner = gray[h // 20 : h - h // 20, w // 20 : w - w // 20]
    sharpness = float(cv2.Laplacian(inner, cv2.CV_64F).var())
    # The quartile, not the median: a highlight may cover half the card and would lift a median.
    background = float(np.percentile(inner, 25))
    if background >= WASHED_OUT:
        # Most of the card is burnt out: there is no background left to compare with.
        burnt = inner >= WASHED_OUT
    else:
        burnt = (inner >= BURNT) & (inner >= background + ABOVE_BACKGROUND)
    glare = float(np.count_nonzero(burnt)) / burnt.size
    return Quality(sharpness=sharpness, glare=glare)
