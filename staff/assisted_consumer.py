"""The assisted booking's two sockets (issue 12; docs/staff-console.md, "Assisted booking").

`ConsoleConsumer` (`/ws/staff/assisted/<id>/`, the clerk): refused unless the socket's session is
a clerk's with both factors (staff/assisted_auth.py) *and* the very console session that opened
this assisted session. It receives snapshots of codes (staff/assisted_events.py) and, after a
failed face check, may ask for the chip photo, which it then gets as one binary message.

`TerminalConsumer` (`/ws/assisted/terminal/`, the resident's face page): refused unless the
session is the terminal bound to a live assisted session. When the console asks, the page sends
the chip photo it already holds for the face check; the server accepts it only if the session's
wizard is at the face step with verified chip evidence, the automated check has failed, and the
photo's SHA-256 is the one recorded when the evidence was verified (as /ws/face/ does). It is
decoded and re-encoded as JPEG in memory (a browser cannot show the chip's JPEG 2000), sent to
the console group, and dropped: never written, never logged, never served over HTTP.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import logging
from typing import Any

import cv2
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils import timezone

from faceverify.imaging import JP2, JPEG, PNG, ImageError, decode
from faceverify.session import REFERENCE_MAX_BYTES
from reset import face_attempts
from staff import assisted_auth
from staff.assisted_events import (
    console_group,
    publish,
    send,
    snapshot,
    terminal_group,
    terminal_row,
)
from staff.assisted_session import AssistedSession

logger = logging.getLogger(__name__)

#: The photo message: base64 of at most REFERENCE_MAX_BYTES, plus a little JSON.
MAX_TEXT_CHARS = REFERENCE_MAX_BYTES * 4 // 3 + 256


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
        if not isinstance(message, dict) or message.get("type") != "request_photo":
            await _send_json(self, type="error", reason="bad_message")
            return
        await self._request_photo()

    async def _request_photo(self) -> None:
        assert self.row is not None  # noqa: S101 - connect closed the socket otherwise
        # Read again: the clerk may have logged out or gone idle since the socket opened.
        row = await database_sync_to_async(_console_row)(
            self.session_key, str(self.row.public_id), touch=True
        )
        if row is None:
            await _send_json(self, type="error", reason="not_verified")
            await self.close(code=4403)
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


def _terminal_row(session: Any) -> AssistedSession | None:
    return terminal_row(session)


def _relay_check(session_key: str, public_id: str) -> tuple[str, AssistedSession | None, Any]:
    """(refusal, row, wizard state) for a photo the page sends now, read afresh."""
    session = assisted_auth.fresh_session(session_key)
    row = terminal_row(session)
    if row is None or str(row.public_id) != public_id:
        return "not_live", None, None
    # The same gate as the face check's: step `face` with verified chip evidence.
    state = face_attempts.load_state({"session": session})
    if state is None:
        return "no_verified_evidence", row, None
    if row.face_failed_at is None:
        return "face_check_not_failed", row, None
    if row.in_person_at is not None:
        return "already_recorded", row, None
    return "", row, state


def _as_jpeg(photo: bytes) -> bytes:
    """The chip photo (JP2, or JPEG/PNG as some cards and the simulator store) as JPEG bytes."""
    image = decode(photo, formats=frozenset({JP2, JPEG, PNG}), min_side=32)
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    if not ok:
        raise ImageError("undecodable")
    return bytes(buffer)


def _mark_shown(row: AssistedSession, photo_sha256: str, card_identity: str) -> None:
    row.photo_sha256 = photo_sha256
    row.card_identity = card_identity
    row.photo_shown_at = timezone.now()
    row.save(update_fields=["photo_sha256", "card_identity", "photo_shown_at"])


class TerminalConsumer(AsyncWebsocketConsumer):
    row: AssistedSession | None = None
    photo_wanted: bool = False

    async def connect(self) -> None:
        session = self.scope.get("session")
        self.row = await database_sync_to_async(_terminal_row)(session)
        if self.row is None:
            await self.close(code=4403)
            return
        self.session_key = session.session_key
        await self.channel_layer.group_add(terminal_group(self.row), self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.row is not None:
            await self.channel_layer.group_discard(terminal_group(self.row), self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            too_long = text_data is None or len(text_data) > MAX_TEXT_CHARS
            message = None if too_long else json.loads(text_data or "")
        except ValueError:
            message = None
        if not isinstance(message, dict) or message.get("type") != "photo":
            await _send_json(self, type="error", reason="bad_message")
            return
        if not self.photo_wanted:
            # Only on the console's request: the page never pushes the photo by itself.
            await _send_json(self, type="error", reason="not_requested")
            return
        self.photo_wanted = False
        await self._relay(message.get("photo"))

    async def _relay(self, photo_b64: Any) -> None:
        assert self.row is not None  # noqa: S101 - connect closed the socket otherwise
        refusal, row, state = await database_sync_to_async(_relay_check)(
            self.session_key, str(self.row.public_id)
        )
        photo = _b64(photo_b64)
        if not refusal and (
            photo is None
            or not hmac.compare_digest(hashlib.sha256(photo).hexdigest(), state.photo_sha256)
        ):
            refusal = "wrong_photo"
        jpeg = b""
        if not refusal:
            try:
                jpeg = await asyncio.to_thread(_as_jpeg, photo)  # type: ignore[arg-type]
            except ImageError:
                refusal = "photo_unreadable"
        del photo
        if refusal or row is None:
            logger.info("assisted photo relay refused reason=%s", refusal)
            await send(
                console_group(self.row), {"type": "assisted.photo_refused", "reason": refusal}
            )
            await _send_json(self, type="error", reason=refusal)
            return
        await database_sync_to_async(_mark_shown)(row, state.photo_sha256, state.card_identity)
        await send(console_group(row), {"type": "assisted.photo", "jpeg": jpeg})
        del jpeg
        await publish(row)
        await _send_json(self, type="photo_sent")

    # -- group messages ---------------------------------------------------------------------------

    async def assisted_photo_request(self, event: dict[str, Any]) -> None:
        self.photo_wanted = True
        await _send_json(self, type="photo_request")

    async def assisted_in_person_done(self, event: dict[str, Any]) -> None:
        await _send_json(self, type="in_person_done")

    async def assisted_ended(self, event: dict[str, Any]) -> None:
        await _send_json(self, type="ended")


def _b64(value: Any) -> bytes | None:
    if not isinstance(value, str) or len(value) > REFERENCE_MAX_BYTES * 4 // 3 + 8:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
