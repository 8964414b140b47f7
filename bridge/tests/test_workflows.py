"""Card workflows over the WebSocket against the in-process simulated card."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from websockets.asyncio.client import connect

from bridge.readers import CancelToken, CardLink, ReaderInfo
from bridge.reasons import BridgeFailure, BridgeReason
from bridge.simulated import SIMULATED_READER, SimulatedBackend
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
    ApduGate,
    Bridge,
    Client,
    new_nonce,
    start_bridge,
)
from mynacard.constants import AID
from mynacard.evidence import EvidenceError
from mynacard.pins import PinKind
from mynacard.records import LABEL_JUKI_CARD, build_certificate_availability, build_token_info
from mynacard.sim import SimulatedConnection

JP2_SIGNATURE = bytes.fromhex("0000000c6a5020200d0a870a")


async def test_card_status_reads_every_counter_without_spending_a_try(
    bridge: Bridge, client: Client
) -> None:
    reply = await client.call("GET_CARD_STATUS", "CARD_STATUS")
    assert reply["ok"] is True
    card = reply["card"]
    pins = card["pins"]
    assert pins["jpki_auth"] == {"tries_left": 3, "max_tries": 3, "blocked": False}
    assert pins["jpki_sign"] == {"tries_left": 5, "max_tries": 5, "blocked": False}
    assert pins["visual_pin_b"]["tries_left"] == 10
    assert pins["text_pin"]["tries_left"] == 3
    assert pins["juki_pin"]["tries_left"] == 3
    assert card["certificates"] == {"auth": True, "sign": True}
    validity = card["auth_certificate"]
    assert validity["not_before"] < validity["not_after"]
    assert validity["expired"] is False
    assert card["routes"][PURPOSE_SIGN_RESET] == {"possible": True, "obstacles": []}
    # Only empty VERIFYs (no data field) were sent: no try spent anywhere.
    verifies = [a for a in bridge.gate.apdus if a[1] == 0x20]
    assert len(verifies) == 5
    assert all(len(a) == 4 for a in verifies)
    assert bridge.backend.card.tries_left(PinKind.JPKI_AUTH) == 3


async def test_reserve_returns_evidence_the_server_accepts(client: Client) -> None:
    nonce = new_nonce()
    reply = await client.call(
        "RESERVE", "EVIDENCE", purpose=PURPOSE_SIGN_RESET, nonce=nonce, key="auth",
        pin=DEMO_PIN, **DEMO_FACE,
    )
    assert reply["ok"] is True
    assert reply["origin"] == DEV_ORIGIN
    assert reply["nonce"] == nonce
    photo = base64.b64decode(reply["photo"])
    assert photo.startswith(JP2_SIGNATURE)
    assert reply["photo_sha256"] == hashlib.sha256(photo).hexdigest()
    verified = verify_evidence(reply, origin=DEV_ORIGIN, purpose=PURPOSE_SIGN_RESET, nonce=nonce)
    assert verified.jpki_key == "auth"
    assert verified.photo_jp2 == photo
    steps = [m["step"] for m in client.received if m["msg"] == "STATUS"]
    assert steps[0] == "connecting"
    assert "reading_card_face" in steps
    assert steps[-1] == "signing"


async def test_reserve_with_the_signature_password_for_an_auth_pin_reset(client: Client) -> None:
    nonce = new_nonce()
    reply = await client.call(
        "RESERVE", "EVIDENCE", purpose=PURPOSE_AUTH_RESET, nonce=nonce,
        pin=DEMO_PASSWORD.lower(), **DEMO_FACE,  # the password is upper-cased, as the card wants
    )
    assert reply["ok"] is True
    assert reply["jpki_key"] == "sign"
    verify_evidence(reply, origin=DEV_ORIGIN, purpose=PURPOSE_AUTH_RESET, nonce=nonce)


async def test_read_card_face_then_authenticate_give_the_same_evidence(client: Client) -> None:
    nonce = new_nonce()
    face = await client.call(
        "READ_CARD_FACE", "CARD_FACE", purpose=PURPOSE_SIGN_RESET, nonce=nonce, **DEMO_FACE
    )
    assert face["ok"] is True
    assert base64.b64decode(face["photo"]).startswith(JP2_SIGNATURE)
    auth = await client.call(
        "AUTHENTICATE", "AUTHENTICATION", purpose=PURPOSE_SIGN_RESET, nonce=nonce, key="auth",
        pin=DEMO_PIN,
    )
    assert auth["ok"] is True
    verify_evidence(
        evidence_from_two_replies(face, auth), origin=DEV_ORIGIN, purpose=PURPOSE_SIGN_RESET,
        nonce=nonce,
    )


async def test_an_origin_claimed_by_the_page_is_ignored(client: Client) -> None:
    nonce = new_nonce()
    reply = await client.call(
        "RESERVE", "EVIDENCE", purpose=PURPOSE_SIGN_RESET, nonce=nonce, pin=DEMO_PIN,
        origin="https://evil.example", **DEMO_FACE,
    )
    assert reply["origin"] == DEV_ORIGIN
    verify_evidence(reply, origin=DEV_ORIGIN, purpose=PURPOSE_SIGN_RESET, nonce=nonce)
    with pytest.raises(EvidenceError):
        verify_evidence(
            {**reply, "origin": "https://evil.example"}, origin="https://evil.example",
            purpose=PURPOSE_SIGN_RESET, nonce=nonce,
        )


async def _authenticate(client: Client, pin: str, *, confirm: bool = False) -> dict[str, object]:
    return await client.call(
        "AUTHENTICATE", "AUTHENTICATION", purpose=PURPOSE_SIGN_RESET, nonce=new_nonce(),
        key="auth", pin=pin, confirm_last_try=confirm,
    )


def _verify_with_data(gate: ApduGate) -> int:
    return sum(1 for a in gate.apdus if a[1] == 0x20 and len(a) > 5)


async def test_wrong_pin_reports_tries_left_and_spends_exactly_one_try(
    bridge: Bridge, client: Client
) -> None:
    reply = await _authenticate(client, "1111")
    assert reply["ok"] is False
    assert reply["reason"] == "WRONG_PIN"
    assert reply["pin"] == "jpki_auth"
    assert reply["tries_left"] == 2
    assert bridge.backend.card.tries_left(PinKind.JPKI_AUTH) == 2
    assert _verify_with_data(bridge.gate) == 1  # never retried on its own


async def test_last_try_guard_then_confirmed_wrong_try_locks_then_blocked(
    bridge: Bridge, client: Client
) -> None:
    await _authenticate(client, "1111")
    await _authenticate(client, "2222")
    sent_before = _verify_with_data(bridge.gate)

    guarded = await _authenticate(client, DEMO_PIN)
    assert guarded["reason"] == "LAST_TRY_CONFIRMATION_REQUIRED"
    assert guarded["tries_left"] == 1
    assert _verify_with_data(bridge.gate) == sent_before  # nothing sent to the card
    assert bridge.backend.card.tries_left(PinKind.JPKI_AUTH) == 1

    locked = await _authenticate(client, "3333", confirm=True)
    assert locked["reason"] == "PIN_BLOCKED"
    assert locked["just_blocked"] is True
    assert locked["tries_left"] == 0

    blocked = await _authenticate(client, DEMO_PIN, confirm=True)
    assert blocked["reason"] == "PIN_BLOCKED"
    assert _verify_with_data(bridge.gate) == sent_before + 1

    status = await client.call("GET_CARD_STATUS", "CARD_STATUS")
    assert status["card"]["pins"]["jpki_auth"]["blocked"] is True
    route = status["card"]["routes"][PURPOSE_SIGN_RESET]
    assert route == {"possible": False, "obstacles": ["jpki_auth_blocked"]}


async def test_confirmed_last_try_with_the_right_pin_succeeds(
    bridge: Bridge, client: Client
) -> None:
    await _authenticate(client, "1111")
    await _authenticate(client, "2222")
    reply = await _authenticate(client, DEMO_PIN, confirm=True)
    assert reply["ok"] is True
    assert bridge.backend.card.tries_left(PinKind.JPKI_AUTH) == 3


async def test_reserve_checks_both_counters_before_any_verify(
    bridge: Bridge, client: Client
) -> None:
    await _authenticate(client, "1111")
    await _authenticate(client, "2222")
    sent_before = _verify_with_data(bridge.gate)
    reply = await client.call(
        "RESERVE", "EVIDENCE", purpose=PURPOSE_SIGN_RESET, nonce=new_nonce(), pin=DEMO_PIN,
        **DEMO_FACE,
    )
    assert reply["reason"] == "LAST_TRY_CONFIRMATION_REQUIRED"
    assert reply["pin"] == "jpki_auth"
    # Not even 照合番号B was presented: the JPKI guard stopped the whole command first.
    assert _verify_with_data(bridge.gate) == sent_before


async def test_wrong_card_face_items_are_wrong_pin_b_and_jpki_untouched(
    bridge: Bridge, client: Client
) -> None:
    reply = await client.call(
        "RESERVE", "EVIDENCE", purpose=PURPOSE_SIGN_RESET, nonce=new_nonce(), pin=DEMO_PIN,
        **{**DEMO_FACE, "security_code": "0000"},
    )
    assert reply["reason"] == "WRONG_PIN"
    assert reply["pin"] == "visual_pin_b"
    assert reply["tries_left"] == 9
    assert bridge.backend.card.tries_left(PinKind.JPKI_AUTH) == 3


async def _check_items(
    client: Client, *, confirm: bool = False, **items: str
) -> dict[str, object]:
    return await client.call(
        "CHECK_CARD_FACE_ITEMS", "CARD_FACE_ITEMS", confirm_last_try=confirm,
        **{**DEMO_FACE, **items},
    )


async def test_checking_the_card_face_items_verifies_pin_b_alone_and_reads_nothing(
    bridge: Bridge, client: Client
) -> None:
    reply = await _check_items(client)
    assert reply == {
        "msg": "CARD_FACE_ITEMS", "ok": True, "pin": "visual_pin_b", "tries_left": 10,
        "max_tries": 10,
    }
    apdus = bridge.gate.apdus
    assert _verify_with_data(bridge.gate) == 1  # 照合番号B, once; no JPKI PIN
    assert SELECT_CARD_FACE not in apdus  # the card face is not read
    assert not [a for a in apdus if a[:2] == b"\x80\x2a"]  # nothing is signed
    steps = [m["step"] for m in client.received if m["msg"] == "STATUS"]
    assert steps == ["connecting", "checking_counters", "verifying_card_face_items"]
    # The link was closed with a card reset: 照合番号B no longer opens the card face.
    card = bridge.backend.card
    assert card.process(bytes.fromhex("00A4040C0A") + AID.VISUAL)[1] == 0x9000
    assert card.process(SELECT_CARD_FACE)[1] == 0x9000
    assert card.process(bytes.fromhex("00B0000010"))[1] == 0x6982


async def test_a_wrong_card_face_item_is_found_before_any_password_and_costs_one_try(
    bridge: Bridge, client: Client
) -> None:
    wrong = await _check_items(client, security_code="0000")
    assert wrong["ok"] is False
    assert (wrong["reason"], wrong["pin"], wrong["tries_left"]) == ("WRONG_PIN", "visual_pin_b", 9)
    assert "0000" not in str(wrong)
    card = bridge.backend.card
    assert card.tries_left(PinKind.VISUAL_PIN_B) == 9
    assert card.tries_left(PinKind.JPKI_AUTH) == 3
    assert _verify_with_data(bridge.gate) == 1  # never retried on its own
    # The right items restore the counter (spec §4.4), as RESERVE's VERIFY later would.
    right = await _check_items(client)
    assert right["ok"] is True
    assert card.tries_left(PinKind.VISUAL_PIN_B) == 10


async def test_the_last_card_face_try_needs_confirming_and_a_locked_key_sees_no_verify(
    bridge: Bridge, client: Client
) -> None:
    for left in range(9, 0, -1):
        assert (await _check_items(client, security_code="0000"))["tries_left"] == left
    sent = _verify_with_data(bridge.gate)
    guarded = await _check_items(client)
    assert guarded["reason"] == "LAST_TRY_CONFIRMATION_REQUIRED"
    assert (guarded["pin"], guarded["tries_left"]) == ("visual_pin_b", 1)
    assert _verify_with_data(bridge.gate) == sent  # nothing was sent to the card
    locked = await _check_items(client, confirm=True, security_code="0000")
    assert locked["reason"] == "PIN_BLOCKED"
    assert locked["just_blocked"] is True
    again = await _check_items(client, confirm=True)
    assert again["reason"] == "PIN_BLOCKED"
    assert _verify_with_data(bridge.gate) == sent + 1  # a locked key is never sent a VERIFY
    status = await client.call("GET_CARD_STATUS", "CARD_STATUS")
    assert "visual_pin_b_blocked" in status["card"]["routes"][PURPOSE_SIGN_RESET]["obstacles"]


async def test_cancel_mid_read_stops_before_the_next_apdu_and_resets_the_card(
    bridge: Bridge, client: Client
) -> None:
    bridge.gate.hold_at_read = 3
    await client.send(
        "READ_CARD_FACE", purpose=PURPOSE_SIGN_RESET, nonce=new_nonce(), **DEMO_FACE
    )
    assert await asyncio.to_thread(bridge.gate.reached.wait, 30)
    ack = await client.call("CANCEL")
    assert ack == {"msg": "CANCEL", "workflow": "READ_CARD_FACE"}
    held = len(bridge.gate.apdus)
    bridge.gate.release.set()
    final = await client.until("CARD_FACE")
    assert final["ok"] is False
    assert final["reason"] == "CANCELLED"
    await bridge.drain()
    assert len(bridge.gate.apdus) == held  # no APDU after the one in flight
    _assert_card_face_closed(bridge.backend)
    # The next command works normally.
    again = await client.call(
        "READ_CARD_FACE", "CARD_FACE", purpose=PURPOSE_SIGN_RESET, nonce=new_nonce(), **DEMO_FACE
    )
    assert again["ok"] is True


def _assert_card_face_closed(backend: SimulatedBackend) -> None:
    """No verified 照合番号B survived: re-selecting the same AP cannot read the card face."""
    connection = SimulatedConnection(backend.card, reset=False)
    _, sw = connection.send_and_receive(bytes.fromhex("00A4040C0AD3921000310001010402"))
    assert sw == 0x9000
    _, sw = connection.send_and_receive(SELECT_CARD_FACE)
    assert sw == 0x9000
    _, sw = connection.send_and_receive(bytes.fromhex("00B0000010"))
    assert sw == 0x6982


async def test_a_disconnect_mid_read_ends_the_work_cleanly_and_a_new_page_can_reserve(
    bridge: Bridge,
) -> None:
    bridge.gate.hold_at_read = 2
    async with bridge.connect() as ws:
        page = Client(ws)
        await page.hello()
        await page.send(
            "RESERVE", purpose=PURPOSE_SIGN_RESET, nonce=new_nonce(), pin=DEMO_PIN, **DEMO_FACE
        )
        assert await asyncio.to_thread(bridge.gate.reached.wait, 30)
    for _ in range(200):
        if bridge.server.session is None:
            break
        await asyncio.sleep(0.02)
    held = len(bridge.gate.apdus)
    bridge.gate.release.set()
    await bridge.drain()
    assert len(bridge.gate.apdus) == held
    assert _verify_with_data(bridge.gate) == 1  # 照合番号B only; the JPKI PIN never went out
    assert bridge.backend.card.tries_left(PinKind.JPKI_AUTH) == 3
    _assert_card_face_closed(bridge.backend)
    bridge.gate.hold_at_read = None
    async with bridge.connect() as ws:
        page = Client(ws)
        await page.hello()
        nonce = new_nonce()
        reply = await page.call(
            "RESERVE", "EVIDENCE", purpose=PURPOSE_SIGN_RESET, nonce=nonce, pin=DEMO_PIN,
            **DEMO_FACE,
        )
    verify_evidence(reply, origin=DEV_ORIGIN, purpose=PURPOSE_SIGN_RESET, nonce=nonce)


async def test_card_removed_mid_read_is_card_removed_and_nothing_is_retried(
    bridge: Bridge, client: Client
) -> None:
    bridge.gate.hold_at_read = 2
    bridge.gate.on_hold = lambda: bridge.backend.set_present(False)
    bridge.gate.release.set()
    reply = await client.call(
        "RESERVE", "EVIDENCE", purpose=PURPOSE_SIGN_RESET, nonce=new_nonce(), pin=DEMO_PIN,
        **DEMO_FACE,
    )
    assert reply["ok"] is False
    assert reply["reason"] == "CARD_REMOVED"
    assert "入力回数は増えていません" in reply["fix"]
    assert _verify_with_data(bridge.gate) == 1
    assert bridge.backend.card.tries_left(PinKind.JPKI_AUTH) == 3


class _TwoReaders(SimulatedBackend):
    """The simulated reader plus an empty second one: the page must choose."""

    kind = "simulated"

    def list_readers(self) -> tuple[ReaderInfo, ...]:
        return (*super().list_readers(), ReaderInfo("Other Reader 01 00", card_present=False))


async def test_with_several_readers_nothing_is_picked_silently() -> None:
    server = await start_bridge(_TwoReaders())
    try:
        url = f"ws://127.0.0.1:{server.port}/"
        async with connect(url, origin=DEV_ORIGIN, logger=CLIENT_LOGGER) as ws:  # type: ignore[arg-type]
            page = Client(ws)
            hello = await page.hello()
            assert hello["selected"] is None
            assert hello["auto_selected"] is False
            assert len(hello["readers"]) == 2
            refused = await page.call("GET_CARD_STATUS", "CARD_STATUS")
            assert refused["reason"] == "READER_NOT_SELECTED"
            assert SIMULATED_READER in refused["readers"]
            unknown = await page.call("SELECT_READER", "READERS", reader="Nope")
            assert unknown["ok"] is False
            assert unknown["error"]
            chosen = await page.call("SELECT_READER", "READERS", reader=SIMULATED_READER)
            assert chosen["selected"] == SIMULATED_READER
            assert (await page.call("GET_CARD_STATUS", "CARD_STATUS"))["ok"] is True
            other = await page.call("SELECT_READER", "READERS", reader="Other Reader 01 00")
            assert other["ok"] is True
    finally:
        await server.close()


class _RewritingBackend(SimulatedBackend):
    """The simulated card behind a link that changes some answers (another kind of card)."""

    def __init__(self, rewrite: Callable[[bytes, list[bytes]], tuple[bytes, int] | None]) -> None:
        super().__init__()
        self._rewrite = rewrite

    def open(self, reader: str, *, exclusive_required: bool, cancel: CancelToken) -> CardLink:
        inner = super().open(reader, exclusive_required=exclusive_required, cancel=cancel)
        rewrite = self._rewrite
        history: list[bytes] = []

        class Link(CardLink):
            def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
                history.append(apdu)
                replaced = rewrite(apdu, history)
                return replaced if replaced is not None else inner.send_and_receive(apdu)

            def close(self) -> None:
                inner.close()

        return Link()


async def _run_against(backend: SimulatedBackend, cmd: str, **args: Any) -> dict[str, Any]:
    server = await start_bridge(backend)
    try:
        url = f"ws://127.0.0.1:{server.port}/"
        async with connect(url, origin=DEV_ORIGIN, logger=CLIENT_LOGGER) as ws:  # type: ignore[arg-type]
            page = Client(ws)
            await page.hello()
            return await page.call(cmd, **args)
    finally:
        await server.close()


async def test_a_card_without_the_applications_is_not_a_my_number_card() -> None:
    def foreign(apdu: bytes, history: list[bytes]) -> tuple[bytes, int] | None:
        return (b"", 0x6A82) if apdu[:4] == bytes.fromhex("00A4040C") else None

    reply = await _run_against(_RewritingBackend(foreign), "GET_CARD_STATUS")
    assert reply["reason"] == "NOT_MY_NUMBER_CARD"
    assert "マイナンバーカード" in reply["fix"]


SELECT_JPKI = bytes.fromhex("00A4040C0AD392F000260100000001")
SELECT_TOKEN_EF = bytes.fromhex("00A4020C020006")


def _juki_card(sent: list[bytes]) -> Callable[[bytes, list[bytes]], tuple[bytes, int] | None]:
    """An old 住基カード: the same JPKI AP, token label JPKIAPICCTOKEN (spec §4.2)."""

    def rewrite(apdu: bytes, history: list[bytes]) -> tuple[bytes, int] | None:
        sent.append(apdu)
        if apdu[1] == 0xB0 and len(history) > 1 and history[-2] == SELECT_TOKEN_EF:
            return build_token_info(label=LABEL_JUKI_CARD)[: apdu[4] or 256], 0x9000
        return None

    return rewrite


@pytest.mark.parametrize(
    ("cmd", "args"),
    [
        ("GET_CARD_STATUS", {}),
        ("READ_CARD_FACE", {"purpose": PURPOSE_SIGN_RESET, **DEMO_FACE}),
        ("AUTHENTICATE", {"purpose": PURPOSE_SIGN_RESET, "key": "auth", "pin": DEMO_PIN}),
        ("RESERVE", {"purpose": PURPOSE_SIGN_RESET, "pin": DEMO_PIN, **DEMO_FACE}),
    ],
)
async def test_a_card_with_another_token_label_is_not_a_my_number_card_and_sees_no_verify(
    cmd: str, args: dict[str, str]
) -> None:
    sent: list[bytes] = []
    backend = _RewritingBackend(_juki_card(sent))
    if cmd != "GET_CARD_STATUS":
        args = {**args, "nonce": new_nonce()}
    reply = await _run_against(backend, cmd, **args)
    assert reply["ok"] is False
    assert reply["reason"] == "NOT_MY_NUMBER_CARD", reply
    assert reply["token_label"] == LABEL_JUKI_CARD
    assert "マイナンバーカード" in reply["fix"]
    assert SELECT_TOKEN_EF in sent  # the label was actually read
    assert not [a for a in sent if a[1] == 0x20]  # no VERIFY, not even an empty one
    assert backend.card.tries_left(PinKind.VISUAL_PIN_B) == 10


@pytest.mark.parametrize("sw", [0x6A82, 0x6D00, 0x6E00], ids=lambda sw: f"{sw:04X}")
async def test_a_card_refusing_the_jpki_select_is_not_a_my_number_card(sw: int) -> None:
    def foreign(apdu: bytes, history: list[bytes]) -> tuple[bytes, int] | None:
        return (b"", sw) if apdu == SELECT_JPKI else None

    reply = await _run_against(
        _RewritingBackend(foreign), "READ_CARD_FACE", purpose=PURPOSE_SIGN_RESET,
        nonce=new_nonce(), **DEMO_FACE,
    )
    assert reply["reason"] == "NOT_MY_NUMBER_CARD", reply
    assert reply["sw"] == f"{sw:04X}"


async def test_a_card_without_a_signature_certificate_refuses_that_key_before_verify() -> None:
    def no_sign_cert(apdu: bytes, history: list[bytes]) -> tuple[bytes, int] | None:
        if apdu[1] == 0xB0 and len(history) > 1 and history[-2] == bytes.fromhex("00A4020C020008"):
            return build_certificate_availability(sign=False, auth=True), 0x9000
        return None

    backend = _RewritingBackend(no_sign_cert)
    reply = await _run_against(
        backend, "AUTHENTICATE", purpose=PURPOSE_AUTH_RESET, nonce=new_nonce(), key="sign",
        pin=DEMO_PASSWORD,
    )
    assert reply["reason"] == "CERTIFICATE_UNAVAILABLE"
    assert backend.card.tries_left(PinKind.JPKI_SIGN) == 5


class _NoService(SimulatedBackend):
    """A backend whose service is down, as PC/SC is when pcscd is stopped."""

    def list_readers(self) -> tuple[ReaderInfo, ...]:
        raise BridgeFailure(BridgeReason.NO_PCSC_SERVICE)


async def test_a_stopped_service_is_reported_as_such_not_as_no_reader() -> None:
    server = await start_bridge(_NoService())
    try:
        url = f"ws://127.0.0.1:{server.port}/"
        async with connect(url, origin=DEV_ORIGIN, logger=CLIENT_LOGGER) as ws:  # type: ignore[arg-type]
            page = Client(ws)
            hello = await page.hello()
            assert hello["service"] is False
            assert hello["reason"] == "NO_PCSC_SERVICE"
            assert hello["readers"] == []
            reply = await page.call("GET_CARD_STATUS", "CARD_STATUS")
            assert reply["reason"] == "NO_PCSC_SERVICE"
            assert "pcscd" in reply["fix"]
    finally:
        await server.close()


class _NoReaders(SimulatedBackend):
    """The PC/SC service runs but no reader is plugged in."""

    def list_readers(self) -> tuple[ReaderInfo, ...]:
        return ()


async def test_no_reader_is_no_reader_with_a_fix_and_nothing_selected() -> None:
    server = await start_bridge(_NoReaders())
    try:
        url = f"ws://127.0.0.1:{server.port}/"
        async with connect(url, origin=DEV_ORIGIN, logger=CLIENT_LOGGER) as ws:  # type: ignore[arg-type]
            page = Client(ws)
            hello = await page.hello()
            assert hello["service"] is True
            assert hello["readers"] == []
            assert hello["selected"] is None
            reply = await page.call("GET_CARD_STATUS", "CARD_STATUS")
            assert reply["reason"] == "NO_READER"
            assert "USB" in reply["fix"]
    finally:
        await server.close()


async def test_a_card_removed_with_a_verify_in_flight_does_not_promise_no_try_was_spent() -> None:
    backend = SimulatedBackend()

    def pull_at_verify(apdu: bytes) -> None:
        if apdu[1] == 0x20 and len(apdu) > 5:  # the PIN is on its way: the card leaves
            backend.set_present(False)

    backend.before_apdu = pull_at_verify
    reply = await _run_against(
        backend, "AUTHENTICATE", purpose=PURPOSE_SIGN_RESET, nonce=new_nonce(), key="auth",
        pin=DEMO_PIN,
    )
    assert reply["reason"] == "CARD_REMOVED"
    assert reply["verify_interrupted"] is True
    assert "増えていません" not in reply["fix"]
    assert "減った可能性" in reply["fix"]

