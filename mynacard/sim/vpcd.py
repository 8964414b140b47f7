"""A vpcd client: the simulated card behind a real pcscd, via vsmartcard's virtual reader.

Debian's ``vsmartcard-vpcd`` driver (``/etc/reader.conf.d/vpcd``: ``DEVICENAME /dev/null:0x8C7B``)
listens on TCP port 35963 (0x8C7B) and waits for a "virtual ICC" to connect. Every message in
either direction is a 2-byte big-endian length and a payload. A 1-byte payload from vpcd is a
control message (00 power off, 01 power on, 02 reset, 04 get ATR — only the last expects an
answer); anything longer is a command APDU, answered with the response APDU.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from types import FrameType

from mynacard.sim.card import SimulatedCard

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_PORT", "VpcdClient", "parse_hostport"]

DEFAULT_PORT = 35963
_POWER_OFF, _POWER_ON, _RESET, _GET_ATR = 0x00, 0x01, 0x02, 0x04


def parse_hostport(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``HOST``, default port 35963)."""
    host, sep, port = value.rpartition(":")
    if not sep:
        return value, DEFAULT_PORT
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"bad port in {value!r}")
    return host.strip("[]") or "localhost", int(port)


class _Closed(Exception):
    """vpcd closed the connection."""


class VpcdClient:
    """Serve one simulated card to vpcd until stopped; reconnect whenever vpcd goes away."""

    def __init__(
        self,
        card: SimulatedCard,
        host: str = "localhost",
        port: int = DEFAULT_PORT,
        *,
        retry_interval: float = 0.5,
    ) -> None:
        self.card = card
        self.host = host
        self.port = port
        self.retry_interval = retry_interval
        self._stop = threading.Event()
        self._sock: socket.socket | None = None
        self.apdu_count = 0

    def stop(self, *_: object) -> None:
        """Ask the serve loop to end (safe from a signal handler)."""
        self._stop.set()
        sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked recv
            except OSError:
                pass

    def install_signal_handlers(self) -> None:
        """Exit cleanly on SIGTERM and SIGINT."""

        def handler(signum: int, frame: FrameType | None) -> None:
            logger.info("signal %d: stopping", signum)
            self.stop()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def serve_forever(self) -> None:
        """Connect, serve, and reconnect after any disconnect until :meth:`stop`."""
        while not self._stop.is_set():
            try:
                sock = socket.create_connection((self.host, self.port), timeout=5)
            except OSError as exc:
                logger.debug(
                    "vpcd not reachable at %s:%d (%s); retrying", self.host, self.port, exc
                )
                self._stop.wait(self.retry_interval)
                continue
            logger.info("connected to vpcd at %s:%d", self.host, self.port)
            self._sock = sock
            try:
                sock.settimeout(None)
                self._serve(sock)
            except (_Closed, OSError) as exc:
                if not self._stop.is_set():
                    logger.info("vpcd connection lost (%s); reconnecting", exc)
            finally:
                self._sock = None
                sock.close()
            self.card.power_off()  # the reader is gone: the card left the field
            if not self._stop.is_set():
                time.sleep(self.retry_interval)
        logger.info("vpcd client stopped")

    @staticmethod
    def _tune(sock: socket.socket) -> None:
        # Without these every APDU waits for delayed ACKs (~40 ms each): Nagle on our send,
        # delayed ACK on vpcd's. Linux clears TCP_QUICKACK after use, so set it before each recv.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        quickack = getattr(socket, "TCP_QUICKACK", None)
        if quickack is not None:
            sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)

    @classmethod
    def _recv_exact(cls, sock: socket.socket, size: int) -> bytes:
        chunks = bytearray()
        while len(chunks) < size:
            cls._tune(sock)
            chunk = sock.recv(size - len(chunks))
            if not chunk:
                raise _Closed("vpcd closed the connection")
            chunks += chunk
        return bytes(chunks)

    def _send(self, sock: socket.socket, payload: bytes) -> None:
        sock.sendall(len(payload).to_bytes(2, "big") + payload)

    def _serve(self, sock: socket.socket) -> None:
        while not self._stop.is_set():
            length = int.from_bytes(self._recv_exact(sock, 2), "big")
            payload = self._recv_exact(sock, length) if length else b""
            if len(payload) == 1:
                self._control(sock, payload[0])
            elif payload:
                response = self.card.transmit(payload) if self.card.powered else b"\x6f\x00"
                self.apdu_count += 1
                self._send(sock, response)

    def _control(self, sock: socket.socket, code: int) -> None:
        if code == _POWER_OFF:
            self.card.power_off()
        elif code == _POWER_ON:
            self.card.power_on()
        elif code == _RESET:
            self.card.reset()
        elif code == _GET_ATR:
            self._send(sock, self.card.atr)
        else:
            logger.warning("unknown vpcd control message %02X", code)
