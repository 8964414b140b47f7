"""Counter resets from the clerk's console to the card: both sockets, with the simulated card
standing behind the terminal page and its bridge (issue 12, counter resets).

The clerk logs in with password + TOTP through the real form, records the identity check on the
real staff view; the "terminal page" here does what static/kiosk/counter.js does. Nothing the
resident types may appear in anything the clerk's socket sends.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Group
from django.test import Client

from kiosk import counter_session
from kiosk.tests.test_issuer_consumer import _verifies
from mynacard.jpki import CertificateKind, JpkiSession
from mynacard.pins import PinKind
from mynacard.sim import SimulatedCard, SimulatedConnection, demo_profile
from reservations.audit_log import AuditRecord, verify_chain
from staff.roles import StaffRole
from staff.tests.staff_users import staff_client
from webapp.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.backends]

HOST = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
AUTH_PIN, SIGN_PASSWORD = "2580", "MYNA2580"
PIN_KIND = {
    "sign": PinKind.JPKI_SIGN,
    "auth": PinKind.JPKI_AUTH,
    "text": PinKind.TEXT_PIN,
    "juki": PinKind.JUKI_PIN,
}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class Terminal:
    """The counter terminal's page and bridge in one, working the simulated card."""

    def __init__(self, card: SimulatedCard) -> None:
        self.card = card
        self.comm = WebsocketCommunicator(application, "/ws/counter/", headers=HOST)
        self.code = ""

    async def open(self) -> None:
        assert (await self.comm.connect())[0]
        hello = await self.receive()
        assert hello["type"] == "code" and counter_session.is_terminal_code(hello["code"])
        self.code = hello["code"]

    async def receive(self) -> dict[str, Any]:
        return dict(json.loads(await self.comm.receive_from(timeout=20)))

    async def send(self, **message: Any) -> dict[str, Any]:
        await self.comm.send_to(text_data=json.dumps(message))
        return await self.receive()

    def tries(self, credentials: list[str]) -> dict[str, int]:
        return {c: self.card.tries_left(PIN_KIND[c]) for c in credentials}

    async def place_card(self, place: dict[str, Any]) -> dict[str, Any]:
        assert place["type"] == "place_card", place
        der = JpkiSession(SimulatedConnection(self.card)).read_certificate(CertificateKind.AUTH)
        return await self.send(
            type="card", certificate=_b64(der), tries=self.tries(place["credentials"])
        )

    async def relay_all(self, reply: dict[str, Any]) -> dict[str, Any]:
        while reply["type"] == "apdu":
            data, sw = self.card.process(base64.b64decode(reply["apdu"]))
            reply = await self.send(type="apdu_response", response=_b64(data), sw=f"{sw:04X}")
        return reply


