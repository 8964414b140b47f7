"""A real pcscd with vsmartcard-vpcd and the simulated card behind it, for tests and benches.

Use the pytest fixture by name in a test module under tests/ (tests/conftest.py provides it)::

    def test_something(pcsc_sim: PcscSim) -> None:
        conn = ...connect to pcsc_sim.reader with pyscard...

or the context manager :func:`pcscd_with_simulator` from a script (bench/card_read.py).
:func:`running_bridge` starts ``myna-bridge`` (from source, or the built helper) in front of it.

Isolation: pcscd's socket directory ``/run/pcscd`` is compiled in (pcsc-lite 1.9), and the
Debian vpcd reader listens on port 35963. To run next to another pcscd (a socket-activated one
from the apt install, or a colleague's test run) without killing it, pcscd is started in its own
mount namespace (``unshare -m``) with a private directory bind-mounted on ``/run/pcscd``, and
with a private ``reader.conf.d`` whose vpcd entry uses a free port. Clients reach it through
``PCSCLITE_CSOCK_NAME``, which this module sets in ``os.environ`` while the card is up (so child
processes such as the bridge inherit it). libpcsclite reads that variable once per process, so
use one simulator per test process (the fixture is session-scoped) and start it before anything
else in the process talks to PC/SC.

Where ``unshare`` is not permitted (a container without CAP_SYS_ADMIN), the global
``/run/pcscd`` is used instead, serialised by a lock file; a stray pcscd holding it is stopped
first (found through its pid file and checked by name, never by a broad ``pkill``).

Without root, pcscd or the vpcd driver the fixture skips — except under ``CI=true``, where a
missing prerequisite is a failure, not a skip.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NoReturn

import pytest

from mynacard.transport import CardConnection
from tests import prerequisites

logger = logging.getLogger(__name__)

__all__ = [
    "BridgeProcess",
    "PcscSim",
    "PcscUnavailableError",
    "pcsc_sim",
    "pcscd_with_simulator",
    "running_bridge",
    "skip_or_fail",
    "unavailable_reason",
]

PCSCD = "/usr/sbin/pcscd"
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
GLOBAL_RUN_DIR = Path("/run/pcscd")
GLOBAL_LOCK = Path(tempfile.gettempdir()) / "myna-reset-pcscd.lock"
REPO = Path(__file__).resolve().parents[1]
#: vpcd names its readers "Virtual PCD <reader> <slot>"; slot 0 listens on the configured port.
READER_NAME = "Virtual PCD 00 00"
_STARTUP_TIMEOUT = 30.0


class PcscUnavailableError(RuntimeError):
    """A prerequisite (root, pcscd, the vpcd driver) is missing, or pcscd did not come up."""


@dataclass(frozen=True)
class PcscSim:
    """A running pcscd with the simulated card inserted in ``reader``."""

    reader: str
    socket_path: Path
    vpcd_port: int
    profile: Path | None
    isolated: bool  # True: private mount namespace; False: the global /run/pcscd


def unavailable_reason() -> str | None:
    """Why a real pcscd cannot be started here, or None when it can."""
    if sys.platform != "linux":
        return "pcscd + vpcd tests need Linux"
    if os.geteuid() != 0:
        return "pcscd tests need root (pcscd owns /run/pcscd)"
    if not Path(PCSCD).exists():
        return f"{PCSCD} missing (apt-get install pcscd)"
    if not VPCD_DRIVER.exists():
        return f"{VPCD_DRIVER} missing (apt-get install vsmartcard-vpcd)"
    try:
        import smartcard.System  # noqa: F401
    except ImportError:
        return "pyscard is not installed"
    return None


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("0.0.0.0", port))  # noqa: S104 - vpcd itself binds all interfaces
        except OSError:
            return False
    return True


def _free_port_pair() -> int:
    """A port p with p and p+1 free: vpcd opens one port per slot (two slots)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port < 65535 and _port_free(port) and _port_free(port + 1):
            return port
    raise PcscUnavailableError("no free port pair for vpcd")


def _write_reader_conf(conf_dir: Path, port: int) -> None:
    conf_dir.mkdir(parents=True, exist_ok=True)
    # Same entry as Debian's /etc/reader.conf.d/vpcd, on our own port: "/dev/null:<port>"
    # makes vpcd listen (server mode) for the virtual ICC.
    (conf_dir / "vpcd").write_text(
        'FRIENDLYNAME "Virtual PCD"\n'
        f"DEVICENAME   /dev/null:0x{port:04X}\n"
        f"LIBPATH      {VPCD_DRIVER}\n"
        f"CHANNELID    0x{port:04X}\n"
    )


