"""Counter resets refused before any APDU exists (kiosk.counter, issue 12): the new password's
rules for every credential, and authorisations that do not match the case."""

from __future__ import annotations

import pytest

from kiosk.counter import (
    CounterReason,
    CounterReset,
    CounterResetError,
    CredentialChange,
    IdentityCheck,
    IdentityDocument,
)
from kiosk.issuer import SimulatedIssuer
from kiosk.password_rules import PasswordProblem, check_new_password
from mynacard.issuer import CounterCredential

IDENTITY = "ab" * 32
BACKEND = SimulatedIssuer(bytes(32))
SIGN, AUTH, TEXT, JUKI = (
    CounterCredential.SIGN,
    CounterCredential.AUTH,
    CounterCredential.TEXT,
    CounterCredential.JUKI,
)


@pytest.mark.parametrize("credential", [AUTH, TEXT, JUKI])
@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("6173", None),
        ("1111", PasswordProblem.REPEATED),
        ("4567", PasswordProblem.SEQUENCE),
        ("9876", PasswordProblem.SEQUENCE),
        ("617", PasswordProblem.FORMAT),
        ("６１７３", PasswordProblem.FORMAT),  # full-width digits are not what the card holds
    ],
)
def test_every_four_digit_pin_follows_the_same_rules(
    credential: CounterCredential, value: str, problem: PasswordProblem | None
) -> None:
    assert check_new_password(credential, value, value) == problem


def test_the_signature_password_follows_the_kiosk_rules() -> None:
    assert check_new_password(SIGN, "COUNTER7", "COUNTER7") is None
    assert check_new_password(SIGN, "COUNTERS", "COUNTERS") is PasswordProblem.FORMAT
    assert check_new_password(SIGN, "COUNTER7", "COUNTER8") is PasswordProblem.MISMATCH


def _reset(reason: CounterReason, *changes: CredentialChange) -> CounterReset:
    check = IdentityCheck("clerk1", IdentityDocument.PASSPORT, reason)
    return CounterReset(IDENTITY, check, changes, backend=BACKEND)


@pytest.mark.parametrize(
    ("reason", "changes", "code"),
    [
        # Both forgotten means both: one alone is a kiosk case.
        (CounterReason.BOTH_FORGOTTEN, [CredentialChange(AUTH, "6173", "6173")], "bad_credentials"),
        # Unblock without a new value only for a locked key.
        (CounterReason.FOUR_DIGIT_PIN, [CredentialChange(TEXT)], "new_password_required"),
        (CounterReason.KEY_LOCKED, [], "bad_credentials"),
        (
            CounterReason.KEY_LOCKED,
            [CredentialChange(AUTH), CredentialChange(AUTH)],
            "bad_credentials",
        ),
        (
            CounterReason.FOUR_DIGIT_PIN,
            [CredentialChange(JUKI, "6173", "6137")],
            "password_mismatch",
        ),
    ],
)
def test_a_mismatched_authorisation_is_refused_before_any_apdu(
    reason: CounterReason, changes: list[CredentialChange], code: str
) -> None:
    with pytest.raises(CounterResetError) as refused:
        _reset(reason, *changes)
    assert refused.value.reason == code


def test_a_clerk_is_required() -> None:
    check = IdentityCheck("", IdentityDocument.PASSPORT, CounterReason.KEY_LOCKED)
    with pytest.raises(CounterResetError, match="no_clerk"):
        CounterReset(IDENTITY, check, [CredentialChange(AUTH)], backend=BACKEND)


def test_a_new_password_never_shows_in_a_repr() -> None:
    change = CredentialChange(JUKI, "6173", "6173")
    reset = _reset(CounterReason.FOUR_DIGIT_PIN, change)
    assert reset.first_apdu().hex().upper().startswith("00A4040C")  # SELECT JPKI comes first
    assert "6173" not in repr(reset) and "6173" not in repr(change)
