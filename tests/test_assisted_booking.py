"""The assisted booking through the real ASGI stack: HTTP views, the middleware that relays the
resident's progress, both sockets, and the real face consumer failing a real attempt.

The resident's wizard state is put at the face step the way reset/tests/test_face_consumer.py
does (the chip evidence check has its own tests with the simulated card); everything from there
on — the face failure, the photo relay, the clerk's record, the booking — runs for real. It sits
in tests/, not beside either app: it drives both the clerk's side (staff/) and the resident's
(reset/), which never import each other. The browser test (tests/e2e/test_assisted_e2e.py) walks
the same path from the card read on.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import asdict
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from faceverify.tests import synth
from mynacard.targets import TargetPassword
from reservations.assisted import AssistedSession
from reservations.audit_log import AuditAction, AuditRecord
from reservations.models import FaceCheck, Reservation
from reset import wizard_state
from reset.assisted_terminal import SESSION_KEY
from reset.face_consumer import FaceConsumer
from reset.wizard_state import Step, WizardState
from staff.assisted_views import CODES_KEY
from staff.idle import LAST_SEEN_KEY
from staff.roles import StaffRole
from staff.tests.staff_users import PASSWORD, current_code, make_user, staff_client
from webapp.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.backends]

CARD = "a5515ed" * 9 + "0"
ORIGIN = b"http://testserver"


@pytest.fixture(scope="module")
def chip() -> bytes:
    return synth.chip_photo("obama")


@pytest.fixture(autouse=True)
def _groups(transactional_db: None) -> None:
    """Transactional tests flush the tables, the groups of migration 0001 with them."""
    for role in StaffRole:
        Group.objects.get_or_create(name=role.value)


def _key(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def socket(path: str, client: Client | None) -> WebsocketCommunicator:
    headers = [(b"origin", ORIGIN), (b"host", b"testserver")]
    if client is not None:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={_key(client)}".encode()))
    return WebsocketCommunicator(application, path, headers=headers)


async def next_json(comm: WebsocketCommunicator, timeout: float = 30) -> dict[str, Any]:
    return dict(json.loads(await comm.receive_from(timeout=timeout)))


async def progress_until(comm: WebsocketCommunicator, **wanted: Any) -> dict[str, Any]:
    """Snapshots until one has the wanted values (intermediate ones may come first)."""
    while True:
        message = await next_json(comm, timeout=60)
        assert message["type"] == "progress", message
        snap = message["snapshot"]
        if all(snap.get(k) == v for k, v in wanted.items()):
            return snap


def _open_and_join() -> tuple[Client, Client, AssistedSession]:
    clerk = staff_client("clerk1", StaffRole.CLERK)
    opened = clerk.post("/staff/assisted/new/")
    assert opened.status_code == 302
    row = AssistedSession.objects.get()
    code = clerk.session[CODES_KEY][str(row.public_id)]
    console = clerk.get(opened["Location"])
    assert console.status_code == 200 and code in console.content.decode()
    assert "blob:" in console["Content-Security-Policy"]
    terminal = Client()
    terminal.get("/assisted/")
    assert (
        terminal.post(
            "/assisted/", {"code": "00000000" if code != "00000000" else "1" * 8}
        ).status_code
        == 400
    )
    joined = terminal.post("/assisted/", {"code": code})
    assert joined.status_code == 302 and joined["Location"] == "/reset/choose/"
    # Single use: a second terminal cannot take the same session.
    assert Client().post("/assisted/", {"code": code}).status_code == 400
    row.refresh_from_db()
    return clerk, terminal, row


def _at_face_step(terminal: Client, photo: bytes, *, evidence_at: float | None = None) -> None:
    """The state `record_evidence` leaves after the server verified the chip (see module doc)."""
    session = terminal.session
    session[wizard_state.SESSION_KEY] = asdict(
        WizardState(
            target=str(TargetPassword.SIGN),
            step=str(Step.FACE),
            started_at=time.time(),
            card_identity=CARD,
            photo_sha256=hashlib.sha256(photo).hexdigest(),
            evidence_at=time.time() if evidence_at is None else evidence_at,
        )
    )
    session.save()
    # The face page: the relay middleware sees the step and tells the console.
    assert terminal.get("/reset/face/").status_code == 200


async def _fail_face_check(terminal: Client, photo: bytes) -> None:
    """A real attempt on /ws/face/ that fails: the page sends no frame before the deadline."""
    comm = socket("/ws/face/", terminal)
    assert (await comm.connect())[0]
    await comm.send_to(
        text_data=json.dumps({"type": "reference", "photo": base64.b64encode(photo).decode()})
    )
    while True:
        message = await next_json(comm, timeout=240)
        if message["type"] == "result":
            break
    assert message["passed"] is False and message["reason"] == "timeout"


async def test_a_failed_face_check_is_completed_by_the_clerk_in_person(
    chip: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(FaceConsumer, "attempt_deadline", 0.3)
    clerk, terminal, row = await sync_to_async(_open_and_join)()

    console = socket(f"/ws/staff/assisted/{row.public_id}/", clerk)
    assert (await console.connect())[0]
    first = await next_json(console)
    assert first["type"] == "progress" and first["snapshot"]["joined"] is True

    # Live progress from the resident's requests (the middleware), then from /ws/face/.
    await sync_to_async(terminal.post)("/reset/choose/", {"target": "sign"})
    await progress_until(console, step="card_face", reader="idle")
    await sync_to_async(terminal.post)(
        "/reset/progress/", json.dumps({"done": "card_face"}), content_type="application/json"
    )
    await progress_until(console, step="reader", reader="waiting_for_card")
    # A refused request shows its reason code (here: out of order).
    await sync_to_async(terminal.post)(
        "/reset/progress/", json.dumps({"done": "password"}), content_type="application/json"
    )
    await progress_until(console, step="reader", refusal="wrong_step")

    # Before any failure there is nothing to complete in person.
    await sync_to_async(_at_face_step)(terminal, chip)
    await progress_until(console, step="face", reader="chip_verified")
    await console.send_to(text_data=json.dumps({"type": "request_photo"}))
    assert (await next_json(console))["reason"] == "face_check_not_failed"

    await _fail_face_check(terminal, chip)
    await progress_until(console, face_result="started")
    failed = await progress_until(console, face_result="timeout", face_failed=True)
    assert isinstance(failed["face_attempts_left"], int)

    # The photo: asked by the console, sent by the terminal page, checked, relayed as JPEG.
    page = socket("/ws/assisted/terminal/", terminal)
    assert (await page.connect())[0]
    await page.send_to(
        text_data=json.dumps({"type": "photo", "photo": base64.b64encode(chip).decode()})
    )
    assert (await next_json(page))["reason"] == "not_requested"  # never pushed unasked
    await console.send_to(text_data=json.dumps({"type": "request_photo"}))
    assert (await next_json(console))["type"] == "photo_requested"
    assert (await next_json(page))["type"] == "photo_request"
    other = synth.chip_photo("biden")
    await page.send_to(
        text_data=json.dumps({"type": "photo", "photo": base64.b64encode(other).decode()})
    )
    assert (await next_json(page))["reason"] == "wrong_photo"
    assert (await next_json(console))["reason"] == "wrong_photo"
    await console.send_to(text_data=json.dumps({"type": "request_photo"}))
    assert (await next_json(console))["type"] == "photo_requested"
    assert (await next_json(page))["type"] == "photo_request"
    await page.send_to(
        text_data=json.dumps({"type": "photo", "photo": base64.b64encode(chip).decode()})
    )
    jpeg = await console.receive_from(timeout=30)
    assert isinstance(jpeg, bytes) and jpeg.startswith(b"\xff\xd8")
    await progress_until(console, photo_shown=True)
    assert (await next_json(page))["type"] == "photo_sent"

    # The clerk records it: one audit record, the terminal is told.
    records = await sync_to_async(AuditRecord.objects.count)()
    recorded = await sync_to_async(clerk.post)(
        f"/staff/assisted/{row.public_id}/in-person/",
        {"document_type": "drivers_license", "reason": "appearance_changed"},
    )
    assert recorded.status_code == 302
    assert await sync_to_async(AuditRecord.objects.count)() == records + 1
    last = await sync_to_async(AuditRecord.objects.order_by("-sequence").first)()
    assert last is not None and last.action == AuditAction.IDENTITY_CHECKED
    assert (last.actor, last.result) == ("clerk1", "ok")
    assert last.detail == "face:drivers_license:appearance_changed"
    assert (await next_json(page))["type"] == "in_person_done"

    # The terminal finishes the step and books; the console names the booking.
    done = await sync_to_async(terminal.post)("/assisted/complete/")
    assert done["Location"] == "/reset/done/"
    booked = await sync_to_async(terminal.get)("/reset/done/")
    assert booked.status_code == 302 and "/reset/reservation/" in booked["Location"]
    final = await progress_until(console, step="booked")
    reservation = await sync_to_async(Reservation.objects.get)()
    assert final["reservation"] == str(reservation.public_id)
    assert reservation.face_check == FaceCheck.IN_PERSON
    assert (await next_json(page))["type"] == "ended"
    assert SESSION_KEY not in await sync_to_async(lambda: dict(terminal.session.items()))()
    # The staff reservation page says how the face step was done.
    detail = await sync_to_async(clerk.get)(f"/staff/reservations/{reservation.public_id}/")
    assert "窓口職員による対面確認" in detail.content.decode()
    assert "運転免許証" in detail.content.decode()
    assert "face:drivers_license:appearance_changed" in detail.content.decode()  # history
    for comm in (console, page):
        await comm.disconnect()


def _refusal_setup(chip: bytes) -> tuple[Client, Client, AssistedSession, Client, Client]:
    clerk, terminal, row = _open_and_join()
    _at_face_step(terminal, chip)
    other_clerk = staff_client("clerk2", StaffRole.CLERK)
    # The same clerk from a second browser: verified, but not the console that opened it.
    same_clerk_elsewhere = Client()
    device = TOTPDevice.objects.get(user__username="clerk1")
    device.last_t = -1  # the code of this period was used by the first login
    device.save()
    response = same_clerk_elsewhere.post(
        "/staff/login/",
        {
            "username": "clerk1",
            "password": PASSWORD,
            "otp_token": current_code(device),
        },
    )
    assert response.status_code == 302
    return clerk, terminal, row, other_clerk, same_clerk_elsewhere


async def test_only_the_console_that_opened_it_follows_and_completes_it(chip: bytes) -> None:
    clerk, terminal, row, other_clerk, elsewhere = await sync_to_async(_refusal_setup)(chip)
    path = f"/ws/staff/assisted/{row.public_id}/"

    password_only = Client()
    user, _ = await sync_to_async(make_user)("clerk3", StaffRole.CLERK)
    await sync_to_async(password_only.force_login)(user)  # no second factor
    await sync_to_async(password_only.get)("/staff/")  # a session key to send
    for client in (None, password_only, other_clerk, elsewhere, terminal):
        comm = socket(path, client)
        connected, _ = await comm.connect()
        assert not connected, client

    for client in (other_clerk, elsewhere):
        assert (await sync_to_async(client.get)(path.replace("/ws", ""))).status_code == 404
        response = await sync_to_async(client.post)(
            f"/staff/assisted/{row.public_id}/in-person/",
            {"document_type": "passport", "reason": "other"},
        )
        assert response.status_code == 404

    # The bound console, before the face check failed: refused, and audited as such.
    response = await sync_to_async(clerk.post)(
        f"/staff/assisted/{row.public_id}/in-person/",
        {"document_type": "passport", "reason": "other"},
    )
    assert response.status_code == 302
    last = await sync_to_async(AuditRecord.objects.order_by("-sequence").first)()
    assert last is not None and last.result == "face_check_not_failed"
    # A form without a document type is not an action yet.
    response = await sync_to_async(clerk.post)(
        f"/staff/assisted/{row.public_id}/in-person/", {"reason": "other"}
    )
    assert response.status_code == 400

    # The terminal cannot complete anything by itself.
    response = await sync_to_async(terminal.post)("/assisted/complete/")
    assert response["Location"] == "/reset/face/"
    state = await sync_to_async(lambda: terminal.session[wizard_state.SESSION_KEY])()
    assert state["step"] == "face"
    assert await sync_to_async(Reservation.objects.count)() == 0


async def test_the_photo_needs_the_verified_evidence(chip: bytes) -> None:
    clerk, terminal, row = await sync_to_async(_open_and_join)()
    await sync_to_async(_at_face_step)(terminal, chip, evidence_at=0.0)
    # Even with a failure on record, a wizard without recorded evidence sends no photo.
    await sync_to_async(AssistedSession.objects.filter(pk=row.pk).update)(
        face_failed_at=row.created, step="face"
    )
    console = socket(f"/ws/staff/assisted/{row.public_id}/", clerk)
    assert (await console.connect())[0]
    await next_json(console)
    page = socket("/ws/assisted/terminal/", terminal)
    assert (await page.connect())[0]
    await console.send_to(text_data=json.dumps({"type": "request_photo"}))
    assert (await next_json(console))["type"] == "photo_requested"
    assert (await next_json(page))["type"] == "photo_request"
    await page.send_to(
        text_data=json.dumps({"type": "photo", "photo": base64.b64encode(chip).decode()})
    )
    assert (await next_json(page))["reason"] == "no_verified_evidence"
    assert (await next_json(console))["reason"] == "no_verified_evidence"
    await sync_to_async(row.refresh_from_db)()
    assert row.photo_shown_at is None
    for comm in (console, page):
        await comm.disconnect()


async def test_a_console_follows_the_idle_timeout(chip: bytes) -> None:
    """Working on the console page counts as activity; an idle session loses the socket."""
    clerk, _terminal, row = await sync_to_async(_open_and_join)()
    path = f"/ws/staff/assisted/{row.public_id}/"
    console = socket(path, clerk)
    assert (await console.connect())[0]
    await next_json(console)

    def last_seen(value: float | None = None) -> float:
        session = SessionStore(session_key=_key(clerk))
        if value is not None:
            session[LAST_SEEN_KEY] = value
            session.save()
        return float(session[LAST_SEEN_KEY])

    before = await sync_to_async(last_seen)(time.time() - 60)
    await console.send_to(text_data=json.dumps({"type": "active"}))
    await console.send_to(text_data=json.dumps({"type": "unknown"}))
    assert (await next_json(console))["reason"] == "bad_message"  # after "active" was handled
    assert await sync_to_async(last_seen)() > before

    await sync_to_async(last_seen)(time.time() - settings.MYNA_STAFF_IDLE_SECONDS - 5)
    await console.send_to(text_data=json.dumps({"type": "active"}))
    assert (await next_json(console))["reason"] == "not_verified"
    assert (await console.receive_output(timeout=5))["type"] == "websocket.close"
    refused = socket(path, clerk)
    assert not (await refused.connect())[0]


def _at_step(terminal: Client, step: Step) -> None:
    session = terminal.session
    session[wizard_state.SESSION_KEY] = asdict(
        WizardState(target=str(TargetPassword.SIGN), step=str(step), started_at=time.time())
    )
    session.save()


def test_the_console_sees_the_known_passwords_tries_left_and_nothing_else() -> None:
    _, terminal, row = _open_and_join()
    _at_step(terminal, Step.CARD_FACE)
    page = terminal.get("/reset/card/").content.decode()
    assert '"triesUrl": "/reset/tries/"' in page  # the card page of a terminal reports them
    _at_step(terminal, Step.PASSWORD)  # as the card status read leaves it

    def report(body: Any) -> Any:
        return terminal.post("/reset/tries/", json.dumps(body), content_type="application/json")

    # Only a count a card could give: never a string (a password), a bool or an absurd number.
    bodies: list[Any] = [{"tries_left": "2580"}, {"tries_left": True}, {"tries_left": 17}, []]
    for bad in bodies:
        answer = report(bad)
        assert answer.status_code == 400 and answer.json()["reason"] == "malformed", bad
    assert report({"tries_left": 2}).json() == {"ok": True}
    row.refresh_from_db()
    assert row.pin_tries_left == 2
    from reservations.assisted_channel import snapshot

    assert snapshot(row)["pin_tries_left"] == 2
    assert "2580" not in json.dumps(snapshot(row))

    # Before the card status was read, the count cannot be known yet.
    _at_step(terminal, Step.READER)
    assert report({"tries_left": 3}).json()["reason"] == "wrong_step"
    # A resident's own browser, not a terminal: no report, no page setting.
    own = Client()
    _at_step(own, Step.CARD_FACE)
    assert '"triesUrl": ""' in own.get("/reset/card/").content.decode()
    _at_step(own, Step.PASSWORD)
    refused = own.post("/reset/tries/", '{"tries_left": 2}', content_type="application/json")
    assert refused.status_code == 409 and refused.json()["reason"] == "not_assisted"
