"""Decoding and resizing of untrusted image bytes (JPEG frames, JP2/JPEG/PNG references)."""

from __future__ import annotations

import logging
import struct

import cv2
import numpy as np
import numpy.typing as npt

logger = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]  # BGR, H×W×3

# OpenCV decodes anything up to CV_IO_MAX_IMAGE_PIXELS (2^30) by default, and a flat 200 KB JPEG
# can declare tens of megapixels: the sides are read from the file header and checked *before*
# any pixel is decoded, so an oversized image never costs memory. Only the three formats the face
# check needs reach OpenCV's decoders at all (a smaller attack surface than "anything imread
# knows").
MAX_FRAME_SIDE = 1280  # camera frames (the page sends 640 px wide); also the default for references
MAX_FRAME_BYTES = 200 * 1024  # a 640×480 JPEG at quality 0.8 is 30–60 KB
MIN_FRAME_SIDE = 120

JPEG = "jpeg"
PNG = "png"
JP2 = "jp2"
ALL_FORMATS: frozenset[str] = frozenset({JPEG, PNG, JP2})

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
_J2K_CODESTREAM = b"\xff\x4f\xff\x51"  # SOC followed by SIZ (ISO/IEC 15444-1 A.4.1, A.5.1)
# JPEG start-of-frame markers (ITU-T T.81 B.1.1.3): C0–CF except DHT (C4), JPG (C8), DAC (CC).
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


class ImageError(ValueError):
    """The bytes are not a usable image."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def decode(
    data: bytes,
    *,
    max_side: int = MAX_FRAME_SIDE,
    min_side: int = MIN_FRAME_SIDE,
    formats: frozenset[str] = ALL_FORMATS,
) -> Image:
    """BGR pixels of a JPEG, PNG or JPEG 2000 file; ImageError("undecodable"|"dimensions").

    `formats` narrows what is accepted (camera frames: JPEG only). The declared size is checked
    against the limits before decoding.
    """
    kind, size = header_size(data)
    if kind not in formats:
        raise ImageError("undecodable")
    if size is None:
        raise ImageError("undecodable")
    if max(size) > max_side or min(size) < min_side:
        raise ImageError("dimensions")
    buffer = np.frombuffer(data, dtype=np.uint8)
    image = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
    if image is None or image.ndim != 3 or image.shape[2] != 3:
        raise ImageError("undecodable")
    height, width = image.shape[:2]
    if (width, height) not in (size, size[::-1]):  # EXIF rotation may swap the sides; else a lie
        raise ImageError("dimensions")
    return np.ascontiguousarray(image, dtype=np.uint8)


def header_size(data: bytes) -> tuple[str | None, tuple[int, int] | None]:
    """(format, (width, height)) as the file header declares them, without decoding pixels.

    format is "jpeg", "png", "jp2" or None (not one of them); the size is None when the header is
    truncated or malformed.
    """
    if data[:3] == b"\xff\xd8\xff":
        return JPEG, _jpeg_size(data)
    if data[:8] == _PNG_SIGNATURE:
        return PNG, _png_size(data)
    if data[:12] == _JP2_SIGNATURE:
        return JP2, _jp2_size(data)
    if data[:4] == _J2K_CODESTREAM:
        return JP2, _j2k_size(data, 4)
    return None, None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    # Walk the marker segments (T.81 B.1.1.4) up to the first SOFn, which carries Y then X.
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # TEM, RSTn: no length field
            pos += 2
            continue
        if marker in (0xD9, 0xDA):  # EOI or SOS before any frame header
            return None
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if length < 2:
            return None
        if marker in _JPEG_SOF:
            if pos + 9 > len(data):
                return None
            height, width = struct.unpack_from(">HH", data, pos + 5)
            return (width, height) if width and height else None  # height 0: DNL, refused
        pos += 2 + length
    return None


def _png_size(data: bytes) -> tuple[int, int] | None:
    # The first chunk must be IHDR: width and height, 4 bytes each (PNG spec 11.2.2).
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack_from(">II", data, 16)
    return (width, height) if width and height else None


def _jp2_size(data: bytes) -> tuple[int, int] | None:
    # Top-level boxes (ISO/IEC 15444-1 I.4): the JP2 header box holds the image header box
    # (HEIGHT, WIDTH); fall back to the contiguous codestream's SIZ.
    pos = 0
    while pos + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if length == 1:
            if pos + 16 > len(data):
                return None
            (length,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif length == 0:
            length = len(data) - pos
        if length < header:
            return None
        if kind == b"jp2h":
            inner = data[pos + header : pos + length]
            if inner[4:8] == b"ihdr" and len(inner) >= 16:
                height, width = struct.unpack_from(">II", inner, 8)
                return (width, height) if width and height else None
            return None
        if kind == b"jp2c":
            start = pos + header
            if data[start : start + 4] != _J2K_CODESTREAM:
                return None
            return _j2k_size(data, start + 4)
        pos += length
    return None


def _j2k_size(data: bytes, pos: int) -> tuple[int, int] | None:
    # SIZ: Lsiz, Rsiz, Xsiz, Ysiz, XOsiz, YOsiz (ISO/IEC 15444-1 A.5.1).
    if pos + 20 > len(data):
        return None
    xsiz, ysiz, xo, yo = struct.unpack_from(">IIII", data, pos + 4)
    width, height = xsiz - xo, ysiz - yo
    return (width, height) if width > 0 and height > 0 else None


def scale_to_width(image: Image, width: int) -> tuple[Image, float]:
    """A copy no wider than `width` and the factor (≤ 1) that maps full-size coordinates to it."""
    current = image.shape[1]
    if current <= width:
        return image, 1.0
    factor = width / current
    size = (width, max(1, round(image.shape[0] * factor)))
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8), factor


def to_gray(image: Image) -> npt.NDArray[np.uint8]:
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)


def to_rgb(image: Image) -> Image:
    return np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), dtype=np.uint8)