def _stop(process: subprocess.Popen[bytes], name: str, timeout: float = 10.0) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        logger.warning("%s (pid %d) ignored SIGTERM; killing it", name, process.pid)
        process.kill()
        process.wait(timeout=timeout)


def _stop_stray_global_pcscd() -> None:
    """Stop a pcscd that holds the global /run/pcscd, identified by its pid file only."""
    pid_file = GLOBAL_RUN_DIR / "pcscd.pid"
    try:
        pid = int(pid_file.read_text().strip())
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except (OSError, ValueError):
        return
    if comm != "pcscd":
        return
    logger.warning("stopping stray pcscd (pid %d) that holds %s", pid, GLOBAL_RUN_DIR)
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if not Path(f"/proc/{pid}").exists():
            return
        time.sleep(0.05)


def _can_unshare() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, timeout=10, check=False)
    return probe.returncode == 0


def _start_pcscd(
    work: Path, conf_dir: Path, *, isolated: bool, log: IO[bytes]
) -> tuple[subprocess.Popen[bytes], Path]:
    if isolated:
        run_dir = work / "run"
        run_dir.mkdir()
        # exec keeps one process: unshare (no --fork) -> sh -> pcscd share the pid we stop.
        script = (
            f'mkdir -p {GLOBAL_RUN_DIR} && mount --bind "$1" {GLOBAL_RUN_DIR} '
            f'&& exec {PCSCD} --foreground -c "$2"'
        )
        command = ["unshare", "-m", "sh", "-c", script, "pcscd", str(run_dir), str(conf_dir)]
    else:
        run_dir = GLOBAL_RUN_DIR
        _stop_stray_global_pcscd()
        command = [PCSCD, "--foreground", "-c", str(conf_dir)]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    socket_path = run_dir / "pcscd.comm"
    deadline = time.monotonic() + _STARTUP_TIMEOUT
    while not socket_path.exists():
        if process.poll() is not None:
            log.flush()
            raise PcscUnavailableError(
                f"pcscd exited with {process.returncode}:\n{_tail(Path(str(log.name)))}"
            )
        if time.monotonic() > deadline:
            _stop(process, "pcscd")
            raise PcscUnavailableError("pcscd did not create its socket")
        time.sleep(0.05)
    return process, socket_path


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _wait_for_card(reader: str, sim: subprocess.Popen[bytes], log_path: Path) -> None:
    from smartcard.System import readers

    deadline = time.monotonic() + _STARTUP_TIMEOUT
    last_error = "no reader yet"
    while time.monotonic() < deadline:
        if sim.poll() is not None:
            raise PcscUnavailableError(
                f"the simulator exited with {sim.returncode}:\n{_tail(log_path)}"
            )
        try:
            found = [r for r in readers() if str(r) == reader]
            if found:
                connection = found[0].createConnection()
                connection.connect()
                connection.disconnect()
                return
        except Exception as exc:  # pyscard raises several kinds while pcscd and vpcd start
            last_error = f"{type(exc).__name__}: {exc}"
        time.sleep(0.1)
    raise PcscUnavailableError(f"pyscard never saw the card in {reader!r} ({last_error})")


