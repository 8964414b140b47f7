"""The assisted booking's live channel: who is told what, over Channels groups.

Two groups per assisted session (reservations/assisted.py):
- the console group — the clerk's console (staff/assisted_consumer.py) gets a snapshot of codes
  after every change, and the chip photo when the in-person check asks for it;
- the terminal group — the resident's face page (reset/assisted_consumer.py) is asked for the
  photo, and told when the clerk has recorded the check or ended the session.

A snapshot is built from the row, so it can only hold what the row holds: the step, a refusal's
reason code, face tries left and the face result. What the server never learns (the PIN, the
card-face items, camera frames) cannot be in it (architecture.md, trust model). Everything goes
through `group_send`, so it works with the in-memory layer (`make run`) and Redis alike; a layer
that is down or slow delays nothing for long (a bounded wait, then a warning).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from reservations.assisted import AssistedSession

logger = logging.getLogger(__name__)

#: How long one publication may wait for the channel layer.
SEND_TIMEOUT = 2.0

#: The reader's state as the server can know it: from the step the page reported reaching
#: (docs/wizard.md, "POST /reset/progress/"), never from the bridge itself.
READER_STATE = {
    "": "idle",
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
        "pin_tries_left": row.pin_tries_left,
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
