"""/ws/issuer/: the kiosk page's one WebSocket (docs/kiosk.md). Thin: JSON in, KioskFlow, JSON out.

The page relays the issuer channel's APDUs between this socket and the local bridge
(`myna-bridge --kiosk`); the flow's state lives in this consumer only, and ends with the socket.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from kiosk.flow import KioskFlow, refused
from kiosk.issuer import issuer_backend
from webapp.socket_messages import json_object

logger = logging.getLogger(__name__)

MAX_MESSAGE = 16 * 1024


def scope_origin(scope: dict[str, Any]) -> str:
    """The origin the card signs at the kiosk: settings, else this socket's scheme://host."""
    configured = str(settings.MYNA_PUBLIC_ORIGIN or "")
    if configured:
        return configured
    headers = dict(scope.get("headers") or [])
    host = headers.get(b"host", b"").decode("latin-1").lower()
    scheme = "https" if scope.get("scheme") == "wss" else "http"
    return f"{scheme}://{host}"


class IssuerConsumer(AsyncWebsocketConsumer):
    """One kiosk completion per connection."""

    # A completion talks to its one page and to no group, so it takes no channel layer: with
    # Redis every socket would otherwise hold a blocking receive there, and a receive cancelled
    # at disconnect could leave the socket's task hanging (seen in the backends tests). No layer
    # is configured under this alias (channels.layers.get_channel_layer gives None).
    channel_layer_alias = "kiosk-completion-uses-no-channel-layer"

    flow: KioskFlow

    async def connect(self) -> None:
        self.flow = KioskFlow(
            origin=scope_origin(self.scope),
            open_channel=lambda identity: issuer_backend().open_channel(identity),
            now=timezone.now,
        )
        await self.accept()
        logger.info("kiosk connection opened")

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        message = json_object(text_data, max_chars=MAX_MESSAGE)
        if message is None:
            await self._finish([refused("bad_message")])
            return
        if message.get("type") == "cancel":
            self.flow.forget()
            await self.close()
            return
        replies = await database_sync_to_async(self.flow.handle)(message)
        if self.flow.step == "ended":
            await self._finish(replies)
        else:
            for reply in replies:
                await self.send(text_data=json.dumps(reply, ensure_ascii=False))

    async def _finish(self, replies: list[dict[str, Any]]) -> None:
        self.flow.forget()
        for reply in replies:
            await self.send(text_data=json.dumps(reply, ensure_ascii=False))
        await self.close()

    async def disconnect(self, code: int) -> None:
        self.flow.forget()
        logger.info("kiosk connection closed")
