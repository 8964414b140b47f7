"""/ws/staff/counter-reset/<id>/: the clerk's console follows one counter reset live (issue 12).

Thin: it claims the reset the clerk's form authorised (staff/counter_reset_pending.py), offers it
to the terminal whose code the clerk typed (``counter.bind``), then forwards the session group's
progress to the page and the clerk's 「初期化を実行」 / 「中止」 to the terminal. Only the fields of
kiosk.counter_session.progress ever reach the page: no value, card-face item or photo exists on
this side to leak.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from kiosk.counter_session import Progress, progress, session_group, terminal_group
from reservations.audit_log import AuditAction, AuditRecord
from staff.counter_reset_pending import claim

logger = logging.getLogger(__name__)

#: The fields of a progress event the page may see.
PAGE_FIELDS = ("state", "reason", "tries", "full")
#: After these the terminal's part is over: nothing left to cancel.
FINAL = {
    Progress.DONE,
    Progress.COUNTER_FULL,
    Progress.FAILED,
    Progress.CANCELLED,
}


def _record_collision(pending: dict[str, Any]) -> None:
    AuditRecord.append(
        actor=str(pending["clerk"]),
        action=AuditAction.COUNTER_RESET,
        result="code_collision",
        detail=str(pending["operation"]),
    )


class CounterClerkConsumer(AsyncWebsocketConsumer):
    """One counter reset, from the console's side."""

    session_id: str = ""
    pending: dict[str, Any]
    terminal: str = ""
    state: str = ""

    async def connect(self) -> None:
        public_id = str(self.scope["url_route"]["kwargs"]["session"])
        pending = await database_sync_to_async(claim)(self.scope.get("session"), public_id)
        if pending is None:
            await self.close(code=4403)
            return
        self.session_id = public_id
        self.pending = pending
        await self.channel_layer.group_add(session_group(public_id), self.channel_name)
        await self.accept()
        await self._page(progress(Progress.WAITING_TERMINAL))
        await self.channel_layer.group_send(
            terminal_group(str(pending["terminal"])),
            {
                "type": "counter.bind",
                "session": public_id,
                "clerk": pending["clerk"],
                "document": pending["document"],
                "reason": pending["reason"],
                "operation": pending["operation"],
            },
        )
        logger.info("counter reset offered to a terminal")

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            message = json.loads(text_data or "")
        except ValueError:
            message = None
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "execute" and self.state == Progress.READY and self.terminal:
            self.state = Progress.WORKING
            await self.channel_layer.send(self.terminal, {"type": "counter.execute"})
        elif kind == "cancel" and self.state != Progress.WORKING:
            await self._cancel_terminal("cancelled")
            await self._page(progress(Progress.CANCELLED, reason="cancelled"))
            await self.close()

    async def counter_progress(self, event: dict[str, Any]) -> None:
        terminal = str(event.get("terminal", ""))
        if event.get("state") == Progress.PAIRED and self.terminal and terminal != self.terminal:
            # Two terminals answered one code: neither is trusted with this reset.
            logger.info("counter reset aborted: two terminals answered one code")
            await self.channel_layer.send(
                terminal, {"type": "counter.cancel", "reason": "code_collision"}
            )
            await self._cancel_terminal("code_collision")
            await database_sync_to_async(_record_collision)(self.pending)
            await self._page(progress(Progress.FAILED, reason="code_collision"))
            await self.close()
            return
        if event.get("state") == Progress.PAIRED and not self.terminal:
            self.terminal = terminal
        if terminal != self.terminal:
            return
        self.state = str(event.get("state"))
        await self._page({key: event[key] for key in PAGE_FIELDS if key in event})

    async def _page(self, message: dict[str, Any]) -> None:
        page = {"type": "progress", **{k: v for k, v in message.items() if k in PAGE_FIELDS}}
        await self.send(text_data=json.dumps(page))

    async def _cancel_terminal(self, reason: str) -> None:
        if self.terminal and self.state not in FINAL:
            await self.channel_layer.send(
                self.terminal, {"type": "counter.cancel", "reason": reason}
            )
        self.state = Progress.CANCELLED

    async def disconnect(self, code: int) -> None:
        if not self.session_id:
            return
        await self._cancel_terminal("clerk_left")
        await self.channel_layer.group_discard(session_group(self.session_id), self.channel_name)
