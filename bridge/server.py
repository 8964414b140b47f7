"""The localhost WebSocket server: origin and host checks, one client at a time, size limit.

Hardening (style.md "Localhost hardening"; AusweisApp and Web eID, peers.md):

* bound to 127.0.0.1 only (config.HOST, not configurable);
* the handshake's ``Origin`` must be on the allow-list, else HTTP 403 — the session binds every
  result to that origin, never to one the page claims;
* the ``Host`` header must name the loopback address, else 403 (DNS-rebinding defence);
* a second client while one is connected gets HTTP 409 at the handshake;
* messages larger than the limit close the connection with 1009 (message too big);
* no compression, and the websockets library never logs frames (they carry PINs).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from bridge import __version__
from bridge.config import BridgeConfig
from bridge.diagnostics import Diagnostics
from bridge.messages import Message
from bridge.protocol import encode
from bridge.readers import ReaderBackend, ReaderMonitor, ReaderSnapshot
from bridge.session import ClientSession

logger = logging.getLogger(__name__)

#: Close code and reason sent to a second client that slipped past the 409 check (a race).
CLOSE_BUSY = (1013, "another page is already connected to myna-bridge")


class _NoFrameLogger(logging.LoggerAdapter[logging.Logger]):
    """The websockets library's logger with DEBUG switched off.

    At DEBUG, websockets logs every frame's text ("< TEXT '{"cmd": ...}'") — PINs and
    照合番号B included. Reporting DEBUG as disabled makes the library skip those calls
    entirely, whatever level the application's logging is set to (preamble: never log PINs).
    """

    def isEnabledFor(self, level: int) -> bool:  # noqa: N802 - logging's own method name
        return level > logging.DEBUG and self.logger.isEnabledFor(level)


class BridgeServer:
    """myna-bridge's WebSocket server around a reader backend."""

    def __init__(self, config: BridgeConfig, backend: ReaderBackend) -> None:
        self.config = config
        self.backend = backend
        self._server: Server | None = None
        self._active: ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # One card thread: pyscard blocks, card operations never overlap, and a new client's
        # work queues behind a cancelled one instead of racing it on the card.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="myna-bridge-card")
        self._monitor = ReaderMonitor(backend, self._on_reader_events)
        self._wire_logger = _NoFrameLogger(logging.getLogger("websockets.server"), {})
        self.diagnostics = Diagnostics()

    # --- lifecycle --------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port (useful with port 0 in tests)."""
        if self._server is None:
            raise RuntimeError("server not started")
        for sock in self._server.sockets:
            return int(sock.getsockname()[1])
        raise RuntimeError("server has no socket")

    @property
    def session(self) -> ClientSession | None:
        return self._active

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._monitor.start()
        self._server = await serve(
            self._handler,
            self.config.host,
            self.config.port,
            process_request=self._process_request,
            max_size=self.config.max_message_bytes,
            compression=None,
            server_header=f"myna-bridge/{__version__}",
            logger=self._wire_logger,
        )
        logger.info(
            "listening on ws://%s:%d/ (%s); allowed origins: %s",
            self.config.host, self.port, self.backend.kind,
            ", ".join(sorted(self.config.allowed_origins)),
        )

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._active is not None:
            self._active.close()
        self._monitor.stop()
        self._executor.shutdown(wait=True, cancel_futures=True)
        self.backend.close()
        logger.info("stopped")

    async def drain(self) -> None:
        """Return once the card thread has finished the work queued so far (tests, shutdown)."""
        await asyncio.get_running_loop().run_in_executor(self._executor, lambda: None)

    async def serve_forever(self) -> None:
        assert self._server is not None  # noqa: S101 - start() first
        await self._server.serve_forever()

    # --- handshake --------------------------------------------------------------------------

    def _host_ok(self, headers: Headers) -> bool:
        host = headers.get("Host", "")
        allowed = {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}
        return host.lower() in allowed

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        origin = request.headers.get("Origin")
        if request.path != "/":
            return connection.respond(HTTPStatus.NOT_FOUND, "myna-bridge listens on / only\n")
        if origin is None or origin not in self.config.allowed_origins:
            # Logged as an action: the origin is not a secret, and admins need it to configure.
            logger.warning("refused handshake from origin %r (not on the allow-list)", origin)
            return connection.respond(HTTPStatus.FORBIDDEN, "origin not allowed\n")
        if not self._host_ok(request.headers):
            logger.warning("refused handshake with Host %r", request.headers.get("Host"))
            return connection.respond(HTTPStatus.FORBIDDEN, "host not allowed\n")
        if self._active is not None:
            logger.info("refused a second client from %s", origin)
            return connection.respond(
                HTTPStatus.CONFLICT, "another page is already connected to myna-bridge\n"
            )
        return None

    # --- connection -------------------------------------------------------------------------

    async def _handler(self, connection: ServerConnection) -> None:
        if self._active is not None:  # two handshakes raced past _process_request
            await connection.close(*CLOSE_BUSY)
            return
        origin = connection.request.headers["Origin"] if connection.request else ""
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        session = ClientSession(
            origin=origin,
            backend=self.backend,
            executor=self._executor,
            snapshot=lambda: self._monitor.snapshot,
            refresh=self._monitor.refresh,
            send=queue.put_nowait,
            diagnostics=self.diagnostics,
            kiosk=self.config.kiosk,
            settings={
                "port": self.port,
                "allowed_origins": sorted(self.config.allowed_origins),
                "max_message_bytes": self.config.max_message_bytes,
                "kiosk": self.config.kiosk,
            },
        )
        # Readers as they are now (the monitor sleeps while no page is connected), before the
        # session exists: changes seen meanwhile are logged, not pushed ahead of HELLO.
        self._monitor.resume()
        self._active = session
        logger.info("client connected from %s", origin)
        sender = asyncio.create_task(self._sender(connection, queue))
        try:
            async for message in connection:
                await session.handle_text(message)
        except ConnectionClosed:
            pass
        finally:
            code = connection.close_code
            logger.info("client disconnected (close code %s)", code)
            session.close()
            if self._active is session:
                self._active = None
                self._monitor.pause()
            queue.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError):
                await sender

    async def _sender(self, connection: ServerConnection, queue: asyncio.Queue[Any]) -> None:
        """The only writer: messages leave in the order they were queued."""
        while True:
            message = await queue.get()
            if message is None:
                return
            try:
                await connection.send(encode(message))
            except ConnectionClosed:
                return

    # --- reader events ----------------------------------------------------------------------

    def _on_reader_events(self, events: list[Message], snapshot: ReaderSnapshot) -> None:
        """Called from the monitor thread (or the loop, for SIM_CARD): hand over to the loop."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._deliver(events)
        else:
            loop.call_soon_threadsafe(self._deliver, events)

    def _deliver(self, events: list[Message]) -> None:
        for event in events:
            logger.info("reader event: %s %s", event.name, getattr(event, "event", ""))
        if self._active is not None:
            self._active.on_reader_events(events)
