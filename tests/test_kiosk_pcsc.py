"""The kiosk completion over the real stack: /ws/issuer/ (in this process) ↔ the test as the
kiosk page ↔ `myna-bridge --kiosk` (subprocess, real PC/SC mode) ↔ pcscd ↔ vsmartcard-vpcd ↔ a
simulated card served from this process (slot 1, "Virtual PCD 00 01").

The password is checked on the card through the same bridge afterwards: VERIFY with the new one
succeeds, the old one fails, and the counter is full again. A card taken away mid-reset leaves
the card and the reservation as they were, and a retry then succeeds.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from websockets.asyncio.client import connect

from bridge.tests.helpers import CLIENT_LOGGER, DEV_ORIGIN, Client, free_port
from mynacard.sim import SimulatedCard, demo_profile
from mynacard.sim.vpcd import VpcdClient
from reservations.models import Reservation, ReservationState
from tests.kiosk_open import hours_around_now
from tests.pcsc import BridgeProcess, PcscSim, running_bridge
from tests.test_bridge_pcsc import _wait_card

pytestmark = [pytest.mark.pcsc, pytest.mark.django_db(transaction=True)]

READER = "Virtual PCD 00 01"
AUTH_PIN, SIGN_PASSWORD = "2580", "MYNA2580"


@pytest.fixture(autouse=True)
def kiosk_open_now(settings: Any) -> None:
    """The completion must not depend on the hour the suite runs (tests/kiosk_open.py)."""
    for name, value in hours_around_now().items():
        setattr(settings, name, value)


@pytest.fixture(scope="module")
def kiosk_bridge(
    pcsc_sim: PcscSim, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BridgeProcess]:
    log_path = tmp_path_factory.mktemp("kiosk-bridge") / "bridge.log"
    port = free_port(avoiding=(AUTH_PIN, SIGN_PASSWORD))  # the port is logged
    args = ("--kiosk", "--log-level", "TRAFFIC")
    with running_bridge(*args, port=port, log_path=log_path) as bridge:
        yield bridge


class Slot:
    """The card in slot 1: it can be taken away and put back (the same card object)."""

    def __init__(self, card: SimulatedCard, port: int) -> None:
        self.card = card
        self.port = port
        self.client: VpcdClient | None = None
        self.thread: threading.Thread | None = None

    def insert(self) -> None:
        self.client = VpcdClient(self.card, "localhost", self.port)
        self.thread = threading.Thread(target=self.client.serve_forever, daemon=True)
        self.thread.start()

    def remove(self) -> None:
        assert self.client is not None and self.thread is not None
        self.client.stop()
        self.thread.join(timeout=10)


@pytest.fixture
async def bridge_page(kiosk_bridge: BridgeProcess) -> AsyncIterator[Client]:
    async with connect(kiosk_bridge.url, origin=DEV_ORIGIN, logger=CLIENT_LOGGER) as ws:  # type: ignore[arg-type]
        page = Client(ws)
        await page.hello()
        yield page


@pytest.fixture
async def slot(pcsc_sim: PcscSim, bridge_page: Client) -> AsyncIterator[Slot]:
    own = Slot(SimulatedCard(demo_profile()), pcsc_sim.vpcd_port + 1)
    own.insert()
    try:
        await _wait_card(bridge_page, READER, True)
        await bridge_page.call("SELECT_READER", "READERS", reader=READER)
        yield own
    finally:
        own.remove()
        await _wait_card(bridge_page, READER, False)


def _server() -> WebsocketCommunicator:
    from webapp.asgi import application

    headers = [(b"origin", DEV_ORIGIN.encode()), (b"host", b"localhost:8000")]
    return WebsocketCommunicator(application, "/ws/issuer/", headers=headers)


async def _to_server(comm: WebsocketCommunicator, **message: Any) -> dict[str, Any]:
    await comm.send_to(text_data=json.dumps(message))
    return dict(json.loads(await comm.receive_from(timeout=30)))


def _book(card: SimulatedCard, target: str) -> Reservation:
    from cryptography import x509

    from mynacard.evidence import certificate_identity
    from mynacard.jpki import CertificateKind, JpkiSession
    from mynacard.pins import PinKind
    from mynacard.sim import SimulatedConnection

    signer = card.identity
    if target == "auth":
        jpki = JpkiSession(SimulatedConnection(card))  # before the card is in the reader
        jpki.verify(PinKind.JPKI_SIGN, SIGN_PASSWORD)
        der = jpki.read_certificate(CertificateKind.SIGN)
        card.reset()
        signer = certificate_identity(x509.load_der_x509_certificate(der))
    return Reservation.book(card_identity=card.identity, target=target, signer_identity=signer)


async def _until_reset_command(
    bridge: Client, comm: WebsocketCommunicator, target: str, known: str, new: str
) -> dict[str, Any]:
    """Start, identify the card, prove the other password, send the new one: the first APDU."""
    assert (await _to_server(comm, type="start", target=target))["type"] == "place_card"
    cert = await bridge.call("GET_AUTH_CERTIFICATE", "AUTH_CERTIFICATE")
    found = await _to_server(comm, type="card", certificate=cert["certificate"])
    assert found["type"] == "reservation", found
    proof = await bridge.call(
        "AUTHENTICATE", "AUTHENTICATION", purpose=found["purpose"], nonce=found["nonce"],
        key=found["key"], pin=known,
    )
    assert proof["ok"] is True, proof
    reply = await _to_server(
        comm, type="proof", certificate=proof["certificate"], signature=proof["signature"]
    )
    assert reply["type"] == "proven", reply
    return await _to_server(comm, type="new_password", value=new, confirm=new)


async def _relay(bridge: Client, comm: WebsocketCommunicator, reply: dict[str, Any]) -> dict[
    str, Any
]:
    while reply["type"] == "apdu":
        answer = await bridge.call("RELAY_APDU", "APDU", apdu=reply["apdu"])
        assert answer["ok"] is True, answer
        reply = await _to_server(
            comm, type="apdu_response", response=answer["response"], sw=answer["sw"]
        )
    return reply


async def _verify_through_bridge(bridge: Client, key: str, pin: str) -> dict[str, Any]:
    """A plain JPKI VERIFY + signature through the bridge, as any signing page would do."""
    purpose = "myna-reset/reserve/sign" if key == "auth" else "myna-reset/reserve/auth"
    nonce = base64.b64encode(os.urandom(32)).decode()
    return await bridge.call(
        "AUTHENTICATE", "AUTHENTICATION", purpose=purpose, nonce=nonce, key=key, pin=pin
    )


async def _tries(bridge: Client, kind: str) -> int:
    status = await bridge.call("GET_CARD_STATUS", "CARD_STATUS")
    return int(status["card"]["pins"][kind]["tries_left"])


async def test_the_kiosk_resets_the_password_through_pcscd(
    bridge_page: Client, slot: Slot
) -> None:
    booked = await asyncio.to_thread(_book, slot.card, "auth")
    assert (await _verify_through_bridge(bridge_page, "auth", "0000"))["reason"] == "WRONG_PIN"
    assert await _tries(bridge_page, "jpki_auth") == 2
    comm = _server()
    assert (await comm.connect())[0]
    first = await _until_reset_command(bridge_page, comm, "auth", SIGN_PASSWORD, "7391")
    assert (await _relay(bridge_page, comm, first)) == {"type": "done"}
    await comm.disconnect()

    assert (await _verify_through_bridge(bridge_page, "auth", "7391"))["ok"] is True
    old = await _verify_through_bridge(bridge_page, "auth", AUTH_PIN)
    assert old["ok"] is False and old["reason"] == "WRONG_PIN"
    assert (await _verify_through_bridge(bridge_page, "auth", "7391"))["ok"] is True
    assert await _tries(bridge_page, "jpki_auth") == 3
    state = (await asyncio.to_thread(Reservation.objects.get, pk=booked.pk)).state
    assert state == ReservationState.USED


async def test_a_card_taken_away_mid_reset_changes_nothing_and_a_retry_works(
    bridge_page: Client, slot: Slot
) -> None:
    booked = await asyncio.to_thread(_book, slot.card, "sign")
    comm = _server()
    await comm.connect()
    reply = await _until_reset_command(bridge_page, comm, "sign", AUTH_PIN, "KIOSK123")
    for _ in range(3):  # SELECT, INITIALIZE, AUTHENTICATE: the session is open on the card
        answer = await bridge_page.call("RELAY_APDU", "APDU", apdu=reply["apdu"])
        reply = await _to_server(
            comm, type="apdu_response", response=answer["response"], sw=answer["sw"]
        )
    assert reply["type"] == "apdu"  # the RESET PASSWORD command, never relayed:
    slot.remove()  # the resident takes the card away
    await _wait_card(bridge_page, READER, False)
    failed = await bridge_page.call("RELAY_APDU", "APDU", apdu=reply["apdu"])
    assert failed["ok"] is False  # the page then drops everything and closes the socket
    await comm.disconnect()

    slot.insert()
    await _wait_card(bridge_page, READER, True)
    assert (await _verify_through_bridge(bridge_page, "sign", SIGN_PASSWORD))["ok"] is True
    state = (await asyncio.to_thread(Reservation.objects.get, pk=booked.pk)).state
    assert state == ReservationState.ACTIVE

    comm = _server()
    await comm.connect()
    first = await _until_reset_command(bridge_page, comm, "sign", AUTH_PIN, "KIOSK123")
    assert (await _relay(bridge_page, comm, first)) == {"type": "done"}
    await comm.disconnect()
    assert (await _verify_through_bridge(bridge_page, "sign", "KIOSK123"))["ok"] is True
    assert await _tries(bridge_page, "jpki_sign") == 5
