"""The resident side of an assisted booking (issue 12): which assisted session this browser's
session is the counter terminal of, and the face check's results for the clerk's console.

The session holds only the assisted session's public id (`SESSION_KEY`); the row
(reservations/assisted.py) must name this session (by hash) and still be live.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from django.utils import timezone

from reservations.assisted import AssistedSession, session_hash
from reservations.assisted_channel import publish
from reset import signals

#: The terminal session's key naming its assisted session (a public id, nothing else).
SESSION_KEY = "assisted"


def terminal_row(session: Any) -> AssistedSession | None:
    """The live assisted session this resident session is bound to, if any."""
    public_id = session.get(SESSION_KEY) if session is not None else None
    if not isinstance(public_id, str) or not session.session_key:
        return None
    row = AssistedSession.objects.filter(public_id=public_id).select_related("reservation").first()
    if (
        row is None
        or not row.is_live()
        or not row.bound_to_terminal(session_hash(session.session_key))
    ):
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
    """reset.signals.face_check_event → the console (assisted sessions only)."""
    row = await database_sync_to_async(_record_face_event)(
        scope.get("session"), result, attempts_left
    )
    if row is not None:
        await publish(row)


def connect_signals() -> None:
    signals.face_check_event.connect(on_face_check_event, dispatch_uid="reset.assisted")
