"""/ws/issuer/ end to end with the simulated card standing behind the page and the bridge.

The "page" here does exactly what static/kiosk/kiosk.js does: it reads the user-auth
certificate, has the card sign the server's nonce with the password the resident still knows,
relays every issuer-channel APDU unchanged — except where a test plays the attacker.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.test import override_settings
from django.utils import timezone

from mynacard.challenge import challenge_digest
from mynacard.errors import WrongPinError
from mynacard.evidence import certificate_identity
from mynacard.jpki import CertificateKind, JpkiSession, KeyKind
from mynacard.pins import PinKind
from mynacard.pkcs1 import sha256_digest_info
from mynacard.sim import SimulatedCard, SimulatedConnection, demo_profile
from reservations.audit_log import AuditRecord
from reservations.models import Reservation, ReservationState
from webapp.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.backends]

ORIGIN = b"http://testserver"
AUTH_PIN, SIGN_PASSWORD = "2580", "MYNA2580"
Relay = Callable[[bytes], bytes]


@pytest.fixture
def card() -> SimulatedCard:
    return SimulatedCard(demo_profile())


def _auth_der(card: SimulatedCard) -> bytes:
    return JpkiSession(SimulatedConnection(card)).read_certificate(CertificateKind.AUTH)


def _sign_identity(card: SimulatedCard) -> str:
    from cryptography import x509

    jpki = JpkiSession(SimulatedConnection(card))
    jpki.verify(PinKind.JPKI_SIGN, SIGN_PASSWORD)
    der = jpki.read_certificate(CertificateKind.SIGN)
    card.reset()
    return certificate_identity(x509.load_der_x509_certificate(der))


def book(card: SimulatedCard, target: str, **fields: Any) -> Reservation:
    signer = card.identity if target == "sign" else _sign_identity(card)
    booked = Reservation.book(card_identity=card.identity, target=target, signer_identity=signer)
    if fields:
        Reservation.objects.filter(pk=booked.pk).update(**fields)
        booked.refresh_from_db()
    return booked


def _communicator() -> WebsocketCommunicator:
    headers = [(b"origin", ORIGIN), (b"host", b"testserver")]
    return WebsocketCommunicator(application, "/ws/issuer/", headers=headers)


class Page:
    """The kiosk page and its bridge, in one: talks to the server, works the simulated card."""

    def __init__(self, comm: WebsocketCommunicator, card: SimulatedCard) -> None:
        self.comm = comm
        self.card = card
        self.relayed: list[bytes] = []

    async def send(self, **message: Any) -> dict[str, Any]:
        await self.comm.send_to(text_data=json.dumps(message))
        return dict(json.loads(await self.comm.receive_from(timeout=20)))

    async def until_reservation(self, target: str) -> dict[str, Any]:
        assert (await self.send(type="start", target=target))["type"] == "place_card"
        return await self.send(type="card", certificate=_b64(_auth_der(self.card)))

    async def prove(self, reservation: dict[str, Any], pin: str) -> dict[str, Any]:
        key = KeyKind.named(reservation["key"])
        digest = challenge_digest(
            reservation["purpose"], reservation["origin"], base64.b64decode(reservation["nonce"])
        )
        jpki = JpkiSession(SimulatedConnection(self.card))
        jpki.verify(key.pin_kind, pin)
        certificate = jpki.read_certificate(key.certificate)
        signature = jpki.sign(key, sha256_digest_info(digest))
        self.card.reset()  # the bridge resets the card after a VERIFY workflow
        return await self.send(
            type="proof", certificate=_b64(certificate), signature=_b64(signature)
        )

    async def relay_all(
        self, first: dict[str, Any], *, tamper: Callable[[int, bytes], bytes] | None = None
    ) -> dict[str, Any]:
        reply = first
        index = 0
        while reply["type"] == "apdu":
            apdu = base64.b64decode(reply["apdu"])
            self.relayed.append(apdu)
            if tamper is not None:
                apdu = tamper(index, apdu)
            data, sw = self.card.process(apdu)
            reply = await self.send(type="apdu_response", response=_b64(data), sw=f"{sw:04X}")
            index += 1
        return reply


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _verifies(card: SimulatedCard, kind: PinKind, value: str) -> bool:
    try:
        JpkiSession(SimulatedConnection(card)).verify(kind, value)  # type: ignore[arg-type]
    except WrongPinError:
        return False
    finally:
        card.reset()
    return True


async def _complete(
    card: SimulatedCard, target: str, known: str, new: str, **relay: Any
) -> dict[str, Any]:
    comm = _communicator()
    assert (await comm.connect())[0]
    page = Page(comm, card)
    reservation = await page.until_reservation(target)
    assert reservation["type"] == "reservation", reservation
    assert (await page.prove(reservation, known))["type"] == "proven"
    first = await page.send(type="new_password", value=new, confirm=new)
    result = await page.relay_all(first, **relay)
    await comm.disconnect()
    return result


async def test_the_signature_password_is_reset_and_the_reservation_used(
    card: SimulatedCard,
) -> None:
    booked = await asyncio.to_thread(book, card, "sign")
    assert not _verifies(card, PinKind.JPKI_SIGN, "WRONG123")  # a try spent before
    result = await _complete(card, "sign", AUTH_PIN, "kiosk123")
    assert result == {"type": "done"}
    assert _verifies(card, PinKind.JPKI_SIGN, "KIOSK123")  # new works (upper-cased)
    assert not _verifies(card, PinKind.JPKI_SIGN, SIGN_PASSWORD)  # old fails
    assert _verifies(card, PinKind.JPKI_SIGN, "KIOSK123")
    assert card.tries_left(PinKind.JPKI_SIGN) == 5  # full again
    state = (await asyncio.to_thread(Reservation.objects.get, pk=booked.pk)).state
    assert state == ReservationState.USED
    # Exactly one audit record of the completion, naming the reservation and nothing secret.
    records = await asyncio.to_thread(lambda: list(AuditRecord.objects.all()))
    assert [(r.actor, r.action, r.reservation, r.result) for r in records] == [
        ("kiosk", "kiosk_completion", booked.public_id, "ok")
    ]
    assert "kiosk123" not in repr(vars(records[0])).lower()


async def test_the_user_auth_password_is_reset_after_proving_the_signature_password(
    card: SimulatedCard,
) -> None:
    await asyncio.to_thread(book, card, "auth")
    assert (await _complete(card, "auth", SIGN_PASSWORD, "7391")) == {"type": "done"}
    assert _verifies(card, PinKind.JPKI_AUTH, "7391")
    assert not _verifies(card, PinKind.JPKI_AUTH, AUTH_PIN)
    assert _verifies(card, PinKind.JPKI_AUTH, "7391") and card.tries_left(PinKind.JPKI_AUTH) == 3


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        (lambda card: None, "no_reservation"),
        (lambda card: book(card, "sign", state="used"), "used"),
        (lambda card: book(card, "sign", expires=timezone.now() - timedelta(minutes=1)),
         "expired"),
        (lambda card: book(card, "sign", state="expired"), "expired"),
        (lambda card: book(card, "sign", state="superseded"), "superseded"),
        (lambda card: book(card, "sign", state="revoked"), "revoked"),
        (lambda card: book(card, "auth"), "other_target"),
    ],
)
async def test_a_card_without_a_usable_reservation_is_refused_with_its_reason(
    card: SimulatedCard, setup: Callable[[SimulatedCard], object], reason: str
) -> None:
    await asyncio.to_thread(setup, card)
    comm = _communicator()
    await comm.connect()
    reply = await Page(comm, card).until_reservation("sign")
    assert reply["type"] == "refused" and reply["reason"] == reason
    assert reply["text"]
    assert (await comm.receive_output(timeout=5))["type"] == "websocket.close"


async def test_outside_kiosk_hours_nothing_starts(card: SimulatedCard) -> None:
    await asyncio.to_thread(book, card, "sign")
    # A one-minute window that has just closed, whatever the time of the test run.
    from reservations.models import JST

    jst = timezone.now().astimezone(JST)
    opens = (jst - timedelta(minutes=3)).strftime("%H:%M")
    closes = (jst - timedelta(minutes=2)).strftime("%H:%M")
    with override_settings(MYNA_KIOSK_OPENS=opens, MYNA_KIOSK_CLOSES=closes):
        comm = _communicator()
        await comm.connect()
        reply = await Page(comm, card).send(type="start", target="sign")
    assert reply["reason"] == "closed"
    assert opens in reply["text"] and closes in reply["text"]


@pytest.mark.parametrize(
    ("target", "known", "value", "confirm", "problem"),
    [
        ("auth", SIGN_PASSWORD, "1111", "1111", "repeated"),
        ("auth", SIGN_PASSWORD, "1234", "1234", "sequence"),
        ("auth", SIGN_PASSWORD, "9876", "9876", "sequence"),
        ("auth", SIGN_PASSWORD, "0723", "0723", "birth_date"),  # demo card: born 1985-07-23
        ("auth", SIGN_PASSWORD, "12345", "12345", "format"),
        ("auth", SIGN_PASSWORD, "7391", "7392", "mismatch"),
        ("sign", AUTH_PIN, "ABCDEF", "ABCDEF", "format"),
        ("sign", AUTH_PIN, "AB12", "AB12", "format"),
    ],
)
async def test_weak_new_passwords_never_reach_the_card(
    card: SimulatedCard, target: str, known: str, value: str, confirm: str, problem: str
) -> None:
    await asyncio.to_thread(book, card, target)
    comm = _communicator()
    await comm.connect()
    page = Page(comm, card)
    assert (await page.prove(await page.until_reservation(target), known))["type"] == "proven"
    reply = await page.send(type="new_password", value=value, confirm=confirm)
    assert reply["type"] == "password_refused" and reply["problem"] == problem
    assert page.relayed == []
    # The resident can correct it on the same screen.
    good = "7391" if target == "auth" else "GOOD1234"
    result = await page.relay_all(await page.send(type="new_password", value=good, confirm=good))
    assert result == {"type": "done"}
    await comm.disconnect()


def _flip_reset_mac(index: int, apdu: bytes) -> bytes:
    if index != 3:  # SELECT, INITIALIZE, AUTHENTICATE, RESET PASSWORD
        return apdu
    tampered = bytearray(apdu)
    tampered[-2] ^= 0x01
    return bytes(tampered)


async def test_a_tampered_mac_changes_nothing_and_the_resident_can_retry(
    card: SimulatedCard,
) -> None:
    booked = await asyncio.to_thread(book, card, "sign")
    result = await _complete(card, "sign", AUTH_PIN, "NEW12345", tamper=_flip_reset_mac)
    assert result["type"] == "refused" and result["reason"] == "card_refused"
    assert _verifies(card, PinKind.JPKI_SIGN, SIGN_PASSWORD)
    state = (await asyncio.to_thread(Reservation.objects.get, pk=booked.pk)).state
    assert state == ReservationState.ACTIVE
    assert (await _complete(card, "sign", AUTH_PIN, "NEW12345")) == {"type": "done"}
    assert _verifies(card, PinKind.JPKI_SIGN, "NEW12345")


async def test_a_replayed_reset_command_changes_nothing(card: SimulatedCard) -> None:
    booked = await asyncio.to_thread(book, card, "sign")
    captured: list[bytes] = []

    def capture_and_drop(index: int, apdu: bytes) -> bytes:
        if index == 3:
            captured.append(apdu)
            return apdu[:4]  # a relay that swallows the command: the card answers 6700
        return apdu

    first = await _complete(card, "sign", AUTH_PIN, "FIRST111", tamper=capture_and_drop)
    assert first["reason"] == "card_refused"

    def replay(index: int, apdu: bytes) -> bytes:
        return captured[0] if index == 3 else apdu

    second = await _complete(card, "sign", AUTH_PIN, "SECOND22", tamper=replay)
    assert second["reason"] == "card_refused"
    assert _verifies(card, PinKind.JPKI_SIGN, SIGN_PASSWORD)
    state = (await asyncio.to_thread(Reservation.objects.get, pk=booked.pk)).state
    assert state == ReservationState.ACTIVE


async def test_a_card_removed_mid_reset_changes_nothing_and_the_resident_can_retry(
    card: SimulatedCard,
) -> None:
    booked = await asyncio.to_thread(book, card, "auth")
    comm = _communicator()
    await comm.connect()
    page = Page(comm, card)
    assert (await page.prove(await page.until_reservation("auth"), SIGN_PASSWORD))["type"] == (
        "proven"
    )
    reply = await page.send(type="new_password", value="7391", confirm="7391")
    for _ in range(3):  # SELECT, INITIALIZE, AUTHENTICATE
        data, sw = card.process(base64.b64decode(reply["apdu"]))
        reply = await page.send(type="apdu_response", response=_b64(data), sw=f"{sw:04X}")
    card.power_off()  # the resident takes the card away; the page drops everything
    await comm.disconnect()
    card.power_on()
    assert _verifies(card, PinKind.JPKI_AUTH, AUTH_PIN)
    state = (await asyncio.to_thread(Reservation.objects.get, pk=booked.pk)).state
    assert state == ReservationState.ACTIVE
    assert (await _complete(card, "auth", SIGN_PASSWORD, "7391")) == {"type": "done"}


async def test_a_proof_from_another_key_than_the_booking_is_refused(card: SimulatedCard) -> None:
    await asyncio.to_thread(book, card, "sign", signer_identity="f" * 64)
    comm = _communicator()
    await comm.connect()
    page = Page(comm, card)
    reply = await page.prove(await page.until_reservation("sign"), AUTH_PIN)
    assert reply["reason"] == "wrong_card"


async def test_messages_out_of_order_end_the_flow(card: SimulatedCard) -> None:
    comm = _communicator()
    await comm.connect()
    reply = await Page(comm, card).send(type="new_password", value="7391", confirm="7391")
    assert reply["reason"] == "bad_message"
    assert (await comm.receive_output(timeout=5))["type"] == "websocket.close"


async def test_a_deeply_nested_message_is_a_bad_message_not_a_crash() -> None:
    # Within the length limit, and once a RecursionError in the parser that closed the socket
    # with 1011 and no reason.
    comm = _communicator()
    await comm.connect()
    await comm.send_to(text_data="[" * 5000 + "]" * 5000)
    reply = json.loads((await comm.receive_output(timeout=5))["text"])
    assert reply["reason"] == "bad_message"
    assert (await comm.receive_output(timeout=5))["type"] == "websocket.close"


async def test_no_password_nonce_or_card_identity_is_logged(
    card: SimulatedCard, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    await asyncio.to_thread(book, card, "auth")
    assert (await _complete(card, "auth", SIGN_PASSWORD, "7391")) == {"type": "done"}
    logged = caplog.text
    assert "issuer channel: the card confirmed" in logged  # the actions are logged...
    for secret in ("7391", SIGN_PASSWORD, AUTH_PIN, card.identity, card.identity[:16]):
        assert secret not in logged  # ...never a value
