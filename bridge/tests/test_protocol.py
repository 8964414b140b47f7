"""Protocol tests: handshake, origins, envelope errors, state machine, limits, one client."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from bridge.protocol import API_LEVEL
from bridge.readers import ReaderInfo
from bridge.simulated import SIMULATED_READER, SimulatedBackend
from bridge.tests.helpers import (
    CLIENT_LOGGER,
    DEMO_FACE,
    DEMO_PIN,
    DEV_ORIGIN,
    PURPOSE_SIGN_RESET,
    ApduGate,
    Bridge,
    Client,
    new_nonce,
    start_bridge,
)


async def test_hello_reports_version_api_and_the_only_reader_auto_selected(bridge: Bridge) -> None:
    async with bridge.connect() as ws:
        reply = await Client(ws).call("HELLO", api=1)
    assert reply["msg"] == "HELLO"
    assert reply["api"] == API_LEVEL
    assert reply["version"]
    assert reply["backend"] == "simulated"
    assert reply["origin"] == DEV_ORIGIN
    assert reply["readers"] == [
        {"name": SIMULATED_READER, "card_present": True, "card_mute": False}
    ]
    assert reply["selected"] == SIMULATED_READER
    assert reply["auto_selected"] is True


async def test_hello_with_an_unsupported_api_level_sets_error_and_stays_new(
    bridge: Bridge,
) -> None:
    async with bridge.connect() as ws:
        page = Client(ws)
        reply = await page.call("HELLO", api=99)
        assert reply["msg"] == "HELLO"
        assert reply["ok"] is False
        assert reply["reason"] == "BAD_ARGUMENT"
        assert "99" in reply["error"]
        assert reply["supported"] == [API_LEVEL]
        after = await page.call("GET_READERS")
        assert after["msg"] == "BAD_STATE"


@pytest.mark.parametrize("origin", [DEV_ORIGIN, "http://127.0.0.1:8000"])
async def test_default_development_origins_are_allowed(bridge: Bridge, origin: str) -> None:
    async with bridge.connect(origin=origin) as ws:
        reply = await Client(ws).call("HELLO", api=1)
    assert reply["origin"] == origin


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "http://localhost:8001", "null", "http://localhost:8000.evil"]
)
async def test_foreign_origins_get_403_at_the_handshake(bridge: Bridge, origin: str) -> None:
    with pytest.raises(InvalidStatus) as caught:
        async with bridge.connect(origin=origin):
            pass
    assert caught.value.response.status_code == 403
    assert bridge.server.session is None


async def test_a_handshake_without_origin_gets_403(bridge: Bridge) -> None:
    with pytest.raises(InvalidStatus) as caught:
        async with bridge.connect(origin=None):
            pass
    assert caught.value.response.status_code == 403


async def test_a_configured_origin_replaces_the_development_defaults() -> None:
    server = await start_bridge(SimulatedBackend(), origins=("https://reset.example.jp",))
    url = f"ws://127.0.0.1:{server.port}/"
    try:
        async with connect(url, origin="https://reset.example.jp", logger=CLIENT_LOGGER) as ws:  # type: ignore[arg-type]
            assert (await Client(ws).call("HELLO", api=1))["origin"] == "https://reset.example.jp"
        with pytest.raises(InvalidStatus) as caught:
            async with connect(url, origin=DEV_ORIGIN, logger=CLIENT_LOGGER):  # type: ignore[arg-type]
                pass
        assert caught.value.response.status_code == 403
    finally:
        await server.close()


async def test_a_foreign_host_header_gets_403(bridge: Bridge) -> None:
    """DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends Host: evil.example."""
    reader, writer = await asyncio.open_connection("127.0.0.1", bridge.server.port)
    writer.write(
        b"GET / HTTP/1.1\r\nHost: evil.example:%d\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\nOrigin: http://localhost:8000\r\n\r\n"
        % bridge.server.port
    )
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), timeout=10)
    writer.close()
    assert status_line.startswith(b"HTTP/1.1 403")


@pytest.mark.parametrize(
    "headers",
    [
        b"Origin: http://localhost:8000\r\nOrigin: https://evil.example\r\n",
        b"Origin: http://localhost:8000\r\nOrigin: http://localhost:8000\r\n",
        b"Origin: http://localhost:8000\r\nHost: evil.example\r\n",
    ],
)
async def test_a_repeated_origin_or_host_header_gets_403(bridge: Bridge, headers: bytes) -> None:
    """Which of two values would a check read? Neither: the handshake is refused (no 500)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", bridge.server.port)
    writer.write(
        b"GET / HTTP/1.1\r\nHost: localhost:%d\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n%s\r\n" % (bridge.server.port, headers)
    )
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), timeout=10)
    writer.close()
    assert status_line.startswith(b"HTTP/1.1 403"), status_line
    assert bridge.server.session is None


