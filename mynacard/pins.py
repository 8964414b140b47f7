"""PIN kinds, their formats, and 照合番号B from the card face (spec §4.3, §6.2).

Everything here runs BEFORE a value is sent to a card: a malformed PIN raises
:class:`~mynacard.errors.InvalidPinFormatError` and never costs a try. Values are never logged.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum, unique

from mynacard.errors import InvalidPinFormatError

logger = logging.getLogger(__name__)

__all__ = [
    "ERAS",
    "Era",
    "PinKind",
    "PinStatus",
    "make_birth_date_key",
    "make_pin_b",
    "normalize_pin",
    "to_wareki",
]


@unique
class PinKind(StrEnum):
    """The credentials this project reads or presents."""

    JPKI_AUTH = "jpki_auth"  # 利用者証明用 PIN, JPKI EF 0018 (§4.3)
    JPKI_SIGN = "jpki_sign"  # 署名用 password, JPKI EF 001B (§4.3)
    VISUAL_PIN_B = "visual_pin_b"  # 照合番号B, 券面AP EF 0012 (§6.2)
    TEXT_PIN = "text_pin"  # 券面事項入力補助用 PIN, text AP EF 0011 (§5.1)
    JUKI_PIN = "juki_pin"  # 住基 PIN, 住基AP EF 001C (§7)


@dataclass(frozen=True)
class PinStatus:
    """A key's retry counter, read without spending a try (empty VERIFY, §4.4)."""

    kind: PinKind
    tries_left: int
    max_tries: int | None
    blocked: bool


# Four digits for every 4-digit PIN (§4.3); 6–16 of A–Z 0–9 with a letter and a digit for the
# signature password (§4.3; upper-case first, the card compares bytes); 14 digits for 照合番号B.
_FOUR_DIGITS = re.compile(r"[0-9]{4}")
_SIGN_PASSWORD = re.compile(r"(?=[A-Z0-9]*[A-Z])(?=[A-Z0-9]*[0-9])[A-Z0-9]{6,16}")
_PIN_B = re.compile(r"[0-9]{14}")
_SECURITY_CODE = re.compile(r"[0-9]{4}")

_FORMAT_HELP = {
    PinKind.JPKI_AUTH: "4 digits",
    PinKind.TEXT_PIN: "4 digits",
    PinKind.JUKI_PIN: "4 digits",
    PinKind.JPKI_SIGN: "6-16 of A-Z and 0-9 with at least one letter and one digit",
    PinKind.VISUAL_PIN_B: "14 digits",
}


def normalize_pin(kind: PinKind, value: str) -> str:
    """Validate ``value`` for ``kind`` and return what the card expects (upper-cased password).

    The error message names the expected format, never the value.
    """
    if not isinstance(value, str):
        raise InvalidPinFormatError(f"{kind.value}: expected text")
    # ASCII first: "ß".upper() is "SS", which would turn a non-password into a valid one.
    if not value.isascii():
        raise InvalidPinFormatError(f"{kind.value}: expected {_FORMAT_HELP[kind]}")
    candidate = value.upper() if kind is PinKind.JPKI_SIGN else value
    pattern = {
        PinKind.JPKI_AUTH: _FOUR_DIGITS,
        PinKind.TEXT_PIN: _FOUR_DIGITS,
        PinKind.JUKI_PIN: _FOUR_DIGITS,
        PinKind.JPKI_SIGN: _SIGN_PASSWORD,
        PinKind.VISUAL_PIN_B: _PIN_B,
    }[kind]
    # fullmatch on an ASCII class: full-width digits and trailing newlines cannot pass.
    if pattern.fullmatch(candidate) is None:
        raise InvalidPinFormatError(f"{kind.value}: expected {_FORMAT_HELP[kind]}")
    return candidate


@dataclass(frozen=True)
class Era:
    """A Japanese era: its name and the first day of its year 1 (§6.2)."""

    name: str
    start: date


#: Newest first, so the first era that started on or before a date is its era (§6.2).
ERAS: tuple[Era, ...] = (
    Era("令和", date(2019, 5, 1)),
    Era("平成", date(1989, 1, 8)),
    Era("昭和", date(1926, 12, 25)),
    Era("大正", date(1912, 7, 30)),
    Era("明治", date(1868, 1, 25)),
)


def to_wareki(day: date) -> tuple[Era, int]:
    """The era of ``day`` and the year within it (元年 = 1)."""
    for era in ERAS:
        if day >= era.start:
            return era, day.year - era.start.year + 1
    raise InvalidPinFormatError("dates before 明治 (1868-01-25) have no era year")


def make_birth_date_key(birth_date: date) -> str:
    """和暦 ``YYMMDD`` of the birth date: the era year as two digits, as printed (§6.2)."""
    _, year = to_wareki(birth_date)
    if year > 99:
        raise InvalidPinFormatError("era year does not fit two digits")
    return f"{year:02d}{birth_date.month:02d}{birth_date.day:02d}"


def make_pin_b(birth_date: date, card_expiry: date, security_code: str) -> str:
    """照合番号B: 和暦 birth ``YYMMDD`` ‖ expiry year ``YYYY`` ‖ 4-digit security code (§6.2).

    Example (§6.2, confirmed on a card): born 1980-02-17 (昭和55), expiry 2035, code 2285 →
    ``"55021720352285"``.
    """
    if not isinstance(security_code, str) or _SECURITY_CODE.fullmatch(security_code) is None:
        raise InvalidPinFormatError("security code: expected 4 digits")
    if not 1000 <= card_expiry.year <= 9999:
        raise InvalidPinFormatError("card expiry year must have 4 digits")
    return normalize_pin(
        PinKind.VISUAL_PIN_B,
        make_birth_date_key(birth_date) + f"{card_expiry.year:04d}" + security_code,
    )
