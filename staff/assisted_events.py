"""The assisted booking's live channel: who is told what, over Channels groups.

Two groups per assisted session (staff/assisted_session.py):
- the console group — the clerk's console (staff/assisted_consumer.ConsoleConsumer) gets a
  snapshot of codes after every change, and the chip photo when the in-person check asks for it;
- the terminal group — the resident's face page (TerminalConsumer) is asked for the photo and told
  when the clerk has recorded the check.

A snapshot is built from the row, so it can only hold what the row holds: the step, a refusal's
reason code, face tries left and the face result. What the server never learns (the PIN, the
card-face items, camera frames) cannot be in it (architecture.md, trust model). Everything is
sent with `group_send`, so it works with the in-memory layer (`make run`) and Redis alike; a
layer that is down or slow delays nothing for the resident (a bounded wait, then a warning).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.utils import timezone

from reset import limits, signals
from staff.assisted_session import AssistedSession

logger = logging.getLogger(__name__)

#: The resident terminal's session key naming its assisted session (a public id, nothing else).
SESSION_KEY = "staff_assisted"
#: How long one publication may wait for the channel layer.
SEND_TIMEOUT = 2.0

#: The reader's state as the server can know it: from the step the page reported reaching
#: (docs/wizard.md, "POST /reset/progress/"), never from the bridge itself.
READER_STATE = {
    "": "idle",
    "choose": "idle",
    "card_face": "idle",
    "reader": "waiting_for_card",
    "password": "card_set",
    "chip": "reading_chip",
    "face": "chip_verified",
    "done": "chip_verified",
    "booked": "chip_verified",
}


def console_group(row: AssistedSession) -> str:
    return f"assisted-{row.public_id.hex}-console"


def terminal_group(row: AssistedSession) -> str:
    return f"assisted-{row.public_id.hex}-terminal"


def snapshot(row: AssistedSession) -> dict[str, Any]:
    """What the console shows, as codes (the page maps them to its labels)."""
    return {
        "joined": row.joined_at is not None,
        "live": row.is_live(),
        "ended": row.ended_at is not None,
        "step": row.step,
        "reader": READER_STATE.get(row.step, "idle"),
        "refusal": row.last_refusal,
        "face_attempts_left": row.face_attempts_left,
        "face_result": row.face_result,
        "face_failed": row.face_failed_at is not None,
        "photo_shown": row.photo_shown_at is not None,
        "in_person": row.in_person_at is not None,
        "reservation": str(row.reservation.public_id) if row.reservation else "",
    }


async def send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:  # pragma: no cover - settings always configure one
        return
    try:
        await asyncio.wait_for(layer.group_send(group, message), SEND_TIMEOUT)
    except Exception:
        # The console misses one update (it shows the row's state on reload); the resident's
        # request or face check goes on regardless.
        logger.warning("assisted update not delivered group=%s", group, exc_info=True)


async def publish(row: AssistedSession) -> None:
    data = await database_sync_to_async(snapshot)(row)
    await send(console_group(row), {"type": "assisted.progress", "snapshot": data})


def publish_sync(row: AssistedSession) -> None:
    """From a sync view or middleware (a thread of the server's event loop under ASGI)."""
    data = snapshot(row)
    async_to_sync(send)(console_group(row), {"type": "assisted.progress", "snapshot": data})


def tell_terminal_sync(row: AssistedSession, kind: str) -> None:
    async_to_sync(send)(terminal_group(row), {"type": f"assisted.{kind}"})


def terminal_row(session: Any) -> AssistedSession | None:
    """The live assisted session this resident session is bound to, if any."""
    public_id = session.get(SESSION_KEY) if session is not None else None
    if not isinstance(public_id, str) or not session.session_key:
        return None
    row = AssistedSession.objects.filter(public_id=public_id).select_related("reservation").first()
    if row is None or not row.is_live():
        return None
    if not row.bound_to_terminal(limits.session_key_hash(session.session_key)):
        return None
    return row


def _record_face_event(session: Any, result: str, attempts_left: int) -> AssistedSession | None:
    row = terminal_row(session)
    if row is None:
        return None
    row.face_result = result
    row.face_attempts_left = max(0, int(attempts_left))
    fields = ["face_result", "face_attempts_left"]
    # A failure the engine decided; "interrupted" is the server's loss, not the resident's.
    if result not in ("started", "passed", "interrupted"):
        row.face_failed_at = timezone.now()
        fields.append("face_failed_at")
    row.save(update_fields=fields)
    return row


async def on_face_check_event(
    sender: Any, *, scope: dict[str, Any], result: str, attempts_left: int, **_: Any
) -> None:
    """reset.signals.face_check_event → the console (only for assisted sessions)."""
    row = await database_sync_to_async(_record_face_event)(
        scope.get("session"), result, attempts_left
    )
    if row is not None:
        await publish(row)


def connect_signals() -> None:
    signals.face_check_event.connect(on_face_check_event, dispatch_uid="staff.assisted")