@contextlib.contextmanager
def pcscd_with_simulator(*, profile: Path | None = None) -> Iterator[PcscSim]:
    """Start pcscd + the simulator over vpcd, wait until pyscard sees the card, then clean up."""
    reason = unavailable_reason()
    if reason:
        raise PcscUnavailableError(reason)
    isolated = _can_unshare()
    work = Path(tempfile.mkdtemp(prefix="myna-pcscd-"))
    lock: IO[bytes] | None = None
    pcscd: subprocess.Popen[bytes] | None = None
    sim: subprocess.Popen[bytes] | None = None
    previous_env = os.environ.get("PCSCLITE_CSOCK_NAME")
    pcscd_log = (work / "pcscd.log").open("wb")
    sim_log_path = work / "simulator.log"
    sim_log = sim_log_path.open("wb")
    try:
        if not isolated:
            lock = GLOBAL_LOCK.open("wb")
            fcntl.flock(lock, fcntl.LOCK_EX)  # one global pcscd user at a time
        port = _free_port_pair()
        conf_dir = work / "reader.conf.d"
        _write_reader_conf(conf_dir, port)
        pcscd, socket_path = _start_pcscd(work, conf_dir, isolated=isolated, log=pcscd_log)
        os.environ["PCSCLITE_CSOCK_NAME"] = str(socket_path)
        command = [sys.executable, "-m", "mynacard.sim", "--vpcd", f"localhost:{port}"]
        if profile is not None:
            command += ["--profile", str(profile)]
        sim = subprocess.Popen(command, cwd=REPO, stdout=sim_log, stderr=subprocess.STDOUT)
        _wait_for_card(READER_NAME, sim, sim_log_path)
        logger.info("pcscd + simulated card ready on %s (port %d)", READER_NAME, port)
        yield PcscSim(
            reader=READER_NAME,
            socket_path=socket_path,
            vpcd_port=port,
            profile=profile,
            isolated=isolated,
        )
    finally:
        if sim is not None:
            _stop(sim, "simulator")
        if pcscd is not None:
            _stop(pcscd, "pcscd")
        if previous_env is None:
            os.environ.pop("PCSCLITE_CSOCK_NAME", None)
        else:
            os.environ["PCSCLITE_CSOCK_NAME"] = previous_env
        pcscd_log.close()
        sim_log.close()
        if lock is not None:
            fcntl.flock(lock, fcntl.LOCK_UN)
            lock.close()
        shutil.rmtree(work, ignore_errors=True)


def skip_or_fail(reason: str) -> NoReturn:
    """Skip the test, or fail it under ``CI=true`` where pcscd must be available."""
    prerequisites.skip_or_fail(reason, what="the pcscd + vpcd tests")


@pytest.fixture(scope="session")
def pcsc_sim() -> Iterator[PcscSim]:
    """The demo card in a vpcd reader behind a real pcscd (skips when impossible, fails in CI)."""
    reason = unavailable_reason()
    if reason:
        skip_or_fail(reason)
    stack = contextlib.ExitStack()
    try:
        running = stack.enter_context(pcscd_with_simulator())
    except PcscUnavailableError as exc:
        skip_or_fail(str(exc))
    with stack:
        yield running


class PyscardConnection(CardConnection):
    """A plain pyscard connection, so tests and benches reach mynacard through PC/SC without the
    bridge (whose reader quirks are tested on their own)."""

    def __init__(self, reader_name: str) -> None:
        # Imported here so that a machine without pyscard skips (the fixture says why) instead
        # of failing at collection; under CI=true the fixture turns that skip into a failure.
        from smartcard.System import readers

        reader = next(r for r in readers() if str(r) == reader_name)
        self._connection = reader.createConnection()
        self._connection.connect()

    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
        data, sw1, sw2 = self._connection.transmit(list(apdu))
        return bytes(data), sw1 << 8 | sw2

    def close(self) -> None:
        self._connection.disconnect()
        # Release the PC/SC context now: pyscard would otherwise do it in __del__, after the
        # private pcscd may be gone, and print an ignored exception.
        release = getattr(self._connection, "release", None)
        if release is not None:
            release()


# --------------------------------------------------------------------------- myna-bridge
@dataclass(frozen=True)
class BridgeProcess:
    """``myna-bridge`` running, its log in a file (the tests read it for secrets)."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def bridge_command() -> list[str]:
    """myna-bridge of this environment (the console script, else the module)."""
    script = Path(sys.executable).with_name("myna-bridge")
    if script.exists():
        return [str(script)]
    found = shutil.which("myna-bridge")
    return [found] if found else [sys.executable, "-m", "bridge"]


@contextlib.contextmanager
def running_bridge(
    *args: str, port: int, log_path: Path, program: list[str] | None = None
) -> Iterator[BridgeProcess]:
    """myna-bridge (or `program`: the built helper) with `args` on `port`; waits for its
    ``LISTENING ws://…`` line and stops it afterwards. Its environment is this process's: with
    :func:`pcscd_with_simulator` running, ``PCSCLITE_CSOCK_NAME`` leads it to that pcscd."""
    command = [*(program or bridge_command()), *args, "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own bridge or the helper this run built
            command, stdout=subprocess.PIPE, stderr=log, env=dict(os.environ), cwd=REPO
        )
        try:
            assert process.stdout is not None  # noqa: S101 - PIPE above
            line = process.stdout.readline()
            if not line.startswith(b"LISTENING ws://127.0.0.1:"):
                raise AssertionError(f"the bridge did not start ({line!r}):\n{_tail(log_path)}")
            yield BridgeProcess(process, port, log_path)
        finally:
            _stop(process, "bridge")