@pytest.mark.parametrize(
    ("frame", "error_part"),
    [
        ("{not json", "JSON"),
        ("[1, 2]", "object"),
        ('{"command": "HELLO"}', "cmd"),
        ('{"cmd": 7}', "cmd"),
        ('{"cmd": "hello"}', "UPPER_SNAKE"),
        ('{"cmd": "HELLO", "id": {"a": 1}}', "id"),
    ],
)
async def test_bad_json_is_answered_invalid_and_the_connection_stays_usable(
    bridge: Bridge, frame: str, error_part: str
) -> None:
    async with bridge.connect() as ws:
        page = Client(ws)
        await ws.send(frame)
        reply = await page.next()
        assert reply["msg"] == "INVALID"
        assert error_part in reply["error"]
        assert (await page.call("HELLO", api=1))["msg"] == "HELLO"


async def test_a_binary_frame_is_invalid(client: Client) -> None:
    await client.ws.send(b'{"cmd": "GET_READERS"}')
    reply = await client.next()
    assert reply["msg"] == "INVALID"


async def test_an_unknown_command_is_named_in_the_reply(client: Client) -> None:
    reply = await client.call("FORMAT_CARD", id="r1")
    assert reply == {"msg": "UNKNOWN_COMMAND", "cmd": "FORMAT_CARD", "error": "FORMAT_CARD",
                     "id": "r1"}


async def test_card_commands_before_hello_are_bad_state_naming_the_command(
    bridge: Bridge,
) -> None:
    async with bridge.connect() as ws:
        page = Client(ws)
        reply = await page.call("GET_CARD_STATUS")
        assert reply["msg"] == "BAD_STATE"
        assert reply["cmd"] == "GET_CARD_STATUS"
        assert reply["state"] == "NEW"
    assert bridge.gate.apdus == []


async def test_a_second_hello_is_bad_state(client: Client) -> None:
    reply = await client.call("HELLO", api=1)
    assert reply["msg"] == "BAD_STATE"
    assert reply["cmd"] == "HELLO"


async def test_a_card_command_while_another_runs_is_bad_state(
    bridge: Bridge, client: Client
) -> None:
    bridge.gate.hold_at_read = 1
    await client.send(
        "READ_CARD_FACE", nonce=new_nonce(), purpose=PURPOSE_SIGN_RESET, **DEMO_FACE
    )
    await asyncio.to_thread(bridge.gate.reached.wait, 30)
    busy = await client.call("GET_CARD_STATUS")
    assert busy["msg"] == "BAD_STATE"
    assert busy["cmd"] == "GET_CARD_STATUS"
    assert busy["state"] == "BUSY"
    readers = await client.call("GET_READERS")  # still answered while busy
    assert readers["msg"] == "READERS"
    bridge.gate.release.set()
    done = await client.until("CARD_FACE")
    assert done["ok"] is True


async def test_an_oversized_message_closes_the_connection_with_1009(client: Client) -> None:
    await client.ws.send(json.dumps({"cmd": "GET_READERS", "pad": "x" * 70_000}))
    with pytest.raises(ConnectionClosed) as caught:
        await client.next()
    assert caught.value.rcvd is not None
    assert caught.value.rcvd.code == 1009


async def test_a_message_just_under_the_limit_is_still_parsed(client: Client) -> None:
    reply = await client.call("GET_READERS", pad="x" * 60_000)
    assert reply["msg"] == "READERS"


async def test_a_second_client_is_refused_with_409_and_the_first_keeps_working(
    bridge: Bridge, client: Client
) -> None:
    with pytest.raises(InvalidStatus) as caught:
        async with bridge.connect():
            pass
    assert caught.value.response.status_code == 409
    assert b"another page" in caught.value.response.body
    assert (await client.call("GET_READERS"))["msg"] == "READERS"


async def test_a_page_can_reconnect_after_the_first_connection_drops(bridge: Bridge) -> None:
    async with bridge.connect() as ws:
        await Client(ws).hello()
    for _ in range(100):  # the server notices the close asynchronously
        if bridge.server.session is None:
            break
        await asyncio.sleep(0.02)
    async with bridge.connect() as ws:
        page = Client(ws)
        await page.hello()
        status = await page.call("GET_CARD_STATUS", "CARD_STATUS")
    assert status["ok"] is True


