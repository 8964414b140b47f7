"""Errors raised by the mynacard package.

Sessions translate status words into these exactly once (style.md, "Few errors, carrying
meaning"); nothing above a session re-parses a status word.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

__all__ = [
    "ApduError",
    "ApplicationNotFoundError",
    "BadResponseError",
    "CardError",
    "FileNotFoundOnCardError",
    "InvalidPinFormatError",
    "NotMyNumberCardError",
    "PinBlockedError",
    "SecurityStatusError",
    "WrongPinError",
]


class CardError(Exception):
    """Base class of every error that comes from talking to a card."""


class ApduError(CardError):
    """A status word other than 9000 that no session translated into a named error."""

    def __init__(self, sw: int, message: str | None = None) -> None:
        self.sw = sw
        super().__init__(message or f"card answered SW={sw:04X}")


class BadResponseError(CardError):
    """The card's data does not have the structure the spec describes (every parser raises this)."""


class ApplicationNotFoundError(CardError):
    """SELECT of an application by DF name was refused: 6A82, or a status word of a card that
    does not know the command at all (spec §2.1, §8); ``sw`` says which."""

    def __init__(self, sw: int = 0x6A82) -> None:
        self.sw = sw
        super().__init__(f"application not found ({sw:04X})")


class FileNotFoundOnCardError(CardError):
    """SELECT of an EF answered 6A82 (spec §2.1). Named so as not to shadow FileNotFoundError."""


class SecurityStatusError(CardError):
    """6982: the operation needs a credential that has not been verified (spec §4.4, §8)."""


class WrongPinError(CardError):
    """63Cx after a VERIFY: the value was wrong; ``tries_left`` may be 0 (= just locked, §4.4)."""

    def __init__(self, tries_left: int) -> None:
        self.tries_left = tries_left
        super().__init__(f"wrong PIN, {tries_left} tries left")


class PinBlockedError(CardError):
    """6984: the key is blocked; the card did not even compare the value (spec §4.4)."""

    def __init__(self, message: str = "the PIN is blocked") -> None:
        super().__init__(message)


class NotMyNumberCardError(CardError):
    """The JPKI token label is not ``JPKIAPICCTOKEN2`` (e.g. an old 住基カード's
    ``JPKIAPICCTOKEN``, §4.2): the card is identified by this label, never by its ATR (§1)."""

    def __init__(self, label: str) -> None:
        self.label = label
        super().__init__(f"not a My Number Card: JPKI token label {label!r}")


class InvalidPinFormatError(ValueError):
    """A PIN or 照合番号 of the wrong shape, rejected BEFORE anything is sent to the card."""
