"""A reset target is proved with the other password's JPKI key (architecture.md, table)."""

from __future__ import annotations

import pytest

from mynacard.challenge import (
    KEY_FOR_PURPOSE,
    PURPOSE_RESERVE_AUTH_RESET,
    PURPOSE_RESERVE_SIGN_RESET,
)
from mynacard.jpki import CertificateKind, KeyKind
from mynacard.pins import PinKind
from mynacard.targets import TargetPassword, key_for, purpose_for


def test_resetting_the_signature_password_is_proved_with_the_user_auth_key() -> None:
    assert purpose_for(TargetPassword.SIGN) == PURPOSE_RESERVE_SIGN_RESET
    key = key_for(TargetPassword.SIGN)
    assert key is KeyKind.AUTH
    assert (key.key_name, key.certificate, key.pin_kind) == (
        "auth", CertificateKind.AUTH, PinKind.JPKI_AUTH,
    )


def test_resetting_the_user_auth_pin_is_proved_with_the_signature_key() -> None:
    assert purpose_for(TargetPassword.AUTH) == PURPOSE_RESERVE_AUTH_RESET
    key = key_for(TargetPassword.AUTH)
    assert key is KeyKind.SIGN
    assert (key.key_name, key.certificate, key.pin_kind) == (
        "sign", CertificateKind.SIGN, PinKind.JPKI_SIGN,
    )


def test_every_target_has_its_own_purpose_and_the_key_the_purpose_names() -> None:
    purposes = {purpose_for(target) for target in TargetPassword}
    # The other purposes are the kiosk's proof of the same key (mynacard.challenge).
    assert purposes == {p for p in KEY_FOR_PURPOSE if p.startswith("myna-reset/reserve/")}
    for target in TargetPassword:
        assert key_for(target).key_name == KEY_FOR_PURPOSE[purpose_for(target)]
        # The words coincide but mean opposite things: a target is never its own key.
        assert key_for(target).key_name != target.value


def test_a_key_is_found_by_its_name_only() -> None:
    assert KeyKind.named("sign") is KeyKind.SIGN
    with pytest.raises(ValueError):
        KeyKind.named("SIGN")
