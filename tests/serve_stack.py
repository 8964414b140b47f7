"""`make serve`'s stack as a fixture: deploy/serve.sh (nginx + N daphne workers) on free loopback
ports, optionally on a PRIVATE PostgreSQL and Redis that a test may stop and start again.

The private servers are started here, in a temporary directory, on their own ports: the machine's
shared PostgreSQL and Redis are never touched (a fault test stops only what it started).
Shared by tests/test_deploy_stack.py and bench/load.py.

Ports are free loopback ports the kernel picks, or, with STACK_PORT_RANGE=8600-8699 in the
environment, free ports of that range only (every port: nginx, workers, bridge, PostgreSQL, Redis).
On a machine shared with other people, give each of them a range of their own: a port picked from
the kernel's ephemeral range can be taken by someone's outgoing connection between the pick and
serve.sh's bind.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e.harness import free_port

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def missing_prerequisites(*, postgres: bool = False, redis: bool = False) -> str | None:
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        return "nginx is not installed (scripts/setup.sh installs it)"
    if shutil.which("openssl") is None:
        return "openssl is not installed"
    if postgres and not postgres_bin():
        return "PostgreSQL server binaries (initdb, pg_ctl) are not installed"
    if redis and shutil.which("redis-server") is None:
        return "redis-server is not installed"
    return None


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def world_readable_tempdir(prefix: str) -> Path:
    """nginx's worker processes run as an unprivileged user when nginx starts as root; they read
    the collected static files, so the folders above them must be traversable (pytest's own
    temporary folders are mode 700)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


# --------------------------------------------------------------------------- ports
PORT_RANGE_VARIABLE = "STACK_PORT_RANGE"
# Ports handed out by this process: a port is only bound once serve.sh (or the private server)
# starts, so a second pick before that must not return it again.
_handed_out: set[int] = set()


def port_range() -> range | None:
    """STACK_PORT_RANGE ("8600-8699", both ends included), or None for the kernel's choice."""
    value = os.environ.get(PORT_RANGE_VARIABLE, "").strip()
    if not value:
        return None
    low, _, high = value.partition("-")
    try:
        first, last = int(low), int(high)
    except ValueError:
        raise ValueError(f"{PORT_RANGE_VARIABLE} must look like 8600-8699, not {value!r}") from None
    if not 1024 <= first <= last <= 65535:
        raise ValueError(f"{PORT_RANGE_VARIABLE} must lie within 1024-65535, not {value!r}")
    return range(first, last + 1)


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int) -> int:
    """The first of `count` consecutive free loopback ports (serve.sh puts worker i on first + i),
    from STACK_PORT_RANGE when it is set."""
    allowed = port_range()
    candidates = iter(allowed) if allowed is not None else (free_port() for _ in range(50))
    for first in candidates:
        ports = range(first, first + count)
        if allowed is not None and ports[-1] not in allowed:
            break
        if not _handed_out.intersection(ports) and all(_bindable(p) for p in ports):
            _handed_out.update(ports)
            return first
    where = f"in {PORT_RANGE_VARIABLE}={os.environ.get(PORT_RANGE_VARIABLE)}" if allowed else ""
    raise RuntimeError(f"no run of {count} free loopback port(s) {where}".rstrip())


