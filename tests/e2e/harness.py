"""The `make run` stack for browser tests and the bench: scripts/run.sh (daphne + myna-bridge
--simulate) on free ports, and Debian's Chromium.

Shared by tests/e2e/test_wizard_e2e.py and bench/wizard_e2e.py. Chromium is Debian's
(/usr/bin/chromium), never downloaded; its fake camera plays a Y4M built from the real fixture
photos the way faceverify's own tests build webcam frames (faceverify/tests/synth.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
OUTPUT = ROOT / "test-output" / "e2e"
CHROMIUM = "/usr/bin/chromium"

DEMO = {
    "birth_date": "昭和60年7月23日",
    "expiry_date": "2034/07/23",
    "security_code": "4821",
    "auth_pin": "2580",
    "sign_password": "MYNA2580",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- fake camera
#: The card holder's clip (the demo card's chip photo is obama.jpg): front, smile, left turn.
HOLDER_POSES: tuple[tuple[str, bool], ...] = (
    ("obama", False),
    ("obama3", False),
    ("obama2", True),
    ("obama", False),
)


def write_y4m(
    path: Path,
    *,
    fps: int = 10,
    seconds_per_pose: float = 2.5,
    poses: tuple[tuple[str, bool], ...] = HOLDER_POSES,
) -> Path:
    """A looping webcam clip: the holder facing front and smiling, then turned to their left.

    Frames come from faceverify's synthesiser (real photos, moved and noised like a webcam), so
    they pass the same checks its tests rely on: obama.jpg is frontal and smiling, the mirror of
    obama2.jpg is a real head turned to the subject's own left, obama3.jpg is frontal.
    Written as 4:2:0 planar with a C420jpeg header (the YUV4MPEG2 format Chromium reads).
    `poses` (photo name, mirrored) replaces the holder's clip, e.g. with someone else's face.
    """
    import cv2

    from faceverify.tests.synth import webcam_frame

    width, height = 480, 360
    per_pose = int(fps * seconds_per_pose)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        seed = 0
        for name, mirror in poses:
            for _ in range(per_pose):
                seed += 1
                bgr = webcam_frame(name, mirror=mirror, seed=seed, size=(width, height))
                # COLOR_BGR2YUV_I420 gives the Y plane, then U, then V: exactly a Y4M frame.
                planar = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420)
                out.write(b"FRAME\n")
                out.write(planar.tobytes())
    return path


# --------------------------------------------------------------------------- processes
@dataclass
class Stack:
    """A running server + bridge, and where they listen."""

    base_url: str
    bridge_url: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)


def _wait_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own server
                if response.status < 500:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server did not answer at {url}")


def _wait_file_line(
    path: Path, marker: bytes, process: subprocess.Popen[bytes], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and marker in path.read_bytes():
            return
        if process.poll() is not None:
            raise RuntimeError(f"scripts/run.sh exited early with {process.returncode}: see {path}")
        time.sleep(0.1)
    raise RuntimeError(f"no {marker!r} from scripts/run.sh within {timeout}s: see {path}")


@contextlib.contextmanager
def running_stack(workdir: Path, *, extra_env: dict[str, str] | None = None) -> Iterator[Stack]:
    """`make run`'s own script (scripts/run.sh: daphne + `myna-bridge --simulate`) on free ports.

    The script itself runs, not a copy of its commands, so the test exercises what a developer
    starts; only the ports and a throw-away database differ. `make run`'s set-up step migrates,
    so the database is migrated here first.
    """
    port, bridge_port = free_port(), free_port()
    base_url = f"http://127.0.0.1:{port}"
    bridge_url = f"ws://127.0.0.1:{bridge_port}/"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "webapp.settings",
        "DB_NAME": str(workdir / "e2e.sqlite3"),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "BRIDGE_PORT": str(bridge_port),
        "VENV": str(VENV_BIN.parent),
        "MYNA_TRUST_ANCHORS": "sim",
        "DEBUG": "false",
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    python = str(VENV_BIN / "python")
    subprocess.run(
        [python, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    stack = Stack(base_url=base_url, bridge_url=bridge_url)
    logs = workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / "make-run.out"
    # A new session: run.sh's bridge and daphne are then one process group, stopped together.
    process = subprocess.Popen(  # noqa: S603 - our own script, fixed arguments
        ["/bin/bash", str(ROOT / "scripts" / "run.sh")],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    stack.processes.append(process)
    try:
        _wait_file_line(log, b"LISTENING", process, timeout=60)
        _wait_http(base_url + "/")
        yield stack
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


# --------------------------------------------------------------------------- the bridge
BridgeCall = Callable[..., Awaitable[dict[str, Any]]]


@contextlib.asynccontextmanager
async def bridge_session(url: str, origin: str) -> AsyncIterator[BridgeCall]:
    """Talk to the bridge as a page of `origin` would: `await call("CMD", **body)` → its reply.

    The bridge serves one page at a time, so this waits until a closed page has left; HELLO is
    sent first.
    """
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    for _ in range(50):
        try:
            ws = await connect(url, origin=origin)  # type: ignore[arg-type]
            break
        except InvalidStatus:
            await asyncio.sleep(0.2)
    else:
        raise AssertionError("the bridge stayed busy")
    async with ws:

        async def call(cmd: str, **body: Any) -> dict[str, Any]:
            await ws.send(json.dumps({"cmd": cmd, "id": cmd, **body}))
            while True:
                message = json.loads(await ws.recv())
                if message.get("id") == cmd:
                    return dict(message)

        await call("HELLO", api=1)
        yield call


# --------------------------------------------------------------------------- browser
def chromium_args(y4m: Path) -> list[str]:
    return [
        "--no-sandbox",
        "--disable-gpu",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={y4m}",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]


@contextlib.contextmanager
def browser(y4m: Path, *, headless: bool = True) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=headless, args=chromium_args(y4m)
        )
        try:
            yield instance
        finally:
            instance.close()


# --------------------------------------------------------------------------- the resident's steps
Shot = Callable[[str], None]


def wait_until(page: Any, condition: Callable[[], object], *, timeout: float,
               what: str | Callable[[], object]) -> None:
    """Wait for a condition on what the test has gathered from the page (recorded messages,
    routed sockets): Playwright delivers those only while it waits, hence page.wait_for_timeout
    rather than a sleep. Fails with `what` (or what it returns then) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what() if callable(what) else what
        page.wait_for_timeout(100)


