"""Quality gates on one face in one frame, each with advice the resident can act on.

The advice codes follow the 【注意】 list of the official app's 顔認証の開始 screen
(shared/seed/official-app-walkthrough-ja.txt, step 6): ① a bright place without glare or
backlight, ② remove masks / sunglasses, ③ hair must not hide the outline or eyebrows, ④ look
straight at the camera. The consumer turns the codes into Japanese text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np
import numpy.typing as npt

from faceverify.geometry import Points
from faceverify.imaging import Image

logger = logging.getLogger(__name__)


class Advice(StrEnum):
    """Why a frame was not usable, in the order they are worth telling the resident."""

    NO_FACE = "no_face"  # ④ カメラを正面に
    MULTIPLE_FACES = "multiple_faces"  # one person only
    TOO_DARK = "too_dark"  # ① 明るい場所で
    BACKLIT = "backlit"  # ① 逆光を避けて
    TOO_BRIGHT = "too_bright"  # ① 照明の反射を避けて
    TOO_SMALL = "too_small"  # come closer
    TOO_LARGE = "too_large"  # move back
    BLURRY = "blurry"  # hold still / clean the lens
    MOUTH_COVERED = "mouth_covered"  # ② マスクを外して
    BROWS_COVERED = "brows_covered"  # ③ 髪で顔が隠れないように
    FACE_FRONT = "face_front"  # ④ カメラを正面に (pose, not asked for)


@dataclass(frozen=True)
class QualityConfig:
    """Thresholds; calibrated on the fixture photos and their darkened / blurred versions."""

    min_face_fraction: float = 0.15  # face box width over frame width
    max_face_fraction: float = 0.85
    min_face_pixels: int = 72
    min_brightness: float = 60.0  # mean gray level inside the face box, 0–255
    max_brightness: float = 215.0
    backlit_ratio: float = 0.55  # face mean over frame mean below this with a bright frame
    min_sharpness: float = 35.0  # variance of the Laplacian on a 128-px-wide face crop
    max_mouth_chroma_gap: float = 24.0  # Lab a*b* distance, lower face vs cheeks
    max_brow_darkening: float = 0.45  # forehead-band luminance drop relative to cheeks


@dataclass(frozen=True)
class Quality:
    """The verdict on one face, with the measured values (numbers only, never pixels)."""

    problems: tuple[Advice, ...]
    brightness: float
    sharpness: float
    face_fraction: float

    @property
    def ok(self) -> bool:
        return not self.problems


def assess(
    image: Image,
    box: tuple[int, int, int, int],
    points: Points,
    config: QualityConfig,
) -> Quality:
    """Gate one face: size, exposure, sharpness, occlusion. box is (left, top, right, bottom)."""
    height, width = image.shape[:2]
    left, top, right, bottom = _clip(box, width, height)
    problems: list[Advice] = []
    gray = np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    face = gray[top:bottom, left:right]
    if face.size == 0:
        return Quality(problems=(Advice.NO_FACE,), brightness=0.0, sharpness=0.0, face_fraction=0.0)

    brightness = float(face.mean())
    frame_mean = float(gray.mean())
    if brightness < config.min_brightness:
        problems.append(Advice.TOO_DARK)
    elif frame_mean > 120 and brightness < config.backlit_ratio * frame_mean:
        problems.append(Advice.BACKLIT)
    elif brightness > config.max_brightness:
        problems.append(Advice.TOO_BRIGHT)

    face_width = right - left
    fraction = face_width / width
    if fraction < config.min_face_fraction or face_width < config.min_face_pixels:
        problems.append(Advice.TOO_SMALL)
    elif fraction > config.max_face_fraction:
        problems.append(Advice.TOO_LARGE)

    sharpness = sharpness_of(face)
    if sharpness < config.min_sharpness:
        problems.append(Advice.BLURRY)

    if not problems:
        # Occlusion is judged only on a well-exposed, sharp face: colour statistics of a dark or
        # smeared face say nothing about a mask.
        problems.extend(_occlusion(image, points, config))
    return Quality(
        problems=tuple(problems), brightness=brightness, sharpness=sharpness, face_fraction=fraction
    )


def sharpness_of(face_gray: npt.NDArray[np.uint8]) -> float:
    """Variance of the Laplacian on the face scaled to 128 px wide, so size does not matter."""
    if face_gray.shape[1] < 8 or face_gray.shape[0] < 8:
        return 0.0
    scale = 128.0 / face_gray.shape[1]
    size = (128, max(8, round(face_gray.shape[0] * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(face_gray, size, interpolation=interpolation)
    return float(cv2.Laplacian(small, cv2.CV_64F).var())


def _occlusion(image: Image, points: Points, config: QualityConfig) -> list[Advice]:
    """Compare the lower face and the forehead band with the cheeks (skin the resident shows).

    A mask changes the colour of everything below the nose; hair over the brows makes the band
    just above them much darker than the cheeks. Both are ratios against the same face's cheeks,
    so skin tone and white balance cancel out.
    """
    eye_span = float(points[45][0] - points[36][0])
    if eye_span <= 4:
        return []
    cheeks = _region_mean(
        image,
        [
            (points[41][0], points[41][1] + 0.1 * eye_span, points[39][0], points[31][1]),
            (points[42][0], points[46][1] + 0.1 * eye_span, points[46][0], points[35][1]),
        ],
    )
    # Between the nostrils and the chin, inside the mouth corners' span, lips excluded.
    chin = _region_mean(
        image,
        [
            (
                points[48][0],
                points[57][1] + 0.05 * eye_span,
                points[54][0],
                points[8][1] - 0.05 * eye_span,
            )
        ],
    )
    brows_top = min(points[19][1], points[24][1])
    band = _region_mean(
        image,
        [(points[19][0], brows_top - 0.25 * eye_span, points[24][0], brows_top - 0.05 * eye_span)],
    )
    found: list[Advice] = []
    if cheeks is not None and chin is not None:
        chroma_gap = float(np.hypot(chin[1] - cheeks[1], chin[2] - cheeks[2]))
        if chroma_gap > config.max_mouth_chroma_gap:
            found.append(Advice.MOUTH_COVERED)
    if cheeks is not None and band is not None and cheeks[0] > 1:
        darkening = (cheeks[0] - band[0]) / cheeks[0]
        if darkening > config.max_brow_darkening:
            found.append(Advice.BROWS_COVERED)
    return found


def _region_mean(
    image: Image, rects: list[tuple[float, float, float, float]]
) -> npt.NDArray[np.float64] | None:
    """Mean Lab colour over the rects. Only their pixels are converted, not the whole frame:
    this runs on every well-exposed frame, and Lab is per pixel, so the values are the same."""
    height, width = image.shape[:2]
    chunks = []
    for x0, y0, x1, y1 in rects:
        left, top, right, bottom = _clip(
            (round(x0), round(y0), round(x1), round(y1)), width, height
        )
        if right - left >= 2 and bottom - top >= 2:
            chunks.append(image[top:bottom, left:right].reshape(-1, 3))
    if not chunks:
        return None
    lab = cv2.cvtColor(np.concatenate(chunks)[np.newaxis], cv2.COLOR_BGR2LAB)[0]
    return np.asarray(lab.astype(np.float64).mean(axis=0), dtype=np.float64)


def _clip(box: tuple[int, int, int, int], width: int, height: int) -> tuple[int, int, int, int]:
    left, top, right, bottom = box
    return max(0, left), max(0, top), min(width, right), min(height, bottom)