# --------------------------------------------------------------------------- private PostgreSQL
@dataclass
class PrivatePostgres:
    """A throw-away cluster: initdb'd in a temp dir, listening on 127.0.0.1:`port` only."""

    datadir: Path
    port: int
    bin: Path

    def _run(self, *args: str) -> None:
        argv = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            argv = ["runuser", "-u", "postgres", "--", *argv]
        subprocess.run(argv, check=True, capture_output=True, timeout=120)  # noqa: S603

    def start(self) -> None:
        options = f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.datadir), "-o", options,
                  "-l", str(self.datadir / "server.log"), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop")

    def env(self) -> dict[str, str]:
        return {
            "DB_ENGINE": "postgres", "DB_HOST": "127.0.0.1", "DB_PORT": str(self.port),
            "DB_USER": "postgres", "DB_NAME": "postgres", "DB_PASSWORD": "",
        }

    def query(self, sql: str) -> list[tuple[object, ...]]:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", connect_timeout=5
        ) as conn, conn.cursor() as cursor:
            cursor.execute(sql)  # our own fixed statements
            return list(cursor.fetchall())


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    pg_bin = postgres_bin()
    assert pg_bin is not None
    base = Path(tempfile.mkdtemp(prefix="myna-pg-"))
    base.chmod(0o755)
    datadir = base / "data"
    datadir.mkdir()
    if os.geteuid() == 0:
        shutil.chown(datadir, "postgres", "postgres")
    server = PrivatePostgres(datadir=datadir, port=free_ports(1), bin=pg_bin)
    server._run("initdb", "-D", str(datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                "--no-sync")
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.stop()
        shutil.rmtree(base, ignore_errors=True)


# --------------------------------------------------------------------------- private Redis
@dataclass
class PrivateRedis:
    """redis-server on 127.0.0.1:`port`, no persistence, a child of this process."""

    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        import redis

        while time.monotonic() < deadline:
            with contextlib.suppress(redis.exceptions.ConnectionError):
                if redis.Redis(port=self.port, socket_connect_timeout=1).ping():
                    return
            time.sleep(0.1)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None


@contextlib.contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis(port=free_ports(1))
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------- the served stack
@dataclass
class ServedStack:
    """deploy/serve.sh running: where nginx listens, where each worker listens, its files."""

    base_url: str  # https://127.0.0.1:PORT (nginx)
    worker_ports: list[int]
    bridge_url: str
    serve_dir: Path
    var_dir: Path
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def logs(self) -> Path:
        return self.serve_dir / "logs"

    def access_log(self) -> list[dict[str, object]]:
        path = self.logs / "nginx-access.json"
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def worker_log(self) -> list[dict[str, object]]:
        entries: list[dict[str, object]] = []
        for path in sorted(self.logs.glob("worker-*.log")):
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.startswith("{"):
                    entries.append(json.loads(line))
        return entries


def insecure_tls() -> ssl.SSLContext:
    """For the self-signed certificate of a local run only."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def get(url: str, *, timeout: float = 10.0) -> tuple[int, bytes]:
    """Status and body, whatever the status (a 503 is an answer here, not an error)."""
    request = urllib.request.Request(url)  # noqa: S310 - our own loopback servers
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=insecure_tls()) as answer:  # noqa: S310
            return int(answer.status), answer.read()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()


@contextlib.contextmanager
def serve(
    *, workers: int = 2, extra_env: dict[str, str] | None = None, bridge: bool = True
) -> Iterator[ServedStack]:
    """deploy/serve.sh itself (what `make serve` runs), on free ports with private folders."""
    base = world_readable_tempdir("myna-serve-")
    https_port, http_port = free_ports(1), free_ports(1)
    worker_base = free_ports(workers)
    bridge_port = free_ports(1)
    stack = ServedStack(
        base_url=f"https://127.0.0.1:{https_port}",
        worker_ports=[worker_base + i for i in range(workers)],
        bridge_url=f"ws://127.0.0.1:{bridge_port}/",
        serve_dir=base / "serve",
        var_dir=base / "var",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MYNA_", "DB_", "REDIS_"))}
    env.update({
        "VENV": str(VENV_BIN.parent),
        "WORKERS": str(workers),
        "HTTPS_PORT": str(https_port),
        "HTTP_PORT": str(http_port),
        "WORKER_PORT_BASE": str(worker_base),
        "SERVE_DIR": str(stack.serve_dir),
        "MYNA_VAR_DIR": str(stack.var_dir),
        "MYNA_TRUST_ANCHORS": "sim",
        "DEBUG": "false",
        **(extra_env or {}),
    })
    if bridge:
        env["BRIDGE_PORT"] = str(bridge_port)
    stack.env = env
    out = base / "serve.out"
    process = subprocess.Popen(  # noqa: S603 - our own script
        ["/bin/bash", str(ROOT / "deploy" / "serve.sh")],
        cwd=ROOT, env=env, stdout=out.open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    stack.process = process
    try:
        deadline = time.monotonic() + 180
        while b"READY" not in (out.read_bytes() if out.exists() else b""):
            if process.poll() is not None:
                raise RuntimeError(f"serve.sh exited {process.returncode}: {out.read_text()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"deploy/serve.sh not ready in time: {out.read_text()}")
            time.sleep(0.2)
        yield stack
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        shutil.rmtree(base, ignore_errors=True)


class ResidentSession:
    """A browser-less resident mid-wizard: cookies kept, CSRF token sent, over the proxy's TLS."""

    def __init__(self, base_url: str) -> None:
        import http.cookiejar

        self.base_url = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar),
            urllib.request.HTTPSHandler(context=insecure_tls()),
        )

    def open(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str]:
        from urllib.parse import urlencode

        url = self.base_url + path
        body = None
        headers = {}
        if data is not None:
            token = next(c.value for c in self.jar if c.name == "csrftoken")
            body = urlencode({**data, "csrfmiddlewaretoken": token or ""}).encode()
            # Django checks the Referer of a secure POST against the host (CSRF over HTTPS).
            headers = {"Referer": url, "Origin": self.base_url}
        request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310
        try:
            with self.opener.open(request, timeout=15) as answer:
                return int(answer.status), answer.geturl()
        except urllib.error.HTTPError as error:
            return int(error.code), error.geturl()

    def start_wizard(self, target: str = "sign") -> tuple[int, str]:
        self.open("/reset/choose/")
        return self.open("/reset/choose/", {"target": target})

    def post_json(self, path: str, payload: object) -> tuple[int, dict[str, object]]:
        token = next(c.value for c in self.jar if c.name == "csrftoken") or ""
        request = urllib.request.Request(  # noqa: S310 - our own loopback server
            self.base_url + path, data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json", "X-CSRFToken": token,
                     "Referer": self.base_url + path, "Origin": self.base_url},
        )
        try:
            with self.opener.open(request, timeout=30) as answer:
                return int(answer.status), json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return int(error.code), json.loads(error.read() or b"{}")

    def to_face_step(self) -> None:
        """Through the card steps with real evidence from the simulated demo card (untimed)."""
        import base64

        from reset.tests.conftest import read_evidence

        assert self.start_wizard()[0] == 200
        for done in ("card_face", "reader", "password"):
            assert self.post_json("/reset/progress/", {"done": done})[0] == 200
        status, nonce = self.post_json("/reset/nonce/", {})
        assert status == 200, nonce
        evidence = read_evidence(
            purpose=str(nonce["purpose"]), origin=str(nonce["origin"]),
            nonce=base64.b64decode(str(nonce["nonce"])),
        )
        status, answer = self.post_json("/reset/evidence/", evidence.body())
        assert status == 200, answer

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)
