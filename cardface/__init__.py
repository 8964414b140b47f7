"""Read the card-face items for 照合番号B (spec §6.2) from a camera still of the card's front.

`read_card_face_image(jpeg_bytes)` reads one still and `read_card_burst_bytes(frames)` a short
burst of live camera frames (cardface/burst.py); the wizard serves it over HTTP
(`reset.cardface_view.read_card_front`) and `python -m cardface IMAGE` prints its JSON. Framework
free: no Django here (tests/test_package_boundaries.py).
"""

from __future__ import annotations

from cardface.burst import read_card_burst, read_card_burst_bytes
from cardface.reader import read_card_face_image
from cardface.result import MESSAGES_JA, CardFaceReading, CardFaceReason, FieldReading

__all__ = [
    "MESSAGES_JA", "CardFaceReading", "CardFaceReason", "FieldReading", "read_card_burst",
    "read_card_burst_bytes", "read_card_face_image",
]