def shooter(page: Any, prefix: str) -> Shot:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for stale in OUTPUT.glob(f"{prefix}-*.png"):  # an earlier run's numbering may differ
        stale.unlink()
    counter = {"n": 0}

    def shot(name: str) -> None:
        counter["n"] += 1
        path = OUTPUT / f"{prefix}-{counter['n']:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)

    return shot


def choose(
    page: Any, base_url: str, target: str = "sign", *, at_choose: Callable[[], None] | None = None
) -> None:
    """From the home page to the card page; `at_choose` runs on the choose screen (shots, axe)."""
    page.goto(base_url + "/")
    page.get_by_role("link", name="パスワード初期化予約", exact=True).click()
    page.wait_for_url("**/reset/choose/")
    if at_choose is not None:
        at_choose()
    label = "署名用パスワード" if target == "sign" else "利用者証明用パスワード"
    page.get_by_role("button", name=label, exact=True).click()
    page.wait_for_url("**/reset/card/")


def fill_card_face(page: Any) -> None:
    page.fill("#birth_date", DEMO["birth_date"])
    page.fill("#expiry_date", DEMO["expiry_date"])
    page.fill("#security_code", DEMO["security_code"])
    page.locator("#birth_date-both").filter(has_text="1985").wait_for()
    page.click("#card-face-next")
    page.locator("#step-reader").wait_for(state="visible")


def wait_for_card(page: Any) -> None:
    page.locator("#reader-next:not([disabled])").wait_for(timeout=20000)


def to_password(page: Any) -> None:
    page.click("#reader-next")
    page.locator("#password-form").wait_for(state="visible", timeout=20000)


def submit_password(page: Any, value: str) -> None:
    page.fill("#pin", value)
    page.click("#password-next")


def wait_for_face_page(page: Any, timeout: float = 30000) -> None:
    page.wait_for_url("**/reset/face/", timeout=timeout)


def to_face_page(page: Any, base_url: str, target: str = "sign") -> None:
    """A whole card page with the demo card's right values, up to the face page."""
    choose(page, base_url, target)
    fill_card_face(page)
    wait_for_card(page)
    to_password(page)
    submit_password(page, DEMO["auth_pin"] if target == "sign" else DEMO["sign_password"])
    wait_for_face_page(page)


def run_face_check(page: Any, timeout: float = 120000) -> None:
    """Start engineer D's face check and wait until the page moves on to the done screen."""
    start = page.locator("[data-face-start], #face-start, button:has-text('開始')").first
    start.click()
    # The reservation page names the booking: /reset/reservation/?id=<uuid>.
    page.wait_for_url(lambda url: "/reset/reservation/" in url, timeout=timeout)


@dataclass
class HeldFaceSocket:
    """The page's /ws/face/ through Playwright's WebSocket route, to the real server: the
    server's messages that `holding` picks are kept in `held` instead of reaching the page,
    until the test sends them (or others) itself."""

    holding: Callable[[str | bytes], bool]
    held: list[str | bytes] = field(default_factory=list)
    routes: list[Any] = field(default_factory=list)

    def route(self, page: Any) -> HeldFaceSocket:
        def face_socket(ws: Any) -> None:
            server = ws.connect_to_server()
            self.routes.append(ws)

            def from_server(message: str | bytes) -> None:
                if self.holding(message):
                    self.held.append(message)
                    return
                ws.send(message)

            server.on_message(from_server)

        page.route_web_socket("**/ws/face/", face_socket)
        return self

    def wait_for_held(self, page: Any, timeout: float = 60) -> None:
        wait_until(page, lambda: self.held, timeout=timeout,
                   what="the server never answered the photo")

    def send(self, message: str | bytes) -> None:
        """To the page, as if from the server."""
        self.routes[0].send(message)
