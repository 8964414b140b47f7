"""`make run`'s main job (scripts/run.sh) serves the home page and the simulated card's bridge."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - loopback only
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def _serves_home(port: int) -> bool:
    try:
        return _get(f"http://127.0.0.1:{port}/")[0] == 200
    except OSError:
        return False


def _listens(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def running(tmp_path: Path) -> Iterator[dict[str, int]]:
    ports = {"web": _free_port(), "bridge": _free_port()}
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(ports["web"]),
        "BRIDGE_PORT": str(ports["bridge"]),
        "MYNA_VAR_DIR": str(tmp_path),
    }
    subprocess.run(  # the fresh SQLite file under tmp_path needs its tables
        [str(ROOT / ".venv/bin/python"), "manage.py", "migrate", "-v", "0"],
        cwd=ROOT, env=env, check=True, timeout=120,
    )
    # A file, not a pipe: nobody reads a pipe while the servers run, and a full one blocks them.
    log = tmp_path / "run.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            ["bash", "scripts/run.sh"], cwd=ROOT, env=env, start_new_session=True,
            stdout=output, stderr=subprocess.STDOUT,
        )
    try:
        # Both halves of the main job: the web app answers, and the bridge accepts connections
        # (it starts separately and may come up after the web app).
        deadline = time.monotonic() + 60
        while not (_serves_home(ports["web"]) and _listens(ports["bridge"])):
            if process.poll() is not None:
                pytest.fail(f"scripts/run.sh exited early:\n{log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"scripts/run.sh was not up within 60 s:\n{log.read_text()}")
            time.sleep(0.3)
        yield ports
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def _handshake_status(port: int, origin: str) -> str:
    """The status line the bridge answers a WebSocket upgrade from `origin` with."""
    request = (
        f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: Upgrade\r\n"
        "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: {origin}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request.encode())
        return sock.recv(1024).decode(errors="replace").split("\r\n", 1)[0]


def test_run_serves_the_home_page_and_the_demo_card_bridge(running: dict[str, int]) -> None:
    status, body = _get(f"http://127.0.0.1:{running['web']}/")
    assert status == 200
    assert "パスワード初期化予約" in body
    # The bridge with the simulated card listens, for this page's origin only.
    page_origin = f"http://127.0.0.1:{running['web']}"
    assert " 101 " in _handshake_status(running["bridge"], page_origin)
    assert " 403 " in _handshake_status(running["bridge"], "http://evil.example")
    static, css = _get(f"http://127.0.0.1:{running['web']}/static/css/site.css")
    assert static == 200 and "--accent" in css  # whitenoise serves static files
