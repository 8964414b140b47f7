"""Requests per second and latency through the deployed shape: nginx (TLS) + 1 or 2 daphne workers.

Starts deploy/serve.sh (what `make serve` runs) on loopback with bench/load_site.py's settings:
the site as deployed plus one bare Django view, `/bench/bare/`, which goes through the same proxy,
worker and middleware chain and does nothing. Every figure is printed as a ratio to that bare view
measured the same way in the same run, so machine speed and background load affect both sides.

Scenarios, each bounded in requests and in time:
- bare: GET /bench/bare/ (the baseline);
- wizard pages: GET /, /reset/choose/ and /reset/card/ in turn, each client with its own wizard
  session (a session read from the database on two of the three);
- evidence: POST /reset/evidence/ with real evidence from the simulated demo card (JPKI signature
  and certificate chain, issuer-signed card face, card-key signature; docs/evidence.md), one per
  session, each session prepared beforehand (the preparation is not timed);
- face sessions: N residents at once, each sending 640×480 JPEG frames at 5 frames/s over WSS
  through nginx to the face check, answering its prompts (bench/face_load.py's residents, with
  their sessions written straight into the stack's database at the face step). Per N: the frame
  latency (sent → answered) p50/p95 and as ratios to the bare view's, and the most residents with
  p95 ≤ 150 ms (issue 16's goal: ≥ 8 per core).

Besides latency, each scenario gets the stack's own CPU (nginx, the workers and their face
workers, from /proc) per request or frame, also as a ratio to the bare view's: on a machine that
others load, what a frame costs is still measured where its latency is not, and 1000 ÷ (CPU ms per
frame × 5) is how many residents one core's CPU carries.

The database is a private PostgreSQL started for the run (as in production) when the PostgreSQL
server binaries are installed, SQLite otherwise; the output says which. Ports are free loopback
ports, or those of STACK_PORT_RANGE (e.g. 8600-8699) when set (tests/serve_stack.py).

    .venv/bin/python bench/load.py [--requests 300] [--seconds 15] [--clients 8]
                                   [--face-sessions 1,2,4,8,16] [--face-seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import http.client
import json
import logging
import os
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import face_load  # noqa: E402
from tests import serve_stack  # noqa: E402
from tests.serve_stack import insecure_tls  # noqa: E402


# --------------------------------------------------------------------------- one keep-alive client
class Client:
    """One HTTPS keep-alive connection with its own cookies (one browser tab)."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.base_url = base_url
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 443
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPSConnection(
            self.host, self.port, context=insecure_tls(), timeout=30
        )

    def request(
        self, method: str, path: str, body: bytes | None = None, content_type: str = ""
    ) -> tuple[int, bytes]:
        headers = {"Host": f"{self.host}:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method == "POST":
            # Django's CSRF check over HTTPS: the token, and a Referer/Origin of this site.
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
            headers["Referer"] = self.base_url + path
            headers["Origin"] = self.base_url
            headers["Content-Type"] = content_type or "application/x-www-form-urlencoded"
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                # nginx closed an idle keep-alive connection: one fresh connection, then fail.
                self.conn.close()
                if attempt:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        return response.status, data

    def post_json(self, path: str, payload: object) -> tuple[int, bytes]:
        return self.request("POST", path, json.dumps(payload).encode(), "application/json")

    def start_wizard(self) -> None:
        self.request("GET", "/reset/choose/")
        status, _ = self.request("POST", "/reset/choose/", urlencode({"target": "sign"}).encode())
        assert status == 302, status

    def close(self) -> None:
        self.conn.close()


# --------------------------------------------------------------------------- measuring
@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    first_error: str = ""
    cpu: float = 0.0  # CPU seconds the stack (nginx, workers) used meanwhile

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        """The stack's CPU per answered request: what a request costs, whatever else runs."""
        return 1000 * self.cpu / len(self.latencies) if self.latencies else float("nan")

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def run_load(
    name: str,
    clients: list[Client],
    step: Callable[[Client, int], bool],
    *,
    max_requests: int,
    max_seconds: float,
) -> Result:
    """Every client loops `step` until `max_requests` were made in all or time is up."""
    result = Result(name)
    lock = threading.Lock()
    counter = {"n": 0}
    deadline = time.monotonic() + max_seconds

    def worker(client: Client) -> None:
        while time.monotonic() < deadline:
            with lock:
                if counter["n"] >= max_requests:
                    return
                index = counter["n"]
                counter["n"] += 1
            started = time.perf_counter()
            ok = step(client, index)
            elapsed = time.perf_counter() - started
            with lock:
                if ok:
                    result.latencies.append(elapsed)
                else:
                    result.errors += 1

    threads = [threading.Thread(target=worker, args=(c,)) for c in clients]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    return result


def bare_step(client: Client, index: int) -> bool:
    return client.request("GET", "/bench/bare/")[0] == 200


WIZARD_PATHS = ("/", "/reset/choose/", "/reset/card/")


def wizard_step(client: Client, index: int) -> bool:
    return client.request("GET", WIZARD_PATHS[index % len(WIZARD_PATHS)])[0] == 200


@dataclass
class PreparedEvidence:
    client: Client
    body: dict[str, object]


def prepare_evidence(base_url: str, count: int) -> list[PreparedEvidence]:
    """`count` sessions at the chip step, each with evidence for its own fresh nonce (untimed)."""
    from reset.tests.conftest import read_evidence

    prepared = []
    for _ in range(count):
        client = Client(base_url)
        client.start_wizard()
        for done in ("card_face", "reader", "password"):
            status, _ = client.post_json("/reset/progress/", {"done": done})
            assert status == 200, (done, status)
        status, data = client.post_json("/reset/nonce/", {})
        assert status == 200, status
        nonce = json.loads(data)
        evidence = read_evidence(
            purpose=nonce["purpose"], origin=nonce["origin"],
            nonce=base64.b64decode(nonce["nonce"]),
        )
        prepared.append(PreparedEvidence(client, evidence.body()))
    return prepared


def run_evidence(
    prepared: list[PreparedEvidence], *, clients: int, max_seconds: float
) -> Result:
    """Each prepared session posts its evidence once; `clients` of them at a time."""
    queue = list(prepared)
    lock = threading.Lock()
    result = Result("evidence")
    deadline = time.monotonic() + max_seconds

    def worker() -> None:
        while time.monotonic() < deadline:
            with lock:
                if not queue:
                    return
                item = queue.pop()
            started = time.perf_counter()
            status, data = item.client.post_json("/reset/evidence/", item.body)
            elapsed = time.perf_counter() - started
            ok = status == 200 and json.loads(data).get("ok") is True
            with lock:
                if ok:
                    result.latencies.append(elapsed)
                else:
                    result.errors += 1
                    result.first_error = result.first_error or f"{status} {data[:200]!r}"
            item.client.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    return result


# --------------------------------------------------------------------------- face sessions
class ProxiedResidents(face_load.Residents):
    """bench/face_load.py's residents, over wss:// through nginx as a browser reaches the site."""

    def socket(self, port: int, session_key: str) -> tuple[str, dict[str, Any]]:
        from django.conf import settings

        origin = f"https://127.0.0.1:{port}"
        headers = {"Origin": origin, "Cookie": f"{settings.SESSION_COOKIE_NAME}={session_key}"}
        return f"wss://127.0.0.1:{port}/ws/face/", {
            "additional_headers": headers, "ssl": insecure_tls(),
        }


def stack_cpu(stack: serve_stack.ServedStack) -> float:
    """CPU seconds used so far by serve.sh's processes: nginx, the workers, their face workers."""
    assert stack.process is not None
    return face_load._tree_cpu([stack.process.pid])


def charged(stack: serve_stack.ServedStack, scenario: Callable[[], Result]) -> Result:
    """Run `scenario`, and charge it with the stack's CPU used meanwhile."""
    before = stack_cpu(stack)
    result = scenario()
    result.cpu = stack_cpu(stack) - before
    return result


@dataclass
class FaceResult:
    sessions: int
    stats: face_load.Stats
    cpu: float  # CPU seconds the stack used (nginx, daphne workers, their face workers)
    wall: float
    machine_busy: float  # share of the whole machine busy, others' work included

    def pct(self, q: float) -> float:
        return face_load._percentile(self.stats.latencies, q) * 1000

    @property
    def cpu_ms(self) -> float:
        """The stack's CPU per answered frame (each attempt's reference photo included)."""
        return 1000 * self.cpu / self.stats.answered if self.stats.answered else float("nan")

    def sessions_per_core(self, fps: float) -> float:
        """Residents at `fps` whose frames one fully available core could process."""
        return 1000 / (self.cpu_ms * fps)

    @property
    def within_goal(self) -> bool:
        return self.pct(0.95) <= face_load.P95_GOAL_MS and not self.stats.errors


def run_faces(
    stack: serve_stack.ServedStack, counts: list[int], seconds: float, fps: float
) -> list[FaceResult]:
    """N residents at once for `seconds`, for each N in `counts` (the stack as it is running)."""
    from faceverify.tests import synth

    port = int(stack.base_url.rsplit(":", 1)[1])
    residents = ProxiedResidents(synth.chip_photo("obama3"), face_load._frames(), fps)
    workers = len(stack.worker_ports)
    # Warm-up, untimed: every worker's first attempt starts its face worker processes (models
    # load); least_conn gives each worker sockets of its own.
    asyncio.run(face_load._run(residents, [port], 2 * workers, min(8.0, seconds)))
    assert stack.process is not None
    results = []
    for n in counts:
        cpu0, (busy0, total0), wall0 = stack_cpu(stack), face_load._machine_busy(), time.monotonic()
        stats = asyncio.run(face_load._run(residents, [port], n, seconds))
        cpu1, (busy1, total1), wall1 = stack_cpu(stack), face_load._machine_busy(), time.monotonic()
        results.append(FaceResult(
            n, stats, cpu1 - cpu0, wall1 - wall0, (busy1 - busy0) / max(1, total1 - total0)
        ))
        if stack.process.poll() is not None:
            break  # the stack died: what was measured so far is the finding
    return results


def print_faces(
    by_workers: dict[int, tuple[list[Result], list[FaceResult]]], fps: float, seconds: float
) -> None:
    cores = os.cpu_count() or 1
    goal = face_load.P95_GOAL_MS
    print(f"\nface sessions: {fps:g} frames/s of 640×480 JPEG per resident over WSS through nginx, "
          f"{seconds:g} s per N; latency = frame sent → its answer; baseline (÷ bare): the bare "
          f"view of the same run and worker count; {cores} cores, load average now "
          f"{os.getloadavg()[0]:.1f}")
    print(f"{'workers':>7} {'N':>3} {'sent':>5} {'answ':>5} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'p50 ÷ bare':>10} {'p95 ÷ bare':>10} {'stack %':>7} {'cpu ms':>7} {'cpu ÷ bare':>10} "
          f"{'N/core':>6} {'machine%':>8} {'pass':>4}  errors, failed attempts")
    for workers, (results, faces) in by_workers.items():
        bare = results[0]
        for face in faces:
            p50, p95 = face.pct(0.5), face.pct(0.95)
            print(f"{workers:>7} {face.sessions:>3} {face.stats.sent:>5} {face.stats.answered:>5} "
                  f"{p50:>7.0f} {p95:>7.0f} {p50 / bare.pct(0.5):>10.2f} "
                  f"{p95 / bare.pct(0.95):>10.2f} {100 * face.cpu / face.wall:>7.0f} "
                  f"{face.cpu_ms:>7.1f} {face.cpu_ms / bare.cpu_ms:>10.1f} "
                  f"{face.sessions_per_core(fps):>6.1f} {100 * face.machine_busy:>8.0f} "
                  f"{face.stats.results['passed']:>4}  {face_load._problems(face.stats)}")
    for workers, (_, faces) in by_workers.items():
        best = max((f.sessions for f in faces if f.within_goal), default=0)
        print(f"  {workers} worker(s): most residents with p95 ≤ {goal:.0f} ms and no error: "
              f"{best} ({best / cores:g} per core of this machine; goal ≥ 8 per core)")
    print("  stack %: CPU the stack got (100 = one core); cpu ms: its CPU per answered frame; "
          "N/core: residents at this frame rate one\n  core's CPU would carry (1000 ÷ (cpu ms × "
          "fps)), the capacity where others' load leaves the stack short of CPU.")


# --------------------------------------------------------------------------- the run
@contextlib.contextmanager
def database() -> Iterator[tuple[str, dict[str, str]]]:
    if serve_stack.missing_prerequisites(postgres=True) is None:
        with serve_stack.private_postgres() as pg:
            yield "private PostgreSQL", pg.env()
    else:
        # One SQLite file for both runs and this process (the face residents' sessions are
        # written into the stack's database directly).
        with tempfile.TemporaryDirectory(prefix="myna-load-") as var:
            yield "SQLite (PostgreSQL server binaries not installed)", {"MYNA_VAR_DIR": var}


def setup_django(env: dict[str, str]) -> None:
    """This process's Django on the stack's database and secret key (it writes the face
    residents' sessions, which the workers must be able to read)."""
    os.environ.update(env)
    import django

    django.setup()
    logging.getLogger("mynacard").setLevel(logging.WARNING)  # the simulated card's chatter


def measure(
    workers: int, args: argparse.Namespace, env: dict[str, str]
) -> tuple[list[Result], list[FaceResult]]:
    with serve_stack.serve(workers=workers, extra_env=env, bridge=False) as stack:
        base = stack.base_url
        results = []
        warm = [Client(base) for _ in range(args.clients)]
        run_load("warm-up", warm, bare_step, max_requests=args.clients * 5, max_seconds=10)
        for client in warm:
            client.close()

        bare_clients = [Client(base) for _ in range(args.clients)]
        results.append(charged(stack, lambda: run_load(
            "bare view", bare_clients, bare_step,
            max_requests=args.requests, max_seconds=args.seconds,
        )))
        wizard_clients = [Client(base) for _ in range(args.clients)]
        for client in wizard_clients:
            client.start_wizard()
        results.append(charged(stack, lambda: run_load(
            "wizard pages", wizard_clients, wizard_step,
            max_requests=args.requests, max_seconds=args.seconds,
        )))
        # The first posts open the card's attempt-counter window together: each is counted once
        # (reset.limits.consume is a single upsert), so none may be refused.
        prepared = prepare_evidence(base, args.evidence)
        results.append(charged(stack, lambda: run_evidence(
            prepared, clients=args.clients, max_seconds=args.seconds
        )))
        for client in bare_clients + wizard_clients:
            client.close()
        faces = run_faces(stack, args.face_counts, args.face_seconds, args.fps)
        return results, faces


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="per scenario (bare, pages)")
    parser.add_argument("--evidence", type=int, default=60, help="evidence posts per run")
    parser.add_argument("--seconds", type=float, default=15.0, help="time cap per scenario")
    parser.add_argument("--clients", type=int, default=8, help="concurrent keep-alive clients")
    parser.add_argument("--face-sessions", default="1,2,4,8,16",
                        help="concurrent face residents to try, comma-separated ('' for none)")
    parser.add_argument("--face-seconds", type=float, default=15.0, help="seconds per N")
    parser.add_argument("--fps", type=float, default=5.0, help="frames/s per face resident")
    args = parser.parse_args()
    args.face_counts = [int(n) for n in args.face_sessions.split(",") if n.strip()]
    missing = serve_stack.missing_prerequisites()
    if missing:
        print(f"load: {missing}", file=sys.stderr)
        return 1

    both: dict[int, tuple[list[Result], list[FaceResult]]] = {}
    with database() as (db_name, db_env):
        env = {
            **db_env,
            "DJANGO_SETTINGS_MODULE": "bench.load_site",
            "PYTHONPATH": str(ROOT),
            "LOG_LEVEL": "WARNING",  # the workers' own log writing is not what is measured
            # Signs the sessions this process writes for the face residents (workers read them).
            "SECRET_KEY": secrets.token_urlsafe(50),
            # The limits guard one resident; the bench is many sessions of one simulated card.
            "MYNA_EVIDENCE_ATTEMPTS": "1000000",
            "MYNA_FACE_ATTEMPTS": "100000",
        }
        setup_django(env)
        for workers in (1, 2):
            both[workers] = measure(workers, args, env)
    by_workers = {workers: results for workers, (results, _) in both.items()}

    print(f"bench/load.py — nginx (TLS) + daphne workers on loopback; database: {db_name}; "
          f"{args.clients} clients, ≤{args.requests} requests / ≤{args.seconds:.0f} s per scenario")
    print("baseline: the bare Django view (/bench/bare/) through the same proxy and middleware, "
          "same run, same worker count; cpu ms: the stack's CPU per request\n")
    header = (f"{'workers':>7}  {'scenario':<13} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
              f"{'n':>5} {'err':>4}   {'req/s ÷ bare':>12} {'p50 ÷ bare':>10} {'p95 ÷ bare':>10} "
              f"{'cpu ms':>7} {'cpu ÷ bare':>10}")
    print(header)
    for workers, results in by_workers.items():
        bare = results[0]
        for r in results:
            print(f"{workers:>7}  {r.name:<13} {r.rps:>8.1f} {r.pct(0.5):>8.1f} "
                  f"{r.pct(0.95):>8.1f} {len(r.latencies):>5} {r.errors:>4}   "
                  f"{r.rps / bare.rps:>12.2f} "
                  f"{r.pct(0.5) / bare.pct(0.5):>10.2f} {r.pct(0.95) / bare.pct(0.95):>10.2f} "
                  f"{r.cpu_ms:>7.2f} {r.cpu_ms / bare.cpu_ms:>10.1f}")
    print("\nscaling, 2 workers ÷ 1 worker (req/s):")
    for one, two in zip(by_workers[1], by_workers[2], strict=True):
        print(f"  {one.name:<13} {two.rps / one.rps:>5.2f}")
    if args.face_counts:
        print_faces(both, args.fps, args.face_seconds)
    errors = sum(r.errors for results in by_workers.values() for r in results)
    for results in by_workers.values():
        for r in results:
            if r.first_error:
                print(f"first error of {r.name}: {r.first_error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