async def test_cancel_with_nothing_running_is_acknowledged(client: Client) -> None:
    reply = await client.call("CANCEL")
    assert reply == {"msg": "CANCEL", "workflow": None}


async def test_request_ids_are_echoed(client: Client) -> None:
    reply = await client.call("GET_READERS", id=42)
    assert reply["id"] == 42


async def test_sim_card_removal_and_insertion_push_reader_events(
    bridge: Bridge, client: Client
) -> None:
    await client.send("SIM_CARD", present=False)
    event = await client.until("READER")
    assert event["event"] == "card_removed"
    assert event["reader"] == SIMULATED_READER
    ack = await client.until("SIM_CARD")
    assert ack["present"] is False
    status = await client.call("GET_CARD_STATUS", "CARD_STATUS")
    assert status["ok"] is False
    assert status["reason"] == "NO_CARD"
    assert status["fix"]
    await client.send("SIM_CARD", present=True)
    inserted = await client.until("READER")
    assert inserted["event"] == "card_inserted"
    assert (await client.until("SIM_CARD"))["present"] is True
    status = await client.call("GET_CARD_STATUS", "CARD_STATUS")
    assert status["ok"] is True


async def _messages_until_readers(bridge: Bridge, client: Client) -> list[dict[str, object]]:
    """Everything pushed up to a GET_READERS reply sent once the card thread is idle."""
    await bridge.drain()  # a counter read queued by the insertion has finished by now
    start = len(client.received)
    await client.send("GET_READERS")
    await client.until("READERS")
    return client.received[start:]


async def test_an_inserted_card_is_followed_by_its_counters_without_spending_a_try(
    bridge: Bridge, client: Client
) -> None:
    await client.call("SIM_CARD", "SIM_CARD", present=False)
    bridge.gate.apdus.clear()
    await client.send("SIM_CARD", present=True)
    inserted = await client.until("READER")
    assert inserted["event"] == "card_inserted"
    status = await client.until("READER")
    assert status["event"] == "card_status"
    assert status["reader"] == SIMULATED_READER
    assert status["ok"] is True
    pins = status["card"]["pins"]
    assert set(pins) == {"jpki_auth", "jpki_sign", "visual_pin_b", "text_pin", "juki_pin"}
    assert pins["jpki_auth"]["tries_left"] == 3
    assert status["card"]["certificates"] == {"auth": True, "sign": True}
    verifies = [a for a in bridge.gate.apdus if a[1] == 0x20]
    assert verifies and all(len(a) == 4 for a in verifies)  # empty VERIFYs only


async def test_no_counters_are_read_for_a_card_in_a_reader_nobody_chose() -> None:
    gate = ApduGate()
    backend = _TwoReadersSim(before_apdu=gate)
    server = await start_bridge(backend)
    bridge = Bridge(server=server, backend=backend, gate=gate)
    try:
        async with bridge.connect() as ws:
            page = Client(ws)
            await page.hello()
            await page.call("SIM_CARD", "SIM_CARD", present=False)
            await page.call("SIM_CARD", "SIM_CARD", present=True)
            pushed = await _messages_until_readers(bridge, page)
            events = [m.get("event") for m in pushed if m["msg"] == "READER"]
            assert "card_status" not in events
            assert gate.apdus == []  # the card was not touched
            await page.call("SELECT_READER", "READERS", reader=SIMULATED_READER)
            await page.call("SIM_CARD", "SIM_CARD", present=False)
            await page.call("SIM_CARD", "SIM_CARD", present=True)
            pushed = await _messages_until_readers(bridge, page)
            assert "card_status" in [m.get("event") for m in pushed if m["msg"] == "READER"]
    finally:
        await server.close()


class _PluggableSim(SimulatedBackend):
    """The simulated reader plus a second one the test plugs in and out."""

    def __init__(self) -> None:
        super().__init__()
        self.plugged = False

    def list_readers(self) -> tuple[ReaderInfo, ...]:
        extra = (ReaderInfo("Plugged Reader 02 00", card_present=False),) if self.plugged else ()
        return (*super().list_readers(), *extra)


