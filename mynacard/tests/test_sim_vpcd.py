"""The vpcd client against a fake vpcd server speaking the same framing (2-byte length)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from mynacard.sim import CONTACT_ATR, SimulatedCard, demo_profile
from mynacard.sim.vpcd import DEFAULT_PORT, VpcdClient, parse_hostport

SELECT_JPKI = bytes.fromhex("00A4040C0AD392F000260100000001")


class FakeVpcd:
    """Listens like the vpcd driver; the test drives one connection at a time."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(10)
        self.port = int(self.server.getsockname()[1])

    def accept(self) -> socket.socket:
        conn, _ = self.server.accept()
        conn.settimeout(10)
        return conn

    @staticmethod
    def send(conn: socket.socket, payload: bytes) -> None:
        conn.sendall(len(payload).to_bytes(2, "big") + payload)

    @staticmethod
    def receive(conn: socket.socket) -> bytes:
        def exact(size: int) -> bytes:
            data = b""
            while len(data) < size:
                chunk = conn.recv(size - len(data))
                assert chunk, "the client closed the connection"
                data += chunk
            return data

        return exact(int.from_bytes(exact(2), "big"))

    def exchange(self, conn: socket.socket, apdu: bytes) -> bytes:
        self.send(conn, apdu)
        return self.receive(conn)


@pytest.fixture
def running() -> Iterator[tuple[FakeVpcd, VpcdClient, SimulatedCard]]:
    fake = FakeVpcd()
    card = SimulatedCard(demo_profile())
    client = VpcdClient(card, "127.0.0.1", fake.port, retry_interval=0.05)
    thread = threading.Thread(target=client.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, client, card
    finally:
        client.stop()
        thread.join(timeout=10)
        fake.server.close()
    assert not thread.is_alive()


def test_parse_hostport() -> None:
    assert parse_hostport("localhost:35963") == ("localhost", 35963)
    assert parse_hostport("example") == ("example", DEFAULT_PORT)
    assert parse_hostport("[::1]:4000") == ("::1", 4000)
    with pytest.raises(ValueError):
        parse_hostport("host:notaport")


def test_atr_power_and_apdus(running: tuple[FakeVpcd, VpcdClient, SimulatedCard]) -> None:
    fake, client, card = running
    conn = fake.accept()
    fake.send(conn, b"\x04")  # get ATR
    assert fake.receive(conn) == CONTACT_ATR
    fake.send(conn, b"\x01")  # power on: no answer expected
    assert fake.exchange(conn, SELECT_JPKI) == b"\x90\x00"
    assert fake.exchange(conn, bytes.fromhex("00B0860004")) == b"JPKI\x90\x00"
    fake.send(conn, b"\x02")  # reset: back to the MF state
    assert fake.exchange(conn, bytes.fromhex("00A40000")) == b"\x6a\x86"
    fake.send(conn, b"\x00")  # power off
    fake.send(conn, b"\x04")
    assert fake.receive(conn) == CONTACT_ATR  # the ATR is still answered while off
    assert not card.powered
    assert client.apdu_count == 3
    conn.close()


def test_it_reconnects_when_vpcd_goes_away(
    running: tuple[FakeVpcd, VpcdClient, SimulatedCard],
) -> None:
    fake, _, card = running
    first = fake.accept()
    fake.send(first, b"\x01")
    assert fake.exchange(first, SELECT_JPKI) == b"\x90\x00"
    first.close()
    second = fake.accept()  # the client came back on its own
    fake.send(second, b"\x01")
    assert fake.exchange(second, bytes.fromhex("00A40000")) == b"\x6a\x86"  # a fresh session
    assert fake.exchange(second, SELECT_JPKI) == b"\x90\x00"
    assert card.powered
    second.close()
    # The client powers the card off once it sees the reader go; it does so on its own thread,
    # so wait for it rather than read the flag at one instant.
    deadline = time.monotonic() + 10
    while card.powered and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not card.powered


def test_stop_ends_a_client_blocked_in_receive(
    running: tuple[FakeVpcd, VpcdClient, SimulatedCard],
) -> None:
    fake, client, _ = running
    conn = fake.accept()
    client.stop()  # the fixture asserts the serving thread ends
    assert conn.recv(1) == b""  # the client shut the socket down
    conn.close()


def test_the_command_line_client_serves_and_exits_cleanly_on_sigterm() -> None:
    fake = FakeVpcd()
    process = subprocess.Popen(
        [sys.executable, "-m", "mynacard.sim", "--vpcd", f"127.0.0.1:{fake.port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        conn = fake.accept()
        fake.send(conn, b"\x01")
        assert fake.exchange(conn, SELECT_JPKI) == b"\x90\x00"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        conn.close()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        fake.server.close()


class RecordingSocket:
    """Stands in for a socket: records setsockopt / recv in order, hands out canned chunks."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.calls: list[str] = []

    def setsockopt(self, level: int, option: int, value: int) -> None:
        if level == socket.IPPROTO_TCP and option == getattr(socket, "TCP_QUICKACK", -1):
            self.calls.append("quickack")
        elif level == socket.IPPROTO_TCP and option == socket.TCP_NODELAY:
            self.calls.append("nodelay")

    def recv(self, size: int) -> bytes:
        self.calls.append("recv")
        return self.chunks.pop(0)[:size]


@pytest.mark.skipif(not hasattr(socket, "TCP_QUICKACK"), reason="TCP_QUICKACK is Linux-only")
def test_quickack_is_set_before_every_receive() -> None:
    # Linux clears TCP_QUICKACK after use; without it each APDU waits ~40 ms for a delayed ACK.
    sock = RecordingSocket([b"\x00", b"\x05", b"\x00\xa4", b"\x04\x0c\x00"])
    header = VpcdClient._recv_exact(sock, 2)  # type: ignore[arg-type]
    body = VpcdClient._recv_exact(sock, 5)  # type: ignore[arg-type]
    assert (header, body) == (b"\x00\x05", bytes.fromhex("00A4040C00"))
    receives = [i for i, call in enumerate(sock.calls) if call == "recv"]
    assert len(receives) == 4
    assert all(sock.calls[index - 1] == "quickack" for index in receives), sock.calls
