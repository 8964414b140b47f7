"""The new password, checked before anything reaches the card (issue 11; architecture.md table).

署名用パスワード: 6–16 of A–Z and 0–9 with at least one letter and one digit (spec §4.3).
利用者証明用パスワード (and, at the counter, 券面事項入力補助用 and 住基 PINs):
4 digits, and not an easily guessed one: not the birth date (月日 or the
year), not one repeated digit, not an ascending or descending run like 1234 or 9876. The kiosk
page checks the same rules (static/kiosk/kiosk.js) so the resident hears at once; the server
checks again because the page is not trusted. The value is never logged.
"""

from __future__ import annotations

import logging
from datetime import date
from enum import StrEnum, unique

from mynacard.errors import InvalidPinFormatError
from mynacard.issuer import PIN_KIND_FOR_CREDENTIAL, CounterCredential
from mynacard.pins import PinKind, normalize_pin
from mynacard.targets import TargetPassword

logger = logging.getLogger(__name__)


@unique
class PasswordProblem(StrEnum):
    """Why a new password is refused (stable codes; Japanese text in kiosk.messages)."""

    MISMATCH = "mismatch"
    FORMAT = "format"
    BIRTH_DATE = "birth_date"
    REPEATED = "repeated"
    SEQUENCE = "sequence"


def _is_run(digits: str) -> bool:
    steps = {int(b) - int(a) for a, b in zip(digits, digits[1:], strict=False)}
    return steps in ({1}, {-1})


def _birth_date_forms(birth: date) -> set[str]:
    return {f"{birth:%m%d}", f"{birth:%Y}", f"{birth:%d%m}"}


def check_new_password(
    target: TargetPassword | CounterCredential,
    value: str,
    confirm: str,
    *,
    birth_date: date | None = None,
) -> PasswordProblem | None:
    """None when ``value`` may be sent to the card; otherwise the first problem found."""
    if value != confirm:
        return PasswordProblem.MISMATCH
    kind = PIN_KIND_FOR_CREDENTIAL[CounterCredential(target.value)]
    try:
        normalized = normalize_pin(kind, value)
    except InvalidPinFormatError:
        return PasswordProblem.FORMAT
    if kind is not PinKind.JPKI_SIGN:  # every 4-digit PIN (the counter resets two more)
        if len(set(normalized)) == 1:
            return PasswordProblem.REPEATED
        if _is_run(normalized):
            return PasswordProblem.SEQUENCE
        if birth_date is not None and normalized in _birth_date_forms(birth_date):
            return PasswordProblem.BIRTH_DATE
    elif birth_date is not None and f"{birth_date:%Y%m%d}" in normalized:
        return PasswordProblem.BIRTH_DATE
    return None