async def test_reader_attach_and_detach_are_pushed_and_a_detached_choice_is_forgotten() -> None:
    backend = _PluggableSim()
    server = await start_bridge(backend)
    try:
        url = f"ws://127.0.0.1:{server.port}/"
        async with connect(url, origin=DEV_ORIGIN, logger=CLIENT_LOGGER) as ws:  # type: ignore[arg-type]
            page = Client(ws)
            await page.hello()
            backend.plugged = True  # the monitor's next poll notices
            attached = await page.until("READER")
            assert (attached["event"], attached["reader"]) == ("attached", "Plugged Reader 02 00")
            readers = await page.call("GET_READERS", "READERS")
            assert readers["selected"] is None  # two readers now: nothing picked silently
            await page.call("SELECT_READER", "READERS", reader="Plugged Reader 02 00")
            backend.plugged = False
            detached = await page.until("READER")
            assert (detached["event"], detached["reader"]) == ("detached", "Plugged Reader 02 00")
            after = await page.call("GET_READERS", "READERS")
            assert after["selected"] == SIMULATED_READER
            assert after["auto_selected"] is True
    finally:
        await server.close()


class _TwoReadersSim(SimulatedBackend):
    """The simulated reader plus an empty second one."""

    def list_readers(self) -> tuple[ReaderInfo, ...]:
        return (*super().list_readers(), ReaderInfo("Other Reader 01 00", card_present=False))


async def test_sim_card_argument_must_be_boolean(client: Client) -> None:
    reply = await client.call("SIM_CARD", present="no")
    assert reply["msg"] == "SIM_CARD"
    assert reply["error"]
    assert reply["reason"] == "BAD_ARGUMENT"


async def test_a_malformed_pin_is_refused_before_any_apdu(bridge: Bridge, client: Client) -> None:
    reply = await client.call(
        "AUTHENTICATE", nonce=new_nonce(), purpose=PURPOSE_SIGN_RESET, key="auth", pin="25801"
    )
    assert reply["msg"] == "AUTHENTICATION"
    assert reply["reason"] == "MALFORMED_PIN"
    assert reply["pin"] == "jpki_auth"
    assert "25801" not in json.dumps(reply)
    assert bridge.gate.apdus == []


@pytest.mark.parametrize(
    ("birth", "expiry"),
    [
        ("1985-02-30", "2034-07-23"),  # no such day
        ("2099-07-23", "2034-07-23"),  # born in the future
        ("1985-07-23", "2001-07-23"),  # the card has expired
        ("1985-07-23", "2099-07-23"),  # no card is valid that long
        ("2020-07-23", "2019-07-23"),  # expires before its holder was born
    ],
)
@pytest.mark.parametrize("cmd", ["READ_CARD_FACE", "CHECK_CARD_FACE_ITEMS"])
async def test_bad_card_face_items_are_malformed_pin_b_and_never_sent(
    bridge: Bridge, client: Client, birth: str, expiry: str, cmd: str
) -> None:
    reply = await client.call(
        cmd, nonce=new_nonce(), purpose=PURPOSE_SIGN_RESET,
        birth_date=birth, expiry_date=expiry, security_code="4821",
    )
    assert reply["reason"] == "MALFORMED_PIN"
    assert reply["pin"] == "visual_pin_b"
    assert "error" in reply
    assert bridge.gate.apdus == []


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"nonce": "c2hvcnQ=", "purpose": PURPOSE_SIGN_RESET}, "nonce"),
        ({"nonce": "***", "purpose": PURPOSE_SIGN_RESET}, "nonce"),
        ({"purpose": "anything/else"}, "purpose"),
        ({"purpose": PURPOSE_SIGN_RESET, "key": "sign"}, "auth"),
        ({"purpose": PURPOSE_SIGN_RESET, "key": "admin"}, "key"),
        # Wrong JSON types: unhashable values once closed the connection (1011, TypeError).
        ({"purpose": [PURPOSE_SIGN_RESET]}, "purpose"),
        ({"purpose": {"a": 1}}, "purpose"),
        ({"purpose": PURPOSE_SIGN_RESET, "key": ["auth"]}, "key"),
        ({"purpose": PURPOSE_SIGN_RESET, "key": {"auth": 1}}, "key"),
        ({"purpose": PURPOSE_SIGN_RESET, "key": 1}, "key"),
    ],
)
async def test_bad_arguments_set_error_on_the_normal_reply(
    bridge: Bridge, client: Client, args: dict[str, Any], field: str
) -> None:
    body = {"nonce": new_nonce(), "pin": DEMO_PIN, **args}
    reply = await client.call("AUTHENTICATE", **body)
    assert reply["msg"] == "AUTHENTICATION"
    assert reply["ok"] is False
    assert reply["reason"] == "BAD_ARGUMENT"
    assert field in reply["error"]
    assert DEMO_PIN not in json.dumps(reply)
    assert bridge.gate.apdus == []
