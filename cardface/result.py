"""What reading a card front returns: three values with confidences, or a stable reason code."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum, unique
from typing import Any, Generic, TypeVar

logger = logging.getLogger(__name__)


def gettext_noop(message: str) -> str:
    """Marks a message for makemessages (which knows this name) without importing Django.

    This package is pure Python for the CLI; view.py translates the message when it answers.
    """
    return message


T = TypeVar("T")


@unique
class CardFaceReason(StrEnum):
    """Stable codes for a card front we could not read; the page maps them to Japanese help."""

    TOO_SMALL = "too_small"
    BLURRED = "blurred"
    GLARE = "glare"
    NOT_A_CARD = "not_a_card"
    UNREADABLE = "unreadable"


# Shown by the page (and returned by the view) next to the manual form, which always remains.
# Marked for the catalogue only: the CLI prints them as they are, the view translates them.
MESSAGES_JA: dict[CardFaceReason, str] = {
    CardFaceReason.TOO_SMALL: gettext_noop(
        "カードが小さく写っています。マイナンバーカード(表面)を黒わくいっぱいにあわせて、"
        "もう一度撮影してください。"
    ),
    CardFaceReason.BLURRED: gettext_noop(
        "写真がぼやけています。カードとカメラを動かさず、ピントが合ってから撮影してください。"
    ),
    CardFaceReason.GLARE: gettext_noop(
        "照明が反射して文字が読めません。反射しない向きにカードを傾けて、もう一度撮影してください。"
    ),
    CardFaceReason.NOT_A_CARD: gettext_noop(
        "マイナンバーカード(表面)が見つかりません。カードの表面を黒わくにあわせてください。"
    ),
    CardFaceReason.UNREADABLE: gettext_noop(
        "券面の文字を読み取れませんでした。もう一度撮影するか、下の欄に手で入力してください。"
    ),
}


@dataclass(frozen=True)
class FieldReading(Generic[T]):
    """One value read from the card face and how sure the OCR was of every character in it."""

    value: T
    confidence: float


@dataclass(frozen=True)
class CardFaceReading:
    """The card-face items needed for 照合番号B (spec §6.2), or why they could not be read.

    `reason` is None only when all three values were read. A value that was read on its own
    (say the security code) may still be present next to a reason; the page fills only what is
    present and the resident confirms every field before anything is submitted.
    """

    birth_date: FieldReading[date] | None = None
    expiry_date: FieldReading[date] | None = None
    security_code: FieldReading[str] | None = None
    reason: CardFaceReason | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None

    @classmethod
    def failed(cls, reason: CardFaceReason) -> CardFaceReading:
        return cls(reason=reason)

    def without(self, field: str, reason: CardFaceReason) -> CardFaceReading:
        """This reading with the value `field` left out, and `reason` for it unless the reading
        already says why it fell short (a blur says more to the resident)."""
        return replace(self, **{field: None}, reason=self.reason or reason)

    def to_json_dict(self) -> dict[str, Any]:
        """The JSON shape shared by the CLI, the view and static/reset/cardface.js."""
        out: dict[str, Any] = {
            "ok": self.ok,
            "birth_date": self.birth_date.value.isoformat() if self.birth_date else None,
            "expiry_date": self.expiry_date.value.isoformat() if self.expiry_date else None,
            "security_code": self.security_code.value if self.security_code else None,
            "confidence": {
                name: round(item.confidence, 3)
                for name, item in (
                    ("birth_date", self.birth_date),
                    ("expiry_date", self.expiry_date),
                    ("security_code", self.security_code),
                )
                if item is not None
            },
        }
        if self.reason is not None:
            out["reason"] = self.reason.value
            out["message"] = MESSAGES_JA[self.reason]
        return out
