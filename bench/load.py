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
  session, each session prepared beforehand (the preparation is not timed).

The database is a private PostgreSQL started for the run (as in production) when the PostgreSQL
server binaries are installed, SQLite otherwise; the output says which. The face-session capacity
part of issue 16 is not here (bench/face_load.py of issue 19 did not exist when this was written).

    .venv/bin/python bench/load.py [--requests 300] [--seconds 15] [--clients 8]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

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
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    django.setup()
    logging.getLogger("mynacard").setLevel(logging.WARNING)  # the simulated card's chatter
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


# --------------------------------------------------------------------------- the run
@contextlib.contextmanager
def database() -> Iterator[tuple[str, dict[str, str]]]:
    if serve_stack.missing_prerequisites(postgres=True) is None:
        with serve_stack.private_postgres() as pg:
            yield "private PostgreSQL", pg.env()
    else:
        yield "SQLite (PostgreSQL server binaries not installed)", {}


def measure(workers: int, args: argparse.Namespace, db_env: dict[str, str]) -> list[Result]:
    env = {
        **db_env,
        "DJANGO_SETTINGS_MODULE": "bench.load_site",
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "WARNING",  # the workers' own log writing is not what is measured
        # The limits guard one resident; the bench is many sessions of one simulated card.
        "MYNA_EVIDENCE_ATTEMPTS": "1000000",
    }
    with serve_stack.serve(workers=workers, extra_env=env, bridge=False) as stack:
        base = stack.base_url
        results = []
        warm = [Client(base) for _ in range(args.clients)]
        run_load("warm-up", warm, bare_step, max_requests=args.clients * 5, max_seconds=10)
        for client in warm:
            client.close()

        bare_clients = [Client(base) for _ in range(args.clients)]
        results.append(run_load(
            "bare view", bare_clients, bare_step,
            max_requests=args.requests, max_seconds=args.seconds,
        ))
        wizard_clients = [Client(base) for _ in range(args.clients)]
        for client in wizard_clients:
            client.start_wizard()
        results.append(run_load(
            "wizard pages", wizard_clients, wizard_step,
            max_requests=args.requests, max_seconds=args.seconds,
        ))
        prepared = prepare_evidence(base, args.evidence + 1)
        # One untimed post first: it creates the card's attempt-counter bucket for the day, so the
        # timed posts count against an existing row (see the note on limits.consume in
        # docs/deployment.md: concurrent first attempts in a new window can be refused).
        first = prepared.pop()
        assert first.client.post_json("/reset/evidence/", first.body)[0] == 200
        first.client.close()
        results.append(run_evidence(prepared, clients=args.clients, max_seconds=args.seconds))
        for client in bare_clients + wizard_clients:
            client.close()
        return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="per scenario (bare, pages)")
    parser.add_argument("--evidence", type=int, default=60, help="evidence posts per run")
    parser.add_argument("--seconds", type=float, default=15.0, help="time cap per scenario")
    parser.add_argument("--clients", type=int, default=8, help="concurrent keep-alive clients")
    args = parser.parse_args()
    missing = serve_stack.missing_prerequisites()
    if missing:
        print(f"load: {missing}", file=sys.stderr)
        return 1

    by_workers: dict[int, list[Result]] = {}
    with database() as (db_name, db_env):
        for workers in (1, 2):
            by_workers[workers] = measure(workers, args, db_env)

    print(f"bench/load.py — nginx (TLS) + daphne workers on loopback; database: {db_name}; "
          f"{args.clients} clients, ≤{args.requests} requests / ≤{args.seconds:.0f} s per scenario")
    print("baseline: the bare Django view (/bench/bare/) through the same proxy and middleware, "
          "same run, same worker count\n")
    header = (f"{'workers':>7}  {'scenario':<13} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
              f"{'n':>5} {'err':>4}   {'req/s ÷ bare':>12} {'p50 ÷ bare':>10} {'p95 ÷ bare':>10}")
    print(header)
    for workers, results in by_workers.items():
        bare = results[0]
        for r in results:
            print(f"{workers:>7}  {r.name:<13} {r.rps:>8.1f} {r.pct(0.5):>8.1f} "
                  f"{r.pct(0.95):>8.1f} {len(r.latencies):>5} {r.errors:>4}   "
                  f"{r.rps / bare.rps:>12.2f} "
                  f"{r.pct(0.5) / bare.pct(0.5):>10.2f} {r.pct(0.95) / bare.pct(0.95):>10.2f}")
    print("\nscaling, 2 workers ÷ 1 worker (req/s):")
    for one, two in zip(by_workers[1], by_workers[2], strict=True):
        print(f"  {one.name:<13} {two.rps / one.rps:>5.2f}")
    errors = sum(r.errors for results in by_workers.values() for r in results)
    for results in by_workers.values():
        for r in results:
            if r.first_error:
                print(f"first error of {r.name}: {r.first_error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
