"""Find the card in a photo and straighten it to a fixed ISO/IEC 7810 ID-1 sized image.

An ID-1 card is 85.6 x 54 mm; the warped card keeps that aspect so that places on the card
(the photo on the right, the security code under it) land at fixed fractions of the image.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

logger = logging.getLogger(__name__)

ID1_ASPECT = 85.6 / 54.0
CARD_WIDTH = 1000
CARD_HEIGHT = round(CARD_WIDTH / ID1_ASPECT)  # 631
# Work on at most this many pixels along the longer side; more only costs time.
MAX_SIDE = 1600
# The quadrilateral must cover this share of the photo: the page asks the resident to fill the
# guide frame, and small blobs (a logo, the photo box) must not be taken for the card.
MIN_AREA_FRACTION = 0.01
# After undoing the perspective, the side ratio must be near ID-1's 1.585 (generous: strong
# tilt foreshortens one side).
ASPECT_RANGE = (1.25, 2.0)
# Without visible edges, the whole image is taken for the card only if shaped like one (the page
# crops its still to the guide frame); a 4:3 or 16:9 camera frame is not.
WHOLE_IMAGE_ASPECT_RANGE = (1.45, 1.75)


@dataclass(frozen=True)
class CardQuad:
    """The card's four corners in image pixels: top-left, top-right, bottom-right, bottom-left."""

    corners: tuple[tuple[float, float], ...]

    @property
    def width_px(self) -> float:
        """The card's length along its long sides, in image pixels (the mean of the two)."""
        c = np.asarray(self.corners)
        return float((np.linalg.norm(c[1] - c[0]) + np.linalg.norm(c[2] - c[3])) / 2)

    @property
    def height_px(self) -> float:
        c = np.asarray(self.corners)
        return float((np.linalg.norm(c[3] - c[0]) + np.linalg.norm(c[2] - c[1])) / 2)


def downscale(image: np.ndarray, *, max_side: int = MAX_SIDE) -> np.ndarray:
    h, w = image.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1.0:
        return image
    return cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)


def _order_corners(pts: np.ndarray) -> np.ndarray:
    """Clockwise from the top-left, with the long side first so the card comes out landscape."""
    center = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - center[1], pts[:, 0] - center[0])
    pts = pts[np.argsort(angles)]  # clockwise in image coordinates (y down)
    start = int(np.argmin(pts.sum(axis=1)))
    pts = np.roll(pts, -start, axis=0)
    top = np.linalg.norm(pts[1] - pts[0]) + np.linalg.norm(pts[2] - pts[3])
    side = np.linalg.norm(pts[3] - pts[0]) + np.linalg.norm(pts[2] - pts[1])
    if side > top:
        # The card stands upright (turned 90 degrees): start one corner later so the long side
        # becomes the top edge. Which of the two 90-degree turns it was is settled by the OCR.
        pts = np.roll(pts, -1, axis=0)
    return pts


def _quad_from_contour(contour: np.ndarray) -> np.ndarray | None:
    hull = cv2.convexHull(contour)
    perimeter = cv2.arcLength(hull, True)
    # Rounded corners give more than four points at small epsilon; widen until four remain.
    for factor in (0.01, 0.02, 0.03, 0.04, 0.06):
        approx = cv2.approxPolyDP(hull, factor * perimeter, True)
        if len(approx) == 4:
            return approx.reshape(4, 2).astype(np.float64)
        if len(approx) < 4:
            break
    return None


def _score(quad: np.ndarray, contour_area: float, image_area: float) -> float | None:
    area = cv2.contourArea(quad.astype(np.float32))
    if area < MIN_AREA_FRACTION * image_area or area > 0.98 * image_area:
        return None
    if contour_area < 0.85 * area:
        return None  # the contour does not fill its quadrilateral: not a card-shaped blob
    ordered = _order_corners(quad)
    q = CardQuad(tuple(map(tuple, ordered)))
    if q.height_px <= 0:
        return None
    aspect = q.width_px / q.height_px
    if not ASPECT_RANGE[0] <= aspect <= ASPECT_RANGE[1]:
        return None
    return area / image_area - abs(aspect - ID1_ASPECT) * 0.05


def _masks(gray: np.ndarray) -> list[np.ndarray]:
    """Binary images in which the card may stand out as one blob, tried in turn."""
    blurred = cv2.GaussianBlur(gray, (5, 5), 0)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5))
    edges = cv2.Canny(blurred, 40, 120)
    edges = cv2.dilate(edges, kernel, iterations=2)
    _, otsu = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    otsu = cv2.morphologyEx(otsu, cv2.MORPH_CLOSE, kernel, iterations=3)
    return [otsu, edges]


def find_card(image: np.ndarray) -> CardQuad | None:
    """The most card-like quadrilateral in a BGR image, or None."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    image_area = float(gray.shape[0] * gray.shape[1])
    best: tuple[float, np.ndarray] | None = None
    for mask in _masks(gray):
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for contour in sorted(contours, key=cv2.contourArea, reverse=True)[:5]:
            quad = _quad_from_contour(contour)
            if quad is None:
                continue
            score = _score(quad, cv2.contourArea(contour), image_area)
            if score is not None and (best is None or score > best[0]):
                best = (score, quad)
        if best is not None:
            break  # the first mask that yields a card is trusted; the next is a fallback
    if best is None:
        return None
    return CardQuad(tuple(map(tuple, _order_corners(best[1]))))


def warp_card(image: np.ndarray, quad: CardQuad) -> np.ndarray:
    """The card alone, perspective-corrected to CARD_WIDTH x CARD_HEIGHT."""
    src = np.asarray(quad.corners, dtype=np.float32)
    dst = np.asarray(
        [[0, 0], [CARD_WIDTH - 1, 0], [CARD_WIDTH - 1, CARD_HEIGHT - 1], [0, CARD_HEIGHT - 1]],
        dtype=np.float32,
    )
    matrix = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(
        image, matrix, (CARD_WIDTH, CARD_HEIGHT), flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_REPLICATE,
    )


def whole_image_as_card(image: np.ndarray) -> np.ndarray | None:
    """When no edge is visible the card may fill the frame (the page crops to the guide)."""
    h, w = image.shape[:2]
    if h > w:
        image = cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE)
        h, w = w, h
    if not WHOLE_IMAGE_ASPECT_RANGE[0] <= w / h <= WHOLE_IMAGE_ASPECT_RANGE[1]:
        return None
    return cv2.resize(image, (CARD_WIDTH, CARD_HEIGHT), interpolation=cv2.INTER_AREA)
