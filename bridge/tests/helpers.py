"""Shared by the bridge tests and tests/test_bridge_pcsc.py: demo card values, a page stand-in."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from bridge.config import build_config
from bridge.server import BridgeServer
from bridge.simulated import SimulatedBackend


def free_port(*, avoiding: tuple[str, ...] = ()) -> int:
    """A free loopback port whose digits contain none of `avoiding` (the bridge logs its port,
    and a test that looks for a PIN in the log must not find it there)."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if not any(text in str(port) for text in avoiding):
            return port
    raise RuntimeError("no free port")


DEV_ORIGIN = "http://localhost:8000"
DEMO_PIN = "2580"
DEMO_PASSWORD = "MYNA2580"
DEMO_FACE = {"birth_date": "1985-07-23", "expiry_date": "2034-07-23", "security_code": "4821"}
PURPOSE_SIGN_RESET = "myna-reset/reserve/sign"  # proved with the auth key (PIN 2580)
PURPOSE_AUTH_RESET = "myna-reset/reserve/auth"  # proved with the sign key (MYNA2580)
SELECT_CARD_FACE = bytes.fromhex("00A4020C020002")

#: The test client's own logger: silent, so that only the bridge's logs are ever inspected
#: (the client would log its outgoing frames, PIN included, at DEBUG).
CLIENT_LOGGER = logging.getLogger("bridge.tests.client")
CLIENT_LOGGER.propagate = False
CLIENT_LOGGER.setLevel(logging.CRITICAL)


def new_nonce() -> str:
    return base64.b64encode(os.urandom(32)).decode()


class ApduGate:
    """A before_apdu hook: records every APDU and can hold the worker mid card-face read."""

    def __init__(self, *, hold_at_read: int | None = None) -> None:
        self.apdus: list[bytes] = []
        self.hold_at_read = hold_at_read
        self.reached = threading.Event()
        self.release = threading.Event()
        self.on_hold: Callable[[], None] | None = None
        self._reads_after_select = -1

    def __call__(self, apdu: bytes) -> None:
        self.apdus.append(apdu)
        if apdu == SELECT_CARD_FACE:
            self._reads_after_select = 0
        elif self._reads_after_select >= 0 and apdu[1] == 0xB0:
            self._reads_after_select += 1
            if self._reads_after_select == self.hold_at_read:
                if self.on_hold is not None:
                    self.on_hold()
                self.reached.set()
                if not self.release.wait(timeout=30):
                    raise RuntimeError("test never released the gate")


@dataclass
class Client:
    """A page stand-in: sends commands, collects every message, returns the final reply."""

    ws: ClientConnection
    received: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, cmd: str, **args: Any) -> None:
        await self.ws.send(json.dumps({"cmd": cmd, **args}))

    async def next(self) -> dict[str, Any]:
        message = json.loads(await asyncio.wait_for(self.ws.recv(), timeout=30))
        self.received.append(message)
        return message

    async def until(self, *names: str) -> dict[str, Any]:
        while True:
            message = await self.next()
            if message["msg"] in names:
                return message

    async def call(self, cmd: str, reply: str | None = None, **args: Any) -> dict[str, Any]:
        """Send one command and return its reply, skipping STATUS/READER/SERVICE pushes."""
        await self.send(cmd, **args)
        while True:
            message = await self.next()
            if message["msg"] not in ("STATUS", "READER", "SERVICE"):
                if reply is not None:
                    assert message["msg"] == reply, message
                return message

    async def hello(self) -> dict[str, Any]:
        return await self.call("HELLO", "HELLO", api=1)


@dataclass
class Bridge:
    """A running in-process bridge and how to reach it."""

    server: BridgeServer
    backend: SimulatedBackend
    gate: ApduGate

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.server.port}/"

    def connect(self, *, origin: str | None = DEV_ORIGIN, **kwargs: Any) -> Any:
        return connect(self.url, origin=origin, logger=CLIENT_LOGGER, **kwargs)  # type: ignore[arg-type]

    async def drain(self) -> None:
        """Wait until the card thread has finished whatever was queued on it."""
        await self.server.drain()


async def start_bridge(
    backend: SimulatedBackend,
    *,
    origins: tuple[str, ...] = (),
    port: int = 0,
    kiosk: bool = False,
) -> BridgeServer:
    config = build_config(
        port=port, allow_port_zero=True, allow_origins=origins, simulate="demo", kiosk=kiosk
    )
    server = BridgeServer(config, backend)
    await server.start()
    return server
