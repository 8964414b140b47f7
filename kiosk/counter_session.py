"""What a counter-reset session is made of, shared by the clerk's console and the counter terminal.

A counter session (issue 12, counter resets) joins two browsers that never talk to each other:
the clerk's console (staff app) and the resident-facing keypad page on the counter terminal
(`/kiosk/counter/`, with the card on its reader behind `myna-bridge --kiosk`). They meet over the
channel layer only, so the pairing works across server processes without any stored row:

1. The terminal's socket is given a random **terminal code** it shows on its idle screen, and
   joins the group ``counter-terminal-<code>``.
2. The clerk types that code into the console together with the identity check; the console's
   socket sends ``counter.bind`` (who checked, document type, reason, operation) to that group.
   Only a verified clerk can send it, so guessing codes gains a stranger nothing; two terminals
   answering one code abort the session.
3. Both sides then follow the session group ``counter-<session>``: the terminal reports
   progress there, the clerk's socket relays ``execute`` and ``cancel`` to the terminal.

No password, card-face item or photo is ever part of a channel message: progress messages are
built here from fixed fields only (:func:`progress`).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum, unique
from typing import Any

from kiosk.counter import CounterReason, CredentialChange
from mynacard.constants import MAX_TRIES_FOUR_DIGIT, MAX_TRIES_JPKI_AUTH, MAX_TRIES_JPKI_SIGN
from mynacard.issuer import CounterCredential

#: Digits of the terminal code: 10^8 codes, so a stranger who opens many terminal pages in the
#: hope of catching a clerk's typed code almost never holds it (and a collision aborts).
TERMINAL_CODE_DIGITS = 8


@unique
class CounterOperation(StrEnum):
    """What the clerk chose to reset (a stable code; the terminal derives its screens from it)."""

    BOTH_FORGOTTEN = "both_forgotten"  # 署名用 and 利用者証明用, both new
    SIGN_LOCKED_RESET = "sign_locked_reset"
    SIGN_LOCKED_UNBLOCK = "sign_locked_unblock"
    AUTH_LOCKED_RESET = "auth_locked_reset"
    AUTH_LOCKED_UNBLOCK = "auth_locked_unblock"
    TEXT_PIN = "text_pin"  # 券面事項入力補助用暗証番号
    JUKI_PIN = "juki_pin"  # 住民基本台帳用暗証番号


@dataclass(frozen=True)
class OperationPlan:
    """The reason an operation belongs to, its credentials, and whether each gets a new value."""

    reason: CounterReason
    credentials: tuple[CounterCredential, ...]
    new_values: bool = True

    def changes(self, values: Mapping[CounterCredential, str]) -> list[CredentialChange]:
        if not self.new_values:
            return [CredentialChange(credential) for credential in self.credentials]
        return [CredentialChange(c, values[c], values[c]) for c in self.credentials]


_SIGN, _AUTH = CounterCredential.SIGN, CounterCredential.AUTH
PLANS: Mapping[CounterOperation, OperationPlan] = {
    # One authenticated session resets both (docs/issuer-channel.md, steps 3 and 3′).
    CounterOperation.BOTH_FORGOTTEN: OperationPlan(CounterReason.BOTH_FORGOTTEN, (_SIGN, _AUTH)),
    CounterOperation.SIGN_LOCKED_RESET: OperationPlan(CounterReason.KEY_LOCKED, (_SIGN,)),
    CounterOperation.SIGN_LOCKED_UNBLOCK: OperationPlan(CounterReason.KEY_LOCKED, (_SIGN,), False),
    CounterOperation.AUTH_LOCKED_RESET: OperationPlan(CounterReason.KEY_LOCKED, (_AUTH,)),
    CounterOperation.AUTH_LOCKED_UNBLOCK: OperationPlan(CounterReason.KEY_LOCKED, (_AUTH,), False),
    CounterOperation.TEXT_PIN: OperationPlan(
        CounterReason.FOUR_DIGIT_PIN, (CounterCredential.TEXT,)
    ),
    CounterOperation.JUKI_PIN: OperationPlan(
        CounterReason.FOUR_DIGIT_PIN, (CounterCredential.JUKI,)
    ),
}

#: Each key's full retry counter (spec §4.4; the two 4-digit PINs share theirs).
FULL_TRIES: Mapping[CounterCredential, int] = {
    CounterCredential.SIGN: MAX_TRIES_JPKI_SIGN,
    CounterCredential.AUTH: MAX_TRIES_JPKI_AUTH,
    CounterCredential.TEXT: MAX_TRIES_FOUR_DIGIT,
    CounterCredential.JUKI: MAX_TRIES_FOUR_DIGIT,
}


@unique
class Progress(StrEnum):
    """What the clerk's screen may learn about the terminal: states, never values."""

    WAITING_TERMINAL = "waiting_terminal"
    PAIRED = "paired"
    CARD_PRESENT = "card_present"
    WAITING_INPUT = "waiting_input"
    READY = "ready"
    WORKING = "working"
    DONE = "done"
    COUNTER_FULL = "counter_full"
    FAILED = "failed"
    CANCELLED = "cancelled"


def new_terminal_code() -> str:
    return f"{secrets.randbelow(10**TERMINAL_CODE_DIGITS):0{TERMINAL_CODE_DIGITS}d}"


def is_terminal_code(text: str) -> bool:
    return len(text) == TERMINAL_CODE_DIGITS and text.isascii() and text.isdigit()


def terminal_group(code: str) -> str:
    return f"counter-terminal-{code}"


def session_group(session: str) -> str:
    return f"counter-{session}"


def progress(
    state: Progress,
    *,
    reason: str = "",
    tries: Mapping[CounterCredential, int] | None = None,
    full: bool | None = None,
) -> dict[str, Any]:
    """A progress message for the session group: only these fields ever leave the terminal."""
    message: dict[str, Any] = {"type": "counter.progress", "state": state.value}
    if reason:
        message["reason"] = reason
    if tries is not None:
        message["tries"] = {credential.value: int(n) for credential, n in tries.items()}
    if full is not None:
        message["full"] = full
    return message
