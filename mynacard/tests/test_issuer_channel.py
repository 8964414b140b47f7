"""The issuer channel (docs/issuer-channel.md) between the server's state machine and the
simulated card: the password really changes, and every attack leaves the card as it was."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mynacard.constants import SW
from mynacard.issuer import (
    AID_SELECT_JPKI,
    CounterCredential,
    IssuerChannel,
    IssuerChannelError,
    IssuerSW,
    derive_card_keys,
    is_issuer_apdu,
)
from mynacard.jpki import JpkiSession
from mynacard.pins import PinKind
from mynacard.sim import SimulatedCard, SimulatedConnection, demo_profile
from mynacard.sim.pki import issuer_master_key
from mynacard.targets import TargetPassword

AUTH_PIN, SIGN_PASSWORD = "2580", "MYNA2580"


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sim-pki")


@pytest.fixture
def card(pki_dir: Path) -> SimulatedCard:
    return SimulatedCard(demo_profile(), pki_dir=pki_dir)


def _channel(card: SimulatedCard, pki_dir: Path, master: bytes | None = None) -> IssuerChannel:
    keys = derive_card_keys(master or issuer_master_key(pki_dir), card.identity)
    return IssuerChannel(keys)


def _authenticated(card: SimulatedCard, channel: IssuerChannel) -> None:
    assert card.process(channel.select()) == (b"", SW.OK)
    data, sw = card.process(channel.initialize())
    host = channel.authenticate(data, sw)
    channel.check_authenticated(card.process(host)[1])


def _verify(card: SimulatedCard, kind: PinKind, value: str) -> bool:
    from mynacard.errors import WrongPinError

    try:
        JpkiSession(SimulatedConnection(card)).verify(kind, value)  # type: ignore[arg-type]
    except WrongPinError:
        return False
    return True


def test_a_reset_sets_the_new_password_and_a_full_counter(
    card: SimulatedCard, pki_dir: Path
) -> None:
    assert not _verify(card, PinKind.JPKI_SIGN, "WRONG123")  # one try spent
    assert card.tries_left(PinKind.JPKI_SIGN) == 4
    channel = _channel(card, pki_dir)
    _authenticated(card, channel)
    data, sw = card.process(channel.reset_password(TargetPassword.SIGN, "new2580x"))
    result = channel.check_reset(data, sw)
    assert result.credential is CounterCredential.SIGN
    assert card.tries_left(PinKind.JPKI_SIGN) == 5
    assert _verify(card, PinKind.JPKI_SIGN, "NEW2580X")  # upper-cased, as the card compares
    assert not _verify(card, PinKind.JPKI_SIGN, SIGN_PASSWORD)


def test_only_the_named_password_changes(card: SimulatedCard, pki_dir: Path) -> None:
    assert not _verify(card, PinKind.JPKI_SIGN, "WRONG123")
    channel = _channel(card, pki_dir)
    _authenticated(card, channel)
    channel.check_reset(*card.process(channel.reset_password(TargetPassword.AUTH, "7391")))
    assert _verify(card, PinKind.JPKI_AUTH, "7391")
    assert card.tries_left(PinKind.JPKI_SIGN) == 4  # the other counter is left alone
    assert _verify(card, PinKind.JPKI_SIGN, SIGN_PASSWORD)


def test_a_card_under_another_issuer_key_is_refused_and_unchanged(
    card: SimulatedCard, pki_dir: Path
) -> None:
    channel = _channel(card, pki_dir, master=os.urandom(32))
    card.process(channel.select())
    data, sw = card.process(channel.initialize())
    with pytest.raises(IssuerChannelError) as caught:
        channel.authenticate(data, sw)
    assert caught.value.reason == "wrong_card_key"
    assert _verify(card, PinKind.JPKI_SIGN, SIGN_PASSWORD)


def test_a_wrong_host_cryptogram_is_refused_with_6982(card: SimulatedCard, pki_dir: Path) -> None:
    channel = _channel(card, pki_dir)
    card.process(channel.select())
    data, sw = card.process(channel.initialize())
    host = bytearray(channel.authenticate(data, sw))
    host[-1] ^= 0x01
    assert card.process(bytes(host))[1] == IssuerSW.WRONG_CRYPTOGRAM
    # The session is gone: even a correctly built reset is refused.
    assert card.process(channel.reset_password(TargetPassword.SIGN, "ABC123"))[1] == (
        IssuerSW.NO_SESSION
    )
    assert _verify(card, PinKind.JPKI_SIGN, SIGN_PASSWORD)


def test_a_tampered_mac_is_refused_with_6988_and_nothing_changes(
    card: SimulatedCard, pki_dir: Path
) -> None:
    assert not _verify(card, PinKind.JPKI_SIGN, "WRONG123")
    channel = _channel(card, pki_dir)
    _authenticated(card, channel)
    apdu = bytearray(channel.reset_password(TargetPassword.SIGN, "ABC123"))
    apdu[-2] ^= 0x80  # last MAC byte (the final byte is Le)
    data, sw = card.process(bytes(apdu))
    assert sw == IssuerSW.WRONG_MAC
    with pytest.raises(IssuerChannelError):
        channel.check_reset(data, sw)
    assert card.tries_left(PinKind.JPKI_SIGN) == 4
    assert _verify(card, PinKind.JPKI_SIGN, SIGN_PASSWORD)


def test_a_tampered_ciphertext_is_refused_too(card: SimulatedCard, pki_dir: Path) -> None:
    channel = _channel(card, pki_dir)
    _authenticated(card, channel)
    apdu = bytearray(channel.reset_password(TargetPassword.SIGN, "ABC123"))
    apdu[10] ^= 0x01  # inside the encrypted password
    assert card.process(bytes(apdu))[1] == IssuerSW.WRONG_MAC
    assert _verify(card, PinKind.JPKI_SIGN, SIGN_PASSWORD)


def test_a_replayed_command_is_refused_and_changes_nothing(
    card: SimulatedCard, pki_dir: Path
) -> None:
    channel = _channel(card, pki_dir)
    _authenticated(card, channel)
    first = channel.reset_password(TargetPassword.SIGN, "FIRST1")
    second = channel.reset_password(TargetPassword.SIGN, "SECOND2")
    channel.check_reset(*card.process(second))
    assert card.process(first)[1] == IssuerSW.REPLAYED_COUNTER  # counter 1 after counter 2
    assert card.process(second)[1] == IssuerSW.REPLAYED_COUNTER  # the same command again
    assert _verify(card, PinKind.JPKI_SIGN, "SECOND2")
    # In a new session the old command's MAC no longer verifies (fresh session keys).
    other = _channel(card, pki_dir)
    _authenticated(card, other)
    assert card.process(second)[1] == IssuerSW.WRONG_MAC
    assert _verify(card, PinKind.JPKI_SIGN, "SECOND2")


def test_a_card_taken_away_mid_reset_keeps_its_password(
    card: SimulatedCard, pki_dir: Path
) -> None:
    channel = _channel(card, pki_dir)
    _authenticated(card, channel)
    command = channel.reset_password(TargetPassword.AUTH, "7391")
    card.power_off()
    card.power_on()
    card.process(AID_SELECT_JPKI)
    assert card.process(command)[1] == IssuerSW.NO_SESSION
    assert _verify(card, PinKind.JPKI_AUTH, AUTH_PIN)


def test_a_forged_success_answer_is_not_believed(card: SimulatedCard, pki_dir: Path) -> None:
    channel = _channel(card, pki_dir)
    _authenticated(card, channel)
    channel.reset_password(TargetPassword.SIGN, "ABC123")  # never reaches the card
    with pytest.raises(IssuerChannelError) as caught:
        channel.check_reset(b"\x00" * 8, SW.OK)  # a relay claiming 9000
    assert caught.value.reason == "unauthenticated_answer"


def test_weak_or_malformed_passwords_never_leave_the_server(
    card: SimulatedCard, pki_dir: Path
) -> None:
    channel = _channel(card, pki_dir)
    _authenticated(card, channel)
    for target, value in ((TargetPassword.AUTH, "12345"), (TargetPassword.SIGN, "ABCDEF")):
        with pytest.raises(IssuerChannelError) as caught:
            channel.reset_password(target, value)
        assert caught.value.reason == "malformed_password"


def test_reset_without_authentication_is_refused(card: SimulatedCard, pki_dir: Path) -> None:
    channel = _channel(card, pki_dir)
    _authenticated(card, channel)
    command = channel.reset_password(TargetPassword.SIGN, "ABC123")
    card.process(bytes.fromhex("00A4040C0AD3921000310001010402"))  # leave the JPKI AP
    card.process(AID_SELECT_JPKI)
    assert card.process(command)[1] == IssuerSW.NO_SESSION
    assert _verify(card, PinKind.JPKI_SIGN, SIGN_PASSWORD)


def test_the_relay_filter_lets_only_the_issuer_channel_through(
    card: SimulatedCard, pki_dir: Path
) -> None:
    channel = _channel(card, pki_dir)
    assert is_issuer_apdu(channel.select()) and is_issuer_apdu(channel.initialize())
    for other in (
        bytes.fromhex("0020008004") + b"2580",  # VERIFY
        bytes.fromhex("00B0000004"),  # READ BINARY
        bytes.fromhex("802A00800100"),  # COMPUTE SIGNATURE
        bytes.fromhex("00A4040C0AD3921000310001010402"),  # SELECT of another AP
        bytes.fromhex("8050"),  # truncated
    ):
        assert not is_issuer_apdu(other)


# --- the counter's orders (issue 12): P1 names the application; UNBLOCK ----------------------


def test_an_unblock_restores_the_counter_and_keeps_the_value(
    card: SimulatedCard, pki_dir: Path
) -> None:
    for _ in range(3):
        assert not _verify(card, PinKind.JPKI_AUTH, "9999")
    assert card.tries_left(PinKind.JPKI_AUTH) == 0
    channel = _channel(card, pki_dir)
    _authenticated(card, channel)
    apdu = channel.unblock(CounterCredential.AUTH)
    assert apdu[:4] == bytes.fromhex("80560018") and is_issuer_apdu(apdu)
    result = channel.check_reset(*card.process(apdu))
    assert (result.credential, result.new_value) == (CounterCredential.AUTH, False)
    assert card.tries_left(PinKind.JPKI_AUTH) == 3
    assert _verify(card, PinKind.JPKI_AUTH, AUTH_PIN)


def test_the_four_digit_pins_of_other_applications_are_reset_from_the_jpki_session(
    card: SimulatedCard, pki_dir: Path
) -> None:
    channel = _channel(card, pki_dir)
    _authenticated(card, channel)
    text = channel.reset_password(CounterCredential.TEXT, "6173")
    assert text[:4] == bytes.fromhex("80540111")
    channel.check_reset(*card.process(text))
    juki = channel.reset_password(CounterCredential.JUKI, "8054")  # same session, counter 2
    assert juki[:4] == bytes.fromhex("8054021C")
    assert channel.check_reset(*card.process(juki)).counter == 2
    assert card.tries_left(PinKind.TEXT_PIN) == card.tries_left(PinKind.JUKI_PIN) == 3
    assert not _verify(card, PinKind.JPKI_AUTH, "6173")  # the JPKI keys are untouched


def test_an_order_naming_an_unknown_application_changes_nothing(
    card: SimulatedCard, pki_dir: Path
) -> None:
    channel = _channel(card, pki_dir)
    _authenticated(card, channel)
    from mynacard.issuer import command_mac

    session = channel._session  # noqa: SLF001 - forging a well-MACed order for P1=03
    assert session is not None
    header = bytes.fromhex("8056031C")
    body = (1).to_bytes(4, "big") + command_mac(session, header, 1, b"")
    assert card.process(header + bytes([len(body)]) + body + b"\x00") == (
        b"",
        IssuerSW.UNKNOWN_KEY,
    )
