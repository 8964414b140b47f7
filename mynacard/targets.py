"""The two passwords a reservation can reset (architecture.md, table of reset targets)."""

from __future__ import annotations

from enum import StrEnum, unique

from mynacard.challenge import (
    KEY_FOR_PURPOSE,
    PURPOSE_RESERVE_AUTH_RESET,
    PURPOSE_RESERVE_SIGN_RESET,
)
from mynacard.jpki import KeyKind


@unique
class TargetPassword(StrEnum):
    """The password the resident wants reset; the value is what pages, APIs and the database use."""

    SIGN = "sign"  # 署名用パスワード: proven with the 利用者証明用 PIN (JPKI user-auth key)
    AUTH = "auth"  # 利用者証明用パスワード: proven with the 署名用 password (JPKI signature key)


# The purpose a reservation for each target is signed under. Its JPKI key is not listed here:
# it follows from the purpose (mynacard.challenge.KEY_FOR_PURPOSE), so the two can never disagree.
_PURPOSES: dict[TargetPassword, str] = {
    TargetPassword.SIGN: PURPOSE_RESERVE_SIGN_RESET,
    TargetPassword.AUTH: PURPOSE_RESERVE_AUTH_RESET,
}


def purpose_for(target: TargetPassword) -> str:
    """The challenge purpose (mynacard.challenge) of a reservation that resets ``target``."""
    return _PURPOSES[target]


def key_for(target: TargetPassword) -> KeyKind:
    """The JPKI key that proves the holder when ``target`` is reset: the *other* password's."""
    return KeyKind.named(KEY_FOR_PURPOSE[purpose_for(target)])

