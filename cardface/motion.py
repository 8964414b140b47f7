"""Motion blur of a hand-held card: measure its direction and length, and try to undo it.

A card moved during the exposure is smeared along one straight line. Two cheap measures find it:

along the smear, the derivative of a box-smeared image is the difference of two copies of the
scene `length` pixels apart, so its autocorrelation has a clear negative dip at that lag (the
classic Yitzhaky-Kopeika estimate). The direction is the one, among twelve, with the deepest dip
(the structure tensor was tried first, but the card's horizontal text lines bias it by 15-30
degrees on diagonal smears); the length is that dip's lag.

Deconvolution is a Wiener filter with the measured straight-line kernel, done with OpenCV's DFT.
It restores text well enough to read when the measure is right; when it is wrong the text comes
out garbled rather than changed into other text, and the parser's confidence rules drop it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

logger = logging.getLogger(__name__)

# Below this a smear is no worse than the camera's own softness and is left alone.
MIN_LENGTH = 4.0
# A sharp photo's own noise, stroke edges and the search's rotation (its interpolation smooths
# diagonals) make dips at lags 1-3; only dips from lag 4 on are taken for a smear, so shorter
# smears are left to the OCR, which reads through them.
MIN_LAG = 4
# Longer smears are not searched: the card's text (8-30 px tall) is gone by then anyway.
MAX_LENGTH = 24
# How prominent the autocorrelation's dip must be before its lag is taken for a smear length.
MIN_PROMINENCE = 0.15
# Search step for the smear's direction, degrees.
COARSE_STEP = 15.0
# The dip falls this much short of the kernel length (measured on synth's smears of 5-11 px).
LAG_TO_LENGTH = 0.75
# Wiener noise-to-signal ratio: higher rings less but restores less.
WIENER_NSR = 0.012


@dataclass(frozen=True)
class MotionBlur:
    """A straight smear: `length` in pixels (0 when none was found), `angle` in degrees [0, 180)."""

    length: float
    angle: float

    @property
    def present(self) -> bool:
        return self.length >= MIN_LENGTH


NONE = MotionBlur(0.0, 0.0)


def _gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return image.astype(np.float32)


def _rotate(gray: np.ndarray, angle: float) -> np.ndarray:
    """The image turned so that a line at `angle` degrees becomes horizontal."""
    h, w = gray.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(gray, matrix, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT)


def _dip(gray: np.ndarray, angle: float) -> tuple[float, float]:
    """How prominent the best dip in the derivative's autocorrelation along `angle` is, and
    its lag; (0, 0) when there is no interior dip at all."""
    turned = _rotate(gray, angle)
    h, w = turned.shape
    # Only the middle (the rotation's reflected corners are not the scene), and every other
    # row: rows are independent samples and half of them say as much.
    inner = turned[h // 6 : h - h // 6 : 2, w // 6 : w - w // 6]
    d = np.diff(inner, axis=1)
    d = d - d.mean()
    energy = float((d * d).mean())
    if energy <= 1e-9 or d.shape[1] <= MAX_LENGTH + 4:
        return 0.0, 0.0
    corr = np.array([1.0] + [float((d[:, k:] * d[:, :-k]).mean()) / energy
                             for k in range(1, MAX_LENGTH + 4)])
    best = (0.0, 0.0)
    for i in range(MIN_LAG, MAX_LENGTH + 1):
        if not (corr[i] < corr[i - 1] and corr[i] <= corr[i + 1]):
            continue
        # Prominence: how far the dip lies below the higher ground on both sides of it; a
        # smear's dip stands alone, the slow negative tail of stroke edges does not.
        prominence = min(corr[i - 3 : i].max(), corr[i + 1 : i + 4].max()) - corr[i]
        if prominence > best[0]:
            left, mid, right = corr[i - 1], corr[i], corr[i + 1]
            denom = left - 2 * mid + right
            lag = i + (0.5 * (left - right) / denom if denom > 1e-9 else 0.0)
            best = (float(prominence), float(lag))
    return best


def estimate(image: np.ndarray) -> MotionBlur:
    """The straight smear in a BGR or gray image (ideally just the card and a little margin).

    Measured on synth's cards 800 px wide it finds 5-11 px smears within a pixel and 15
    degrees. On cards too small for their code in one still (reader.CODE_MIN_CARD_WIDTH_PX)
    it is not used: there are too few text rows.
    """
    gray = _gray(image)
    if min(gray.shape) < 48:
        return NONE
    scored = [(_dip(gray, a), a) for a in np.arange(0.0, 180.0, COARSE_STEP)]
    # Stroke edges and the rotation's interpolation also make dips, but short ones (lags 4-5,
    # in many directions); a smear's dip lies at its full length. Among the clear dips, the
    # one weighing most by prominence times lag is taken.
    clear = [(p, lag, a) for (p, lag), a in scored if p >= MIN_PROMINENCE]
    if not clear:
        return NONE
    _, lag, angle = max(clear, key=lambda item: item[0] * item[1])
    length = lag + LAG_TO_LENGTH
    if length < MIN_LENGTH:
        return NONE
    return MotionBlur(length, float(angle) % 180.0)


def kernel(length: float, angle: float) -> np.ndarray:
    """A normalised straight line of `length` pixels at `angle` degrees."""
    size = max(3, int(np.ceil(length)) | 1)
    out = np.zeros((size, size), dtype=np.float32)
    centre = (size - 1) / 2
    theta = np.deg2rad(angle)
    # Sampled densely with bilinear weights, so fractional lengths and angles stay smooth.
    for t in np.linspace(-(length - 1) / 2, (length - 1) / 2, max(2, int(length * 8))):
        x, y = centre + t * np.cos(theta), centre + t * np.sin(theta)
        x0, y0 = int(np.floor(x)), int(np.floor(y))
        fx, fy = x - x0, y - y0
        for dx, dy, weight in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)),
                               (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
            if 0 <= x0 + dx < size and 0 <= y0 + dy < size:
                out[y0 + dy, x0 + dx] += weight
    return out / out.sum()


def _wiener_channel(channel: np.ndarray, psf: np.ndarray, nsr: float) -> np.ndarray:
    h, w = channel.shape
    padded = np.zeros((h, w), dtype=np.float32)
    kh, kw = psf.shape
    padded[:kh, :kw] = psf
    # Centre the kernel on the origin so the result is not shifted.
    padded = np.roll(padded, (-(kh // 2), -(kw // 2)), axis=(0, 1))
    img_f = cv2.dft(channel, flags=cv2.DFT_COMPLEX_OUTPUT)
    psf_f = cv2.dft(padded, flags=cv2.DFT_COMPLEX_OUTPUT)
    power = psf_f[:, :, 0] ** 2 + psf_f[:, :, 1] ** 2
    denom = power + nsr
    # Wiener filter: conj(H) / (|H|^2 + NSR).
    filt = np.stack([psf_f[:, :, 0] / denom, -psf_f[:, :, 1] / denom], axis=2)
    out_f = cv2.mulSpectrums(img_f, filt.astype(np.float32), 0)
    return cv2.idft(out_f, flags=cv2.DFT_SCALE | cv2.DFT_REAL_OUTPUT)


def deconvolve(image: np.ndarray, blur: MotionBlur, *, nsr: float = WIENER_NSR) -> np.ndarray:
    """The BGR image with the straight smear undone as far as a Wiener filter can."""
    psf = kernel(blur.length, blur.angle)
    pad = psf.shape[0] * 2
    # Reflect the borders first: the DFT wraps round, and a hard edge would ring over the card.
    framed = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REFLECT).astype(np.float32)
    channels = [_wiener_channel(framed[:, :, i], psf, nsr) for i in range(framed.shape[2])]
    restored = np.stack(channels, axis=2)[pad:-pad, pad:-pad]
    return np.clip(restored, 0, 255).astype(np.uint8)
