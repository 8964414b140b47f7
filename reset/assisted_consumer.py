"""`/ws/assisted/terminal/`: the resident's face page in an assisted booking (issue 12).

Refused unless the socket's session is the counter terminal bound to a live assisted session
(reset/assisted_terminal.py). When the clerk's console asks (staff/assisted_consumer.py), the page
sends the chip photo it already holds for the face check; the server accepts it only if the
session's wizard is at the face step with verified chip evidence (the same gate as /ws/face/),
the automated check has failed, and the photo's SHA-256 is the one recorded when the evidence was
verified. It is decoded and re-encoded as JPEG in memory (a browser cannot show the chip's
JPEG 2000), sent to the console group, and dropped: never written, never logged, never served
over HTTP. The socket also tells the page when the clerk has recorded the in-person check.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from importlib import import_module
from typing import Any

import cv2
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.utils import timezone

from faceverify.imaging import JP2, JPEG, PNG, ImageError, decode
from faceverify.session import REFERENCE_MAX_BYTES
from reservations.assisted import AssistedSession
from reservations.assisted_channel import console_group, publish, send, terminal_group
from reset import face_attempts
from reset.assisted_terminal import terminal_row
from reset.face_consumer import _b64 as b64_photo  # the same checked decoding as /ws/face/
from reset.wizard_state import WizardState
from webapp.socket_messages import json_object

logger = logging.getLogger(__name__)

#: The photo message: base64 of at most REFERENCE_MAX_BYTES, plus a little JSON.
MAX_TEXT_CHARS = REFERENCE_MAX_BYTES * 4 // 3 + 256


def _relay_check(
    session_key: str, public_id: str
) -> tuple[str, AssistedSession | None, WizardState | None]:
    """(refusal, row, wizard state) for a photo the page sends now, read afresh."""
    store: type[SessionBase] = import_module(settings.SESSION_ENGINE).SessionStore
    session = store(session_key=session_key)
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


def _mark_shown(row: AssistedSession, state: WizardState) -> None:
    row.photo_sha256 = state.photo_sha256
    row.card_identity = state.card_identity
    row.photo_shown_at = timezone.now()
    row.save(update_fields=["photo_sha256", "card_identity", "photo_shown_at"])


async def _send_json(consumer: AsyncWebsocketConsumer, **message: Any) -> None:
    await consumer.send(text_data=json.dumps(message, ensure_ascii=False))


class TerminalConsumer(AsyncWebsocketConsumer):
    row: AssistedSession | None = None
    session_key: str = ""
    photo_wanted: bool = False

    async def connect(self) -> None:
        session = self.scope.get("session")
        self.row = await database_sync_to_async(terminal_row)(session)
        if self.row is None:
            await self.close(code=4403)
            return
        self.session_key = str(session.session_key)
        await self.channel_layer.group_add(terminal_group(self.row), self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.row is not None:
            await self.channel_layer.group_discard(terminal_group(self.row), self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        message = json_object(text_data, max_chars=MAX_TEXT_CHARS)
        if message is None or message.get("type") != "photo":
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
        photo = b64_photo(photo_b64, limit=REFERENCE_MAX_BYTES)
        if state is not None and not refusal:
            if photo is None or not hmac.compare_digest(
                hashlib.sha256(photo).hexdigest(), state.photo_sha256
            ):
                refusal = "wrong_photo"
        jpeg = b""
        if photo is not None and not refusal:
            try:
                jpeg = await asyncio.to_thread(_as_jpeg, photo)
            except ImageError:
                refusal = "photo_unreadable"
        del photo
        if refusal or row is None or state is None:
            logger.info("assisted photo relay refused reason=%s", refusal)
            await send(
                console_group(self.row), {"type": "assisted.photo_refused", "reason": refusal}
            )
            await _send_json(self, type="error", reason=refusal)
            return
        await database_sync_to_async(_mark_shown)(row, state)
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