class Console:
    """The clerk's console: the real staff form, then its socket."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.comm: WebsocketCommunicator | None = None
        self.seen: list[str] = []

    async def authorise(self, terminal: str, operation: str, reason: str) -> str:
        answer = await sync_to_async(self.client.post)(
            "/staff/counter-reset/",
            {
                "document": "drivers_license",
                "reason": reason,
                "operation": operation,
                "terminal": terminal,
            },
        )
        assert answer.status_code == 302, answer.content.decode()[:300]
        return str(answer["Location"]).rstrip("/").rsplit("/", 1)[-1]

    def socket(self, public_id: str) -> WebsocketCommunicator:
        cookie = f"sessionid={self.client.cookies['sessionid'].value}".encode()
        path = f"/ws/staff/counter-reset/{public_id}/"
        return WebsocketCommunicator(application, path, headers=[*HOST, (b"cookie", cookie)])

    async def open(self, public_id: str) -> None:
        self.comm = self.socket(public_id)
        assert (await self.comm.connect())[0]
        assert await self.state() == "waiting_terminal"

    async def progress(self) -> dict[str, Any]:
        assert self.comm is not None
        raw = await self.comm.receive_from(timeout=20)
        self.seen.append(raw)
        message = dict(json.loads(raw))
        assert message["type"] == "progress" and set(message) <= {
            "type",
            "state",
            "reason",
            "tries",
            "full",
        }
        return message

    async def state(self) -> str:
        return str((await self.progress())["state"])

    async def send(self, **message: Any) -> None:
        assert self.comm is not None
        await self.comm.send_to(text_data=json.dumps(message))


@pytest.fixture
def card() -> SimulatedCard:
    return SimulatedCard(demo_profile())


@pytest.fixture
def clerk() -> Client:
    # A transactional test empties the tables, the groups of staff/migrations/0001 too.
    for role in StaffRole:
        Group.objects.get_or_create(name=role.value)
    return staff_client("clerk1", StaffRole.CLERK)


async def _records() -> list[tuple[str, str, str, str]]:
    counter = AuditRecord.objects.exclude(action="staff_login").order_by("sequence")
    rows = await sync_to_async(lambda: list(counter))()
    return [(r.actor, r.action, r.result, r.detail) for r in rows]


async def test_both_forgotten_passwords_are_reset_from_the_console(
    card: SimulatedCard, clerk: Client
) -> None:
    terminal, console = Terminal(card), Console(clerk)
    await terminal.open()
    public_id = await console.authorise(terminal.code, "both_forgotten", "both_forgotten")
    await console.open(public_id)

    assert await console.state() == "paired"
    entered = await terminal.place_card(await terminal.receive())
    card_present = await console.progress()
    assert card_present == {"type": "progress", "state": "card_present",
                            "tries": {"sign": 5, "auth": 3}}
    assert await console.state() == "waiting_input"
    assert entered == {"type": "enter", "credential": "sign"}
    refused = await terminal.send(
        type="new_password", credential="sign", value="COUNTER", confirm="COUNTER"
    )
    assert refused["type"] == "password_refused" and refused["problem"] == "format"
    entered = await terminal.send(
        type="new_password", credential="sign", value="counter7", confirm="counter7"
    )
    assert entered == {"type": "enter", "credential": "auth"}
    refused = await terminal.send(type="new_password", credential="auth", value="1234",
                                  confirm="1234")
    assert refused["problem"] == "sequence"
    wait = await terminal.send(type="new_password", credential="auth", value="7391",
                               confirm="7391")
    assert wait == {"type": "wait"}
    assert await console.state() == "ready"
    assert _verifies(card, PinKind.JPKI_AUTH, AUTH_PIN)  # nothing reached the card yet

    await console.send(type="execute")
    assert await console.state() == "working"
    assert await terminal.relay_all(await terminal.receive()) == {"type": "done"}
    assert await console.state() == "done"
    await terminal.comm.send_to(
        text_data=json.dumps({"type": "status", "tries": terminal.tries(["sign", "auth"])})
    )
    assert await console.progress() == {
        "type": "progress",
        "state": "counter_full",
        "tries": {"sign": 5, "auth": 3},
        "full": True,
    }
    await terminal.comm.disconnect()
    assert console.comm is not None
    await console.comm.disconnect()

    # The card: the new values verify, the old ones do not, the counters are full.
    assert _verifies(card, PinKind.JPKI_SIGN, "COUNTER7")
    assert _verifies(card, PinKind.JPKI_AUTH, "7391")
    assert card.tries_left(PinKind.JPKI_SIGN) == 5 and card.tries_left(PinKind.JPKI_AUTH) == 3
    assert not _verifies(card, PinKind.JPKI_SIGN, SIGN_PASSWORD)
    assert not _verifies(card, PinKind.JPKI_AUTH, AUTH_PIN)
    # One record for the check, one per credential reset; the chain holds.
    assert await _records() == [
        ("clerk1", "identity_checked", "ok", "drivers_license:both_forgotten"),
        ("clerk1", "counter_reset", "ok", "sign:reset"),
        ("clerk1", "counter_reset", "ok", "auth:reset"),
    ]
    assert (await sync_to_async(verify_chain)()).first_break is None
    # Nothing the resident typed reached the clerk's socket.
    for value in ("COUNTER7", "counter7", "7391", "1234", "COUNTER"):
        assert all(value not in raw for raw in console.seen)


async def test_a_locked_key_is_unblocked_without_any_input(
    card: SimulatedCard, clerk: Client
) -> None:
    for _ in range(3):
        assert not _verifies(card, PinKind.JPKI_AUTH, "9999")
    assert card.tries_left(PinKind.JPKI_AUTH) == 0
    terminal, console = Terminal(card), Console(clerk)
    await terminal.open()
    await console.open(await console.authorise(terminal.code, "auth_locked_unblock", "key_locked"))
    assert await console.state() == "paired"
    assert await terminal.place_card(await terminal.receive()) == {"type": "wait"}
    assert (await console.progress())["tries"] == {"auth": 0}
    assert await console.state() == "ready"  # no keypad: the resident still knows it
    await console.send(type="execute")
    assert await console.state() == "working"
    assert await terminal.relay_all(await terminal.receive()) == {"type": "done"}
    assert _verifies(card, PinKind.JPKI_AUTH, AUTH_PIN)
    assert card.tries_left(PinKind.JPKI_AUTH) == 3
    assert (await _records())[-1] == ("clerk1", "counter_reset", "ok", "auth:unblock")


async def test_a_cancelled_session_leaves_one_record_and_the_card_unchanged(
    card: SimulatedCard, clerk: Client
) -> None:
    terminal, console = Terminal(card), Console(clerk)
    await terminal.open()
    await console.open(await console.authorise(terminal.code, "juki_pin", "four_digit_pin"))
    assert await console.state() == "paired"
    await terminal.place_card(await terminal.receive())
    await console.send(type="execute")  # too early: nothing to execute before the input
    assert await console.state() == "card_present"
    assert await console.state() == "waiting_input"
    await console.send(type="cancel")
    assert await console.state() == "cancelled"
    stopped = await terminal.receive()
    assert stopped["type"] == "refused" and stopped["reason"] == "cancelled"
    assert await _records() == [
        ("clerk1", "identity_checked", "ok", "drivers_license:four_digit_pin"),
        ("clerk1", "counter_reset", "cancelled", "juki_pin:cancelled"),
    ]
    assert card.tries_left(PinKind.JUKI_PIN) == 3


async def test_the_console_socket_needs_the_clerk_who_authorised_it_and_opens_once(
    card: SimulatedCard, clerk: Client
) -> None:
    terminal = Terminal(card)
    await terminal.open()
    public_id = await Console(clerk).authorise(terminal.code, "text_pin", "four_digit_pin")
    anonymous = WebsocketCommunicator(
        application, f"/ws/staff/counter-reset/{public_id}/", headers=HOST
    )
    assert not (await anonymous.connect())[0]
    other = Console(await sync_to_async(staff_client)("clerk2", StaffRole.CLERK))
    assert not (await other.socket(public_id).connect())[0]
    first = Console(clerk)
    await first.open(public_id)
    assert not (await first.socket(public_id).connect())[0]  # claimed: no second console
    assert first.comm is not None
    await first.comm.disconnect()


async def test_two_terminals_answering_one_code_abort_the_session(
    card: SimulatedCard, clerk: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("kiosk.counter_consumer.new_terminal_code", lambda: "12345678")
    genuine, stranger = Terminal(card), Terminal(SimulatedCard(demo_profile()))
    await genuine.open()
    await stranger.open()
    console = Console(clerk)
    await console.open(await console.authorise("12345678", "text_pin", "four_digit_pin"))
    states = [await console.state(), await console.state()]
    assert states == ["paired", "failed"]
    for terminal in (genuine, stranger):
        messages = [await terminal.receive(), await terminal.receive()]
        assert messages[-1]["type"] == "refused"
    # One record of the aborted session, written by the console that saw both answers.
    assert (await _records())[1:] == [("clerk1", "counter_reset", "code_collision", "text_pin")]


async def test_a_terminal_that_speaks_before_it_is_paired_is_closed(card: SimulatedCard) -> None:
    terminal = Terminal(card)
    await terminal.open()
    await terminal.comm.send_to(text_data=json.dumps({"type": "card", "certificate": "AA=="}))
    assert (await terminal.comm.receive_output(timeout=10))["type"] == "websocket.close"
    assert await _records() == []


async def test_a_deeply_nested_message_closes_the_terminal_without_a_crash(
    card: SimulatedCard,
) -> None:
    terminal = Terminal(card)
    await terminal.open()
    await terminal.comm.send_to(text_data="[" * 5000 + "]" * 5000)
    assert (await terminal.comm.receive_output(timeout=10))["type"] == "websocket.close"


async def test_a_relay_that_fakes_the_cards_answer_fails_the_reset_and_says_so(
    card: SimulatedCard, clerk: Client
) -> None:
    terminal, console = Terminal(card), Console(clerk)
    await terminal.open()
    await console.open(await console.authorise(terminal.code, "text_pin", "four_digit_pin"))
    assert await console.state() == "paired"
    assert (await terminal.place_card(await terminal.receive()))["type"] == "enter"
    assert await terminal.send(
        type="new_password", credential="text", value="6173", confirm="6173"
    ) == {"type": "wait"}
    assert [await console.state() for _ in range(3)] == ["card_present", "waiting_input", "ready"]
    await console.send(type="execute")
    reply = await terminal.receive()
    for _ in range(3):  # SELECT, INITIALIZE, AUTHENTICATE reach the card
        data, sw = card.process(base64.b64decode(reply["apdu"]))
        reply = await terminal.send(type="apdu_response", response=_b64(data), sw=f"{sw:04X}")
    # The order itself is swallowed: the relay answers 9000 without the card's MAC.
    refused = await terminal.send(type="apdu_response", response="", sw="9000")
    assert refused["type"] == "refused" and refused["reason"] == "card_refused"
    assert await console.state() == "working"
    failed = await console.progress()
    assert failed == {"type": "progress", "state": "failed", "reason": "unauthenticated_answer"}
    assert (await _records())[-1] == (
        "clerk1", "counter_reset", "unauthenticated_answer", "text:failed"
    )


async def test_a_card_taken_away_ends_the_session_and_the_clerk_is_told_why(
    card: SimulatedCard, clerk: Client
) -> None:
    terminal, console = Terminal(card), Console(clerk)
    await terminal.open()
    await console.open(await console.authorise(terminal.code, "auth_locked_reset", "key_locked"))
    assert await console.state() == "paired"
    await terminal.place_card(await terminal.receive())
    await terminal.comm.send_to(text_data=json.dumps({"type": "cancel", "reason": "card_removed"}))
    assert [await console.state() for _ in range(2)] == ["card_present", "waiting_input"]
    assert await console.progress() == {
        "type": "progress", "state": "cancelled", "reason": "card_removed"
    }
    assert (await _records())[-1] == (
        "clerk1", "counter_reset", "cancelled", "auth_locked_reset:card_removed"
    )
