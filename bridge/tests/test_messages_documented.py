"""docs/bridge-protocol.md and bridge/messages.py describe the same messages.

Every ``msg`` the reference shows is produced by a real bridge session here, every message the
session produced is in the reference, and every field it put on the wire is named there.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bridge.messages import MESSAGE_TYPES, CommandFailed
from bridge.protocol import REPLIES
from bridge.readers import ReaderInfo
from bridge.reasons import BridgeFailure, BridgeReason
from bridge.simulated import SimulatedBackend
from bridge.tests.helpers import (
    CLIENT_LOGGER,
    DEMO_FACE,
    DEMO_PIN,
    DEV_ORIGIN,
    PURPOSE_SIGN_RESET,
    Client,
    new_nonce,
    start_bridge,
)

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "bridge-protocol.md"


def _reference() -> str:
    return REFERENCE.read_text(encoding="utf-8")


def _documented_messages() -> set[str]:
    return set(re.findall(r'"msg":\s*"([A-Z_]+)"', _reference()))


def _documented_fields() -> set[str]:
    text = _reference()
    return set(re.findall(r'"([a-z0-9_]+)":', text)) | set(re.findall(r"`([a-z0-9_]+)`", text))


class _ServiceSwitch(SimulatedBackend):
    """The simulated card behind a PC/SC service the test can stop and start."""

    down = False

    def list_readers(self) -> tuple[ReaderInfo, ...]:
        if self.down:
            raise BridgeFailure(BridgeReason.NO_PCSC_SERVICE)
        return super().list_readers()


async def _a_session_using_every_message() -> list[dict[str, Any]]:
    """One page's conversation with a simulated bridge that meets every documented message."""
    from websockets.asyncio.client import connect

    backend = _ServiceSwitch()
    server = await start_bridge(backend)
    try:
        url = f"ws://127.0.0.1:{server.port}/"
        async with connect(url, origin=DEV_ORIGIN, logger=CLIENT_LOGGER) as ws:  # type: ignore[arg-type]
            page = Client(ws)
            await page.ws.send("not json")
            await page.until("INVALID")
            await page.call("GET_READERS", "BAD_STATE")
            await page.hello()
            await page.call("FORMAT_CARD", "UNKNOWN_COMMAND")
            await page.call("GET_READERS", "READERS")
            await page.call("SELECT_READER", "READERS", reader="no such reader")
            await page.call("GET_CARD_STATUS", "CARD_STATUS")
            await page.call("CHECK_CARD_FACE_ITEMS", "CARD_FACE_ITEMS", **DEMO_FACE)
            await page.call(
                "READ_CARD_FACE", "CARD_FACE", purpose=PURPOSE_SIGN_RESET, nonce=new_nonce(),
                **DEMO_FACE,
            )
            await page.call(
                "AUTHENTICATE", "AUTHENTICATION", purpose=PURPOSE_SIGN_RESET,
                nonce=new_nonce(), key="auth", pin=DEMO_PIN,
            )
            await page.call(
                "RESERVE", "EVIDENCE", purpose=PURPOSE_SIGN_RESET, nonce=new_nonce(),
                pin=DEMO_PIN, **DEMO_FACE,
            )
            await page.call("CANCEL", "CANCEL")
            await page.call("GET_DIAGNOSTICS", "DIAGNOSTICS")
            await page.call("SIM_CARD", "SIM_CARD", present=False)
            await page.send("SIM_CARD", present=True)  # READER card_inserted, then card_status
            await page.until("SIM_CARD")
            await server.drain()
            backend.down = True
            await page.send("SIM_CARD", present=True)
            await page.until("SIM_CARD")
            backend.down = False
            await page.send("SIM_CARD", present=True)
            await page.until("SIM_CARD")
            await server.drain()
            await page.call("GET_READERS", "READERS")
            received = page.received
    finally:
        await server.close()
    return received + await _a_kiosk_session()


async def _a_kiosk_session() -> list[dict[str, Any]]:
    """The kiosk-mode commands (myna-bridge --kiosk), against the same simulated card."""
    import base64

    from websockets.asyncio.client import connect

    from mynacard.issuer import AID_SELECT_JPKI

    server = await start_bridge(SimulatedBackend(), kiosk=True)
    try:
        url = f"ws://127.0.0.1:{server.port}/"
        async with connect(url, origin=DEV_ORIGIN, logger=CLIENT_LOGGER) as ws:  # type: ignore[arg-type]
            page = Client(ws)
            await page.hello()
            await page.call("GET_AUTH_CERTIFICATE", "AUTH_CERTIFICATE")
            await page.call(
                "RELAY_APDU", "APDU", apdu=base64.b64encode(AID_SELECT_JPKI).decode()
            )
            await page.call("GET_DIAGNOSTICS", "DIAGNOSTICS")
            return page.received
    finally:
        await server.close()


async def test_every_documented_message_is_produced_and_every_produced_one_documented() -> None:
    received = await _a_session_using_every_message()
    produced = {message["msg"] for message in received}
    assert produced == _documented_messages()
    events = {message.get("event") for message in received if message["msg"] == "READER"}
    assert {"card_removed", "card_inserted", "card_status"} <= events
    assert {m.get("available") for m in received if m["msg"] == "SERVICE"} == {True, False}


async def test_every_field_the_bridge_sends_is_named_in_the_reference() -> None:
    documented = _documented_fields()

    def keys(value: Any) -> set[str]:
        if isinstance(value, dict):
            inner = set().union(*(keys(v) for k, v in value.items() if k not in _KEYED_BY_DATA))
            return set(value) | inner
        if isinstance(value, list):
            return set().union(*(keys(v) for v in value)) if value else set()
        return set()

    sent: set[str] = set()
    for message in await _a_session_using_every_message():
        sent |= keys(message)
    names_not_fields = {k for k in sent if k.startswith("myna-reset/") or k[:1].isupper()}
    assert sent - names_not_fields - documented == set()


#: Objects whose keys are data (credential names, package names, purposes), not field names.
_KEYED_BY_DATA = frozenset({"routes", "packages"})


def test_every_message_class_is_in_the_reference() -> None:
    declared = {cls.MSG for cls in MESSAGE_TYPES if cls is not CommandFailed}
    assert declared == _documented_messages()
    # A failed command answers under its normal reply's name, which the reference documents.
    assert set(REPLIES.values()) <= _documented_messages()
