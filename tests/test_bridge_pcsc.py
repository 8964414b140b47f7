"""myna-bridge over the real stack: pcscd + vsmartcard-vpcd + the simulated card + the bridge
as a subprocess in real PC/SC mode + a WebSocket client (issue 4, "Done when").

Slot 0 of the vpcd reader ("Virtual PCD 00 00") holds the session-wide card of
:mod:`tests.pcsc`; tests that spend tries or pull the card use slot 1 ("Virtual PCD 00 01")
with a fresh simulated card served from this process, so they never disturb the shared card.
With two readers attached the page must choose one (no silent pick), which these tests do.
Under CI=true the fixture fails instead of skipping when pcscd cannot run.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from websockets.asyncio.client import connect

from bridge.tests.evidence_check import evidence_from_two_replies, verify_evidence
from bridge.tests.helpers import (
    CLIENT_LOGGER,
    DEMO_FACE,
    DEMO_PASSWORD,
    DEMO_PIN,
    DEV_ORIGIN,
    PURPOSE_AUTH_RESET,
    PURPOSE_SIGN_RESET,
    SELECT_CARD_FACE,
    Client,
    free_port,
    new_nonce,
)
from mynacard.pins import PinKind
from mynacard.sim import SimulatedCard, demo_profile
from mynacard.sim.vpcd import VpcdClient
from tests.pcsc import BridgeProcess, PcscSim, running_bridge

pytestmark = pytest.mark.pcsc

SHARED_READER = "Virtual PCD 00 00"
OWN_READER = "Virtual PCD 00 01"
SECRETS = (DEMO_PIN, DEMO_PASSWORD, "60072320344821", "myna2580")
_WAIT = 20.0


@pytest.fixture(scope="module")
def bridge_process(
    pcsc_sim: PcscSim, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BridgeProcess]:
    log_path = tmp_path_factory.mktemp("bridge") / "bridge.log"
    port = free_port(avoiding=SECRETS)  # the port is logged
    with running_bridge("--log-level", "TRAFFIC", port=port, log_path=log_path) as bridge:
        yield bridge


class _HookedCard(SimulatedCard):
    """A simulated card that reports every command APDU to the test first."""

    def __init__(self, on_apdu: Callable[[bytes], None]) -> None:
        super().__init__(demo_profile())
        self._on_apdu = on_apdu

    def transmit(self, apdu: bytes) -> bytes:
        self._on_apdu(bytes(apdu))
        return super().transmit(apdu)


@dataclass
class OwnCard:
    """A fresh simulated card in slot 1, served over vpcd from a thread of this process."""

    client: VpcdClient | None = None
    thread: threading.Thread | None = None
    apdus: list[bytes] = field(default_factory=list)
    stop_at_read: int | None = None
    _reads: int = -1

    @property
    def card(self) -> SimulatedCard:
        assert self.client is not None
        return self.client.card

    def on_apdu(self, apdu: bytes) -> None:
        self.apdus.append(apdu)
        if apdu == SELECT_CARD_FACE:
            self._reads = 0
        elif self._reads >= 0 and apdu[1] == 0xB0:
            self._reads += 1
            if self._reads == self.stop_at_read and self.client is not None:
                self.client.stop()  # "stop the simulator": the card leaves the reader mid-read

    def verifies_with_data(self) -> int:
        return sum(1 for a in self.apdus if a[1] == 0x20 and len(a) > 5)


async def _reader_state(page: Client, reader: str) -> bool | None:
    reply = await page.call("GET_READERS", "READERS")
    for info in reply["readers"]:
        if info["name"] == reader:
            return bool(info["card_present"])
    return None


async def _wait_card(page: Client, reader: str, present: bool) -> None:
    deadline = time.monotonic() + _WAIT
    while time.monotonic() < deadline:
        if await _reader_state(page, reader) is present:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{reader} never showed card_present={present}")


async def _pushed(page: Client, reader: str, event: str) -> dict[str, Any]:
    """The READER ``event`` for ``reader`` the bridge pushed (already received, or next)."""
    for message in page.received:
        if message["msg"] == "READER" and (message["reader"], message["event"]) == (reader, event):
            return message
    while True:
        message = await page.until("READER")
        if (message["reader"], message["event"]) == (reader, event):
            return message


@pytest.fixture
async def page(bridge_process: BridgeProcess) -> AsyncIterator[Client]:
    async with connect(bridge_process.url, origin=DEV_ORIGIN, logger=CLIENT_LOGGER) as ws:  # type: ignore[arg-type]
        client = Client(ws)
        hello = await client.hello()
        assert hello["backend"] == "pcsc"
        assert hello["selected"] is None  # two readers: the bridge never picks one silently
        yield client


@pytest.fixture
async def own_card(pcsc_sim: PcscSim, page: Client) -> AsyncIterator[OwnCard]:
    own = OwnCard()
    own.client = VpcdClient(_HookedCard(own.on_apdu), "localhost", pcsc_sim.vpcd_port + 1)
    own.thread = threading.Thread(target=own.client.serve_forever, daemon=True)
    own.thread.start()
    try:
        await _wait_card(page, OWN_READER, True)
        inserted = await _pushed(page, OWN_READER, "card_inserted")  # the PC/SC monitor's event
        assert inserted["card_present"] is True
        selected = await page.call("SELECT_READER", "READERS", reader=OWN_READER)
        assert selected["selected"] == OWN_READER
        own.apdus.clear()
        yield own
    finally:
        own.client.stop()
        own.thread.join(timeout=10)
        await _wait_card(page, OWN_READER, False)


async def _select_shared(page: Client) -> None:
    reply = await page.call("SELECT_READER", "READERS", reader=SHARED_READER)
    assert reply["ok"] is True


async def test_a_card_command_without_choosing_a_reader_is_refused(page: Client) -> None:
    reply = await page.call("GET_CARD_STATUS", "CARD_STATUS")
    assert reply["reason"] == "READER_NOT_SELECTED"
    assert SHARED_READER in reply["readers"]


async def test_card_status_over_pcsc(page: Client) -> None:
    await _select_shared(page)
    reply = await page.call("GET_CARD_STATUS", "CARD_STATUS")
    assert reply["ok"] is True, reply
    pins = reply["card"]["pins"]
    assert set(pins) == {"jpki_auth", "jpki_sign", "visual_pin_b", "text_pin", "juki_pin"}
    assert pins["jpki_auth"]["max_tries"] == 3
    assert pins["jpki_sign"]["max_tries"] == 5
    assert reply["card"]["certificates"] == {"auth": True, "sign": True}
    assert reply["card"]["auth_certificate"]["expired"] is False


async def test_reserve_over_pcsc_gives_evidence_the_server_accepts(page: Client) -> None:
    await _select_shared(page)
    nonce = new_nonce()
    reply = await page.call(
        "RESERVE", "EVIDENCE", purpose=PURPOSE_SIGN_RESET, nonce=nonce, pin=DEMO_PIN, **DEMO_FACE
    )
    assert reply["ok"] is True, reply
    verify_evidence(reply, origin=DEV_ORIGIN, purpose=PURPOSE_SIGN_RESET, nonce=nonce)


async def test_read_card_face_then_authenticate_over_pcsc(page: Client) -> None:
    await _select_shared(page)
    nonce = new_nonce()
    face = await page.call(
        "READ_CARD_FACE", "CARD_FACE", purpose=PURPOSE_AUTH_RESET, nonce=nonce, **DEMO_FACE
    )
    assert face["ok"] is True, face
    assert base64.b64decode(face["photo"])[4:8] == b"jP  "
    auth = await page.call(
        "AUTHENTICATE", "AUTHENTICATION", purpose=PURPOSE_AUTH_RESET, nonce=nonce, key="sign",
        pin=DEMO_PASSWORD,
    )
    assert auth["ok"] is True, auth
    verify_evidence(
        evidence_from_two_replies(face, auth), origin=DEV_ORIGIN, purpose=PURPOSE_AUTH_RESET,
        nonce=nonce,
    )


async def _auth(page: Client, pin: str, *, confirm: bool = False) -> dict[str, Any]:
    return await page.call(
        "AUTHENTICATE", "AUTHENTICATION", purpose=PURPOSE_SIGN_RESET, nonce=new_nonce(),
        key="auth", pin=pin, confirm_last_try=confirm,
    )


async def test_wrong_pin_over_pcsc_reports_tries_left(page: Client, own_card: OwnCard) -> None:
    reply = await _auth(page, "1111")
    assert reply["reason"] == "WRONG_PIN", reply
    assert reply["tries_left"] == 2
    assert own_card.card.tries_left(PinKind.JPKI_AUTH) == 2
    assert own_card.verifies_with_data() == 1


async def test_last_try_guard_and_locked_key_over_pcsc(page: Client, own_card: OwnCard) -> None:
    assert (await _auth(page, "1111"))["tries_left"] == 2
    assert (await _auth(page, "2222"))["tries_left"] == 1
    sent = own_card.verifies_with_data()

    guarded = await _auth(page, DEMO_PIN)
    assert guarded["reason"] == "LAST_TRY_CONFIRMATION_REQUIRED"
    assert guarded["tries_left"] == 1
    assert own_card.verifies_with_data() == sent

    locked = await _auth(page, "3333", confirm=True)
    assert locked["reason"] == "PIN_BLOCKED"
    assert locked["tries_left"] == 0
    assert own_card.card.tries_left(PinKind.JPKI_AUTH) == 0

    again = await _auth(page, DEMO_PIN, confirm=True)
    assert again["reason"] == "PIN_BLOCKED"
    assert own_card.verifies_with_data() == sent + 1  # a blocked key is never sent a VERIFY
    status = await page.call("GET_CARD_STATUS", "CARD_STATUS")
    assert status["card"]["pins"]["jpki_auth"]["blocked"] is True
    assert status["card"]["routes"][PURPOSE_SIGN_RESET]["possible"] is False


async def test_card_face_items_checked_over_pcsc_before_any_password(
    page: Client, own_card: OwnCard
) -> None:
    wrong = await page.call(
        "CHECK_CARD_FACE_ITEMS", "CARD_FACE_ITEMS", **{**DEMO_FACE, "security_code": "0000"}
    )
    assert (wrong["reason"], wrong["pin"], wrong["tries_left"]) == ("WRONG_PIN", "visual_pin_b", 9)
    assert own_card.card.tries_left(PinKind.VISUAL_PIN_B) == 9
    right = await page.call("CHECK_CARD_FACE_ITEMS", "CARD_FACE_ITEMS", **DEMO_FACE)
    assert right["ok"] is True, right
    assert right["tries_left"] == 10
    assert own_card.card.tries_left(PinKind.VISUAL_PIN_B) == 10
    # One VERIFY each, of 照合番号B only; the card face was never selected, nothing signed.
    assert own_card.verifies_with_data() == 2
    assert SELECT_CARD_FACE not in own_card.apdus
    assert not [a for a in own_card.apdus if a[:2] == b"\x80\x2a"]
    assert own_card.card.tries_left(PinKind.JPKI_AUTH) == 3


async def test_card_removed_mid_read_over_pcsc(page: Client, own_card: OwnCard) -> None:
    own_card.stop_at_read = 2
    reply = await page.call(
        "RESERVE", "EVIDENCE", purpose=PURPOSE_SIGN_RESET, nonce=new_nonce(), pin=DEMO_PIN,
        **DEMO_FACE,
    )
    assert reply["ok"] is False
    assert reply["reason"] == "CARD_REMOVED", reply
    assert reply["fix"]
    # Only 照合番号B was presented; the JPKI PIN never left the bridge.
    assert own_card.verifies_with_data() == 1
    assert (await _pushed(page, OWN_READER, "card_removed"))["card_present"] is False
    assert own_card.card.tries_left(PinKind.JPKI_AUTH) == 3
    # The bridge is still fine: the shared card answers.
    await _select_shared(page)
    assert (await page.call("GET_CARD_STATUS", "CARD_STATUS"))["ok"] is True


async def test_no_secret_reaches_the_bridge_log_at_traffic_level(
    bridge_process: BridgeProcess, page: Client
) -> None:
    await _select_shared(page)
    checked = await page.call("CHECK_CARD_FACE_ITEMS", "CARD_FACE_ITEMS", **DEMO_FACE)
    assert checked["ok"] is True, checked
    for purpose, pin in ((PURPOSE_SIGN_RESET, DEMO_PIN), (PURPOSE_AUTH_RESET, DEMO_PASSWORD)):
        reply = await page.call(
            "RESERVE", "EVIDENCE", purpose=purpose, nonce=new_nonce(), pin=pin, **DEMO_FACE
        )
        assert reply["ok"] is True, reply
    await page.ws.send(json.dumps({"cmd": "AUTHENTICATE", "pin": DEMO_PIN}))  # bad: no nonce
    assert (await page.next())["msg"] == "AUTHENTICATION"
    await asyncio.sleep(0.2)  # let the subprocess flush its last lines
    text = bridge_process.log_text()
    assert "TRAFFIC" in text and "mynacard" in text, "the log is not at the most verbose level"
    assert "VERIFY" in text or "00 20 00 80" in text
    for secret in SECRETS:
        assert secret not in text, f"a secret reached the bridge log ({len(secret)} characters)"
