"""`/ws/staff/assisted/<id>/`: the clerk's console of an assisted booking (issue 12;
docs/staff-console.md, "Assisted booking").

Refused unless the socket's session is a clerk's with both factors (staff/assisted_auth.py) *and*
the very console session that opened this assisted session. It receives snapshots of codes
(reservations/assisted_channel.py) and, after a failed face check, may ask for the chip photo,
which the resident's page sends through reset/assisted_consumer.py and this socket passes on as
one binary message — to this console only, never stored or logged.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from reservations.assisted import AssistedSession
from reservations.assisted_channel import console_group, send, snapshot, terminal_group
from staff import assisted_auth

logger = logging.getLogger(__name__)


async def _send_json(consumer: AsyncWebsocketConsumer, **message: Any) -> None:
    await consumer.send(text_data=json.dumps(message, ensure_ascii=False))


def _console_row(session_key: str | None, public_id: str, *, touch: bool = False) -> Any:
    """The assisted session if this socket is its bound, verified clerk console; else None."""
    clerk = assisted_auth.verified_clerk(session_key, touch=touch)
    if clerk is None:
        return None
    row = AssistedSession.objects.select_related("reservation").filter(public_id=public_id).first()
    if row is None or not row.bound_to_clerk(clerk.pk, assisted_auth.session_hash(session_key)):
        return None
    return row


class ConsoleConsumer(AsyncWebsocketConsumer):
    row: AssistedSession | None = None

    async def connect(self) -> None:
        session = self.scope.get("session")
        self.session_key = session.session_key if session is not None else None
        public_id = str(self.scope["url_route"]["kwargs"]["public_id"])
        self.row = await database_sync_to_async(_console_row)(self.session_key, public_id)
        if self.row is None:
            logger.info("assisted console socket refused")
            await self.close(code=4403)
            return
        await self.channel_layer.group_add(console_group(self.row), self.channel_name)
        await self.accept()
        data = await database_sync_to_async(snapshot)(self.row)
        await _send_json(self, type="progress", snapshot=data)

    async def disconnect(self, code: int) -> None:
        if self.row is not None:
            await self.channel_layer.group_discard(console_group(self.row), self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            message = json.loads(text_data or "") if text_data and len(text_data) < 256 else None
        except ValueError:
            message = None
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "request_photo":
            await self._request_photo()
        elif kind == "active":
            await self._active()
        else:
            await _send_json(self, type="error", reason="bad_message")

    async def _clerk_action(self) -> AssistedSession | None:
        """The row, read again for an action of the clerk, which also counts as activity for the
        idle timeout (staff/idle.py), as a request would; None (and the socket closed) when the
        clerk has logged out or gone idle since the socket opened. Watching alone is no action."""
        assert self.row is not None  # noqa: S101 - connect closed the socket otherwise
        row = await database_sync_to_async(_console_row)(
            self.session_key, str(self.row.public_id), touch=True
        )
        if row is None:
            await _send_json(self, type="error", reason="not_verified")
            await self.close(code=4403)
        return row

    async def _active(self) -> None:
        """The clerk used the console page (a key or a click)."""
        await self._clerk_action()

    async def _request_photo(self) -> None:
        row = await self._clerk_action()
        if row is None:
            return
        if not row.is_live() or row.step != "face" or row.face_failed_at is None:
            await _send_json(self, type="error", reason="face_check_not_failed")
            return
        if row.in_person_at is not None:
            await _send_json(self, type="error", reason="already_recorded")
            return
        await send(terminal_group(row), {"type": "assisted.photo_request"})
        await _send_json(self, type="photo_requested")

    # -- group messages ---------------------------------------------------------------------------

    async def assisted_progress(self, event: dict[str, Any]) -> None:
        await _send_json(self, type="progress", snapshot=event["snapshot"])

    async def assisted_photo(self, event: dict[str, Any]) -> None:
        # The one message that carries the photo: binary, to this console only, never logged.
        await self.send(bytes_data=event["jpeg"])

    async def assisted_photo_refused(self, event: dict[str, Any]) -> None:
        await _send_json(self, type="error", reason=event["reason"])
