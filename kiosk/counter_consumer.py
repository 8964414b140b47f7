"""/ws/counter/: the counter terminal's socket (docs/staff-console.md, counter resets). Thin:
JSON in, CounterTerminalFlow, JSON out; the clerk's console reaches it over the channel layer.

The page relays the issuer channel's APDUs between this socket and the local bridge
(`myna-bridge --kiosk`), as the kiosk does. Progress goes to the session group for the clerk's
console; the new values never leave this consumer but encrypted for the card.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils import timezone

from kiosk.counter_flow import CounterTerminalFlow, Out
from kiosk.counter_session import new_terminal_code, session_group, terminal_group
from kiosk.issuer import issuer_backend
from webapp.socket_messages import json_object

logger = logging.getLogger(__name__)

MAX_MESSAGE = 16 * 1024


class CounterTerminalConsumer(AsyncWebsocketConsumer):
    """One counter session per connection; a fresh terminal code for each."""

    flow: CounterTerminalFlow
    code: str

    async def connect(self) -> None:
        self.flow = CounterTerminalFlow(now=timezone.now, backend=issuer_backend)
        self.code = new_terminal_code()
        await self.channel_layer.group_add(terminal_group(self.code), self.channel_name)
        await self.accept()
        await self.send(text_data=json.dumps({"type": "code", "code": self.code}))
        logger.info("counter terminal connected")

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        message = json_object(text_data, max_chars=MAX_MESSAGE)
        if message is None:
            await self._deliver(await database_sync_to_async(self.flow.cancel)("bad_message"))
            await self.close()
            return
        if message.get("type") == "cancel":
            # The page says why in one word of a fixed set: the resident's やめる, or the card
            # taken away (the bridge's READER event); anything else counts as the former.
            removed = message.get("reason") == "card_removed"
            why = "card_removed" if removed else "resident_cancelled"
            cancel = database_sync_to_async(self.flow.cancel)
            await self._deliver(await cancel(why))
            await self.close()
            return
        await self._deliver(await database_sync_to_async(self.flow.handle)(message))

    # --- from the clerk's console (channel layer) ---------------------------------------------

    async def counter_bind(self, event: dict[str, Any]) -> None:
        if self.flow.step != "unpaired":
            return
        # Single use: the code stops working once a console took this terminal.
        await self.channel_layer.group_discard(terminal_group(self.code), self.channel_name)
        await self._deliver(self.flow.bind(event))

    async def counter_execute(self, event: dict[str, Any]) -> None:
        await self._deliver(await database_sync_to_async(self.flow.execute)())

    async def counter_cancel(self, event: dict[str, Any]) -> None:
        if self.flow.step == "issuer":
            return  # the card path finishes what it started; its outcome is recorded either way
        reason = str(event.get("reason", "cancelled"))
        await self._deliver(await database_sync_to_async(self.flow.cancel)(reason))

    # --- out ----------------------------------------------------------------------------------

    async def _deliver(self, out: Out, *, close: bool = True) -> None:
        for message in out.progress:
            # The channel name lets the console talk back to this terminal, and notice a second
            # terminal answering the same code.
            await self.channel_layer.group_send(
                session_group(self.flow.session), {**message, "terminal": self.channel_name}
            )
        for reply in out.page:
            await self.send(text_data=json.dumps(reply, ensure_ascii=False))
        if close and self.flow.step == "ended":
            await self.close()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(terminal_group(self.code), self.channel_name)
        if self.flow.step not in ("unpaired", "ended"):
            out = await database_sync_to_async(self.flow.cancel)("terminal_lost")
            out.page = []  # the page is gone
            await self._deliver(out, close=False)
        self.flow.forget()
        logger.info("counter terminal closed")
