"""Counter resets (issue 12) over the real stack: kiosk.counter ↔ pyscard ↔ pcscd ↔
vsmartcard-vpcd ↔ a simulated card served from this process (slot 1, "Virtual PCD 00 01").

Every reset is followed by a plain VERIFY through pcscd with the new password (it succeeds, the
old one does not) and an empty VERIFY showing a full counter. A locked key is unlocked; a
tampered, replayed or wrong-key order leaves the card as it was; every step leaves audit records.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from kiosk.counter import (
    CounterReason,
    CounterReset,
    CounterResetError,
    CredentialChange,
    IdentityCheck,
    IdentityDocument,
    read_card_identity,
    run_counter_reset,
)
from kiosk.issuer import SimulatedIssuer
from mynacard.constants import AID, JpkiEF, JukiEF, TextEF
from mynacard.issuer import CounterCredential, IssuerSW
from mynacard.sim import SimulatedCard, demo_profile
from mynacard.sim.vpcd import VpcdClient
from reservations.audit_log import AuditRecord, verify_chain
from tests.pcsc import PcscSim, PyscardConnection

pytestmark = [pytest.mark.pcsc, pytest.mark.django_db]

READER = "Virtual PCD 00 01"
AUTH_PIN, SIGN_PASSWORD, FOUR_DIGIT = "2580", "MYNA2580", "2580"
CLERK = IdentityCheck("clerk1", IdentityDocument.DRIVERS_LICENSE, CounterReason.BOTH_FORGOTTEN)
LOCKED = IdentityCheck("clerk1", IdentityDocument.PASSPORT, CounterReason.KEY_LOCKED)
FOUR = IdentityCheck("clerk2", IdentityDocument.RESIDENCE_CARD, CounterReason.FOUR_DIGIT_PIN)

#: (application AID, PIN EF) of each credential, for plain VERIFYs (spec §4.4).
KEYS = {
    CounterCredential.SIGN: (AID.JPKI, JpkiEF.SIGN_PIN),
    CounterCredential.AUTH: (AID.JPKI, JpkiEF.AUTH_PIN),
    CounterCredential.TEXT: (AID.TEXT, TextEF.PIN),
    CounterCredential.JUKI: (AID.JUKI, JukiEF.PIN),
}
FULL = {
    CounterCredential.SIGN: 5,
    CounterCredential.AUTH: 3,
    CounterCredential.TEXT: 3,
    CounterCredential.JUKI: 3,
}


@pytest.fixture
def card(pcsc_sim: PcscSim) -> Iterator[SimulatedCard]:
    """A fresh demo card in slot 1 for each test (the session's card in slot 0 is not touched)."""
    own = SimulatedCard(demo_profile())
    client = VpcdClient(own, "localhost", pcsc_sim.vpcd_port + 1)
    thread = threading.Thread(target=client.serve_forever, daemon=True)
    thread.start()
    try:
        yield own
    finally:
        client.stop()
        thread.join(timeout=10)


@pytest.fixture
def reader(card: SimulatedCard) -> Iterator[PyscardConnection]:
    deadline = time.monotonic() + 20
    while True:
        try:
            connection = PyscardConnection(READER)
            break
        except Exception:  # pyscard raises several kinds until the card is seen
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    try:
        yield connection
    finally:
        connection.close()


def _verify(connection: PyscardConnection, credential: CounterCredential, value: str) -> int:
    """A plain SELECT + VERIFY through pcscd; the status word (an empty value asks the counter)."""
    aid, fid = KEYS[credential]
    _, sw = connection.send_and_receive(bytes([0x00, 0xA4, 0x04, 0x0C, len(aid)]) + bytes(aid))
    assert sw == 0x9000
    data = value.encode("ascii")
    header = bytes([0x00, 0x20, 0x00, 0x80 | int(fid)])
    return connection.send_and_receive(header + (bytes([len(data)]) + data if data else b""))[1]


def _tries(connection: PyscardConnection, credential: CounterCredential) -> int:
    sw = _verify(connection, credential, "")
    assert sw & 0xFFF0 == 0x63C0, f"{sw:04X}"
    return sw & 0x0F


def _lock(connection: PyscardConnection, credential: CounterCredential, wrong: str) -> None:
    for _ in range(FULL[credential]):
        assert _verify(connection, credential, wrong) & 0xFFF0 == 0x63C0
    assert _verify(connection, credential, wrong) == 0x6984  # blocked (spec §4.4)


def _audit() -> list[tuple[str, str, str, str]]:
    return [(r.actor, r.action, r.result, r.detail) for r in AuditRecord.objects.all()]


def test_both_passwords_forgotten_are_reset_in_one_session(reader: PyscardConnection) -> None:
    assert _verify(reader, CounterCredential.AUTH, "0000") == 0x63C2
    changes = [
        CredentialChange(CounterCredential.SIGN, "COUNTER7", "COUNTER7"),
        CredentialChange(CounterCredential.AUTH, "7391", "7391"),
    ]
    results = run_counter_reset(reader, CLERK, changes)
    assert [r.credential for r in results] == [CounterCredential.SIGN, CounterCredential.AUTH]

    assert _verify(reader, CounterCredential.SIGN, SIGN_PASSWORD) == 0x63C4  # the old one fails
    assert _verify(reader, CounterCredential.SIGN, "COUNTER7") == 0x9000
    assert _tries(reader, CounterCredential.SIGN) == 5
    assert _verify(reader, CounterCredential.AUTH, "7391") == 0x9000
    assert _tries(reader, CounterCredential.AUTH) == 3
    assert _audit() == [
        ("clerk1", "identity_checked", "ok", "drivers_license:both_forgotten"),
        ("clerk1", "counter_reset", "ok", "sign:reset"),
        ("clerk1", "counter_reset", "ok", "auth:reset"),
    ]
    assert verify_chain().first_break is None


@pytest.mark.parametrize("credential", [CounterCredential.AUTH, CounterCredential.SIGN])
def test_a_locked_key_gets_a_new_password_and_a_full_counter(
    reader: PyscardConnection, credential: CounterCredential
) -> None:
    _lock(reader, credential, "9999" if credential is CounterCredential.AUTH else "WRONG999")
    new = "4826" if credential is CounterCredential.AUTH else "LOCKED42"
    run_counter_reset(reader, LOCKED, [CredentialChange(credential, new, new)])
    assert _tries(reader, credential) == FULL[credential]
    assert _verify(reader, credential, new) == 0x9000
    assert _audit()[-1] == ("clerk1", "counter_reset", "ok", f"{credential}:reset")


def test_a_locked_key_is_unblocked_and_keeps_its_password(reader: PyscardConnection) -> None:
    _lock(reader, CounterCredential.AUTH, "9999")
    run_counter_reset(reader, LOCKED, [CredentialChange(CounterCredential.AUTH)])
    assert _tries(reader, CounterCredential.AUTH) == 3
    assert _verify(reader, CounterCredential.AUTH, AUTH_PIN) == 0x9000
    assert _verify(reader, CounterCredential.SIGN, SIGN_PASSWORD) == 0x9000  # untouched
    assert _audit()[-1] == ("clerk1", "counter_reset", "ok", "auth:unblock")


@pytest.mark.parametrize("credential", [CounterCredential.TEXT, CounterCredential.JUKI])
def test_the_four_digit_pins_only_a_counter_resets(
    reader: PyscardConnection, credential: CounterCredential
) -> None:
    assert _verify(reader, credential, "0000") == 0x63C2
    run_counter_reset(reader, FOUR, [CredentialChange(credential, "6173", "6173")])
    assert _verify(reader, credential, FOUR_DIGIT) == 0x63C2  # the old one fails
    assert _verify(reader, credential, "6173") == 0x9000
    assert _tries(reader, credential) == 3
    # Only the named key changed.
    assert _verify(reader, CounterCredential.AUTH, AUTH_PIN) == 0x9000
    other = {CounterCredential.TEXT: CounterCredential.JUKI}.get(credential, CounterCredential.TEXT)
    assert _verify(reader, other, FOUR_DIGIT) == 0x9000
    assert _audit()[-1] == ("clerk2", "counter_reset", "ok", f"{credential}:reset")


def _until_order(reader: PyscardConnection, reset: CounterReset) -> bytes:
    apdu = reset.first_apdu()
    for _ in range(3):  # SELECT, INITIALIZE, AUTHENTICATE
        next_apdu = reset.answer(*reader.send_and_receive(apdu))
        assert next_apdu is not None
        apdu = next_apdu
    return apdu


def test_a_tampered_order_leaves_the_card_unchanged(reader: PyscardConnection) -> None:
    identity = read_card_identity(reader)
    change = CredentialChange(CounterCredential.TEXT, "6173", "6173")
    order = _until_order(reader, CounterReset(identity, FOUR, [change]))
    for index in (7, 12, len(order) - 2):  # the counter, the ciphertext, the MAC
        tampered = bytearray(order)
        tampered[index] ^= 0x01
        assert reader.send_and_receive(bytes(tampered)) == (b"", IssuerSW.WRONG_MAC)
        order = _until_order(reader, CounterReset(identity, FOUR, [change]))
    assert _verify(reader, CounterCredential.TEXT, FOUR_DIGIT) == 0x9000
    assert _verify(reader, CounterCredential.TEXT, "6173") == 0x63C2


def test_a_replayed_order_leaves_the_card_unchanged(reader: PyscardConnection) -> None:
    identity = read_card_identity(reader)
    first = CounterReset(identity, FOUR, [CredentialChange(CounterCredential.JUKI, "6173", "6173")])
    order = _until_order(reader, first)
    assert first.answer(*reader.send_and_receive(order)) is None and first.done
    # In the same session: the counter is not fresh.
    assert reader.send_and_receive(order) == (b"", IssuerSW.REPLAYED_COUNTER)
    # In a later session (the resident chose again): the old order's MAC is another session's.
    second = CounterReset(
        identity, FOUR, [CredentialChange(CounterCredential.JUKI, "8054", "8054")]
    )
    assert second.answer(*reader.send_and_receive(_until_order(reader, second))) is None
    assert reader.send_and_receive(order) == (b"", IssuerSW.WRONG_MAC)
    assert _verify(reader, CounterCredential.JUKI, "8054") == 0x9000
    assert _tries(reader, CounterCredential.JUKI) == 3


def test_a_server_without_the_cards_key_changes_nothing(reader: PyscardConnection) -> None:
    stranger = SimulatedIssuer(bytes(range(32)))
    change = CredentialChange(CounterCredential.AUTH, "7391", "7391")
    with pytest.raises(CounterResetError) as refused:
        run_counter_reset(reader, LOCKED, [change], backend=stranger)
    assert refused.value.reason == "wrong_card_key"
    assert _verify(reader, CounterCredential.AUTH, AUTH_PIN) == 0x9000
    assert _audit()[-1] == ("clerk1", "counter_reset", "wrong_card_key", "auth:failed")


@pytest.mark.parametrize(
    ("credential", "value", "reason"),
    [
        (CounterCredential.TEXT, "1234", "password_sequence"),
        (CounterCredential.JUKI, "7777", "password_repeated"),
        (CounterCredential.JUKI, "12a4", "password_format"),
        (CounterCredential.SIGN, "ABCDEF", "password_format"),
    ],
)
def test_a_bad_new_password_never_reaches_the_card(
    reader: PyscardConnection, credential: CounterCredential, value: str, reason: str
) -> None:
    with pytest.raises(CounterResetError) as refused:
        run_counter_reset(reader, FOUR, [CredentialChange(credential, value, value)])
    assert refused.value.reason == reason
    assert _verify(reader, credential, value) & 0xFFF0 == 0x63C0  # still the old value
