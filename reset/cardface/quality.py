"""Cheap image measures that explain why a straightened card could not be read."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

logger = logging.getLogger(__name__)

# Thresholds measured on bench/cardface_bench.py's synthetic cards warped to 1000 x 631.
# Below HOPELESS_SHARPNESS no reading was ever right, so the OCR is not even run; between the
# two, a failed reading is blamed on blur.
HOPELESS_SHARPNESS = 15.0
SOFT_SHARPNESS = 60.0
# Share of burnt-out pixels: above HOPELESS_GLARE the OCR is skipped; above SOFT_GLARE a failed
# reading is blamed on glare.
HOPELESS_GLARE = 0.30
SOFT_GLARE = 0.03


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
    hsv = cv2.cvtColor(card[h // 20 : h - h // 20, w // 20 : w - w // 20], cv2.COLOR_BGR2HSV)
    burnt = (hsv[:, :, 2] >= 250) & (hsv[:, :, 1] <= 25)
    glare = float(np.count_nonzero(burnt)) / burnt.size
    return Quality(sharpness=sharpness, glare=glare)
