"""The small 1-bit PNG images of the 券面AP card face: name, address, security code (§6.3).

DF25 / DF26 / DF2A are 1-bit greyscale PNGs on a real card; the security-code image measured
24×12 (§6.3). The name and address are rendered with Pillow and a Noto CJK font when both are
installed; otherwise the simulator stores a blank image of the same kind (only the signature
over them matters to this project, §6.3 H2). PNG encoding itself is done here with zlib, so the
card needs no imaging library.
"""

from __future__ import annotations

import logging
import struct
import zlib
from functools import lru_cache
from pathlib import Path

logger = logging.getLogger(__name__)

__all__ = ["render_security_code", "render_text", "png_1bit"]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_FONT_CANDIDATES = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"),
)

# 5×7 digits, one string of five 0/1 per row: enough for DF2A's four digits in 24×12.
_DIGITS = {
    "0": ("01110", "10001", "10011", "10101", "11001", "10001", "01110"),
    "1": ("00100", "01100", "00100", "00100", "00100", "00100", "01110"),
    "2": ("01110", "10001", "00001", "00010", "00100", "01000", "11111"),
    "3": ("11110", "00001", "00001", "01110", "00001", "00001", "11110"),
    "4": ("00010", "00110", "01010", "10010", "11111", "00010", "00010"),
    "5": ("11111", "10000", "11110", "00001", "00001", "10001", "01110"),
    "6": ("00110", "01000", "10000", "11110", "10001", "10001", "01110"),
    "7": ("11111", "00001", "00010", "00100", "01000", "01000", "01000"),
    "8": ("01110", "10001", "10001", "01110", "10001", "10001", "01110"),
    "9": ("01110", "10001", "10001", "01111", "00001", "00010", "01100"),
}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_1bit(rows: list[list[bool]]) -> bytes:
    """A 1-bit greyscale PNG; ``True`` is a black (ink) pixel."""
    height = len(rows)
    width = len(rows[0]) if rows else 0
    if not width or any(len(r) != width for r in rows):
        raise ValueError("rows must be a non-empty rectangle")
    raw = bytearray()
    for row in rows:
        raw.append(0)  # filter type None
        packed = bytearray((width + 7) // 8)
        for x, ink in enumerate(row):
            if not ink:  # 1 = white in greyscale
                packed[x // 8] |= 0x80 >> (x % 8)
        raw += packed
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        _PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + _chunk(b"IEND", b"")
    )


def render_security_code(code: str) -> bytes:
    """DF2A: the four digits in a 24×12 1-bit PNG (size as on the surveyed card, §6.3)."""
    width, height = 6 * len(code), 12
    rows = [[False] * width for _ in range(height)]
    for i, digit in enumerate(code):
        glyph = _DIGITS[digit]
        for y, line in enumerate(glyph):
            for x, bit in enumerate(line):
                rows[y + 2][6 * i + x] = bit == "1"
    return png_1bit(rows)


@lru_cache(maxsize=64)
def render_text(text: str, *, height: int = 40) -> bytes:
    """DF25 / DF26: ``text`` rendered in black on white as a 1-bit PNG, as wide as it needs."""
    width = 8 + height * 3 // 5 * max(1, len(text))
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        logger.warning("Pillow missing; storing a blank name/address image")
        return png_1bit([[False] * width for _ in range(height)])
    font_path = next((p for p in _FONT_CANDIDATES if p.exists()), None)
    if font_path is None:
        logger.warning("no CJK font found; storing a blank name/address image")
        return png_1bit([[False] * width for _ in range(height)])
    font = ImageFont.truetype(str(font_path), size=height * 3 // 5)
    width = 8 + int(font.getlength(text))
    image = Image.new("L", (width, height), 255)
    ImageDraw.Draw(image).text((4, height // 8), text, fill=0, font=font)
    pixels = image.load()
    assert pixels is not None  # noqa: S101 - Image.load() returns None only for closed images
    return png_1bit([[int(pixels[x, y]) < 128 for x in range(width)] for y in range(height)])  # type: ignore[arg-type]
