"""Read the card-face items for 照合番号B (spec §6.2) from a camera still of the card's front.

`read_card_face_image(jpeg_bytes)` is the entry point; `view.read_card_front` serves it over HTTP
and `python -m reset.cardface IMAGE` prints its JSON.
"""

from __future__ import annotations

from reset.cardface.reader import read_card_face_image
from reset.cardface.result import MESSAGES_JA, CardFaceReading, FieldReading, Reason

__all__ = ["MESSAGES_JA", "CardFaceReading", "FieldReading", "Reason", "read_card_face_image"]
