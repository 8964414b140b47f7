"""Time a reservation over myna-bridge's WebSocket: card status + read card face + authenticate.

Two runs in this one process, same client code, same card profile:

* in-process: the bridge with the embedded simulated card (``--simulate``);
* vpcd: the bridge in real PC/SC mode behind pcscd + vsmartcard-vpcd + the simulator
  (tests/pcsc.py; needs root, pcscd and vpcd — skipped with a note otherwise).

Prints the median time of each flow per run, the ratio vpcd / in-process, what the card page's
early CHECK_CARD_FACE_ITEMS adds (wizard / combined, in the same run), and how many
WebSocket round trips (commands awaiting a reply) a reservation costs with the combined RESERVE
command and with READ_CARD_FACE + AUTHENTICATE. Usage: ``python bench/bridge_roundtrip.py [-n 20]``
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import logging
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from websockets.asyncio.client import ClientConnection, connect  # noqa: E402

from bridge.config import build_config  # noqa: E402
from bridge.readers import ReaderBackend  # noqa: E402
from bridge.server import BridgeServer  # noqa: E402

ORIGIN = "http://localhost:8000"
FACE = {"birth_date": "1985-07-23", "expiry_date": "2034-07-23", "security_code": "4821"}
PURPOSE = "myna-reset/reserve/sign"
PIN = "2580"
_quiet = logging.getLogger("bench.client")
_quiet.propagate = False
_quiet.setLevel(logging.CRITICAL)


class Page:
    """A minimal page: counts round trips (a command sent, its reply awaited)."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.round_trips = 0

    async def call(self, cmd: str, **args: Any) -> dict[str, Any]:
        self.round_trips += 1
        await self.ws.send(json.dumps({"cmd": cmd, **args}))
        while True:
            message = json.loads(await self.ws.recv())
            if message["msg"] not in ("STATUS", "READER", "SERVICE"):
                if message.get("ok") is False:
                    raise RuntimeError(f"{cmd} failed: {message.get('reason')}")
                return message


def _nonce() -> str:
    return base64.b64encode(os.urandom(32)).decode()


async def _split_flow(page: Page) -> None:
    await page.call("GET_CARD_STATUS")
    nonce = _nonce()
    await page.call("READ_CARD_FACE", purpose=PURPOSE, nonce=nonce, **FACE)
    await page.call("AUTHENTICATE", purpose=PURPOSE, nonce=nonce, key="auth", pin=PIN)


async def _combined_flow(page: Page) -> None:
    await page.call("GET_CARD_STATUS")
    await page.call("RESERVE", purpose=PURPOSE, nonce=_nonce(), pin=PIN, **FACE)


async def _wizard_flow(page: Page) -> None:
    """What the card page does: the card-face items are checked before the password is asked."""
    await page.call("GET_CARD_STATUS")
    await page.call("CHECK_CARD_FACE_ITEMS", **FACE)
    await page.call("RESERVE", purpose=PURPOSE, nonce=_nonce(), pin=PIN, **FACE)


async def _measure(
    backend: ReaderBackend, reader: str | None, runs: int
) -> dict[str, Any]:
    server = BridgeServer(build_config(port=0, allow_port_zero=True), backend)
    await server.start()
    results: dict[str, Any] = {}
    try:
        url = f"ws://127.0.0.1:{server.port}/"
        flows: dict[str, Callable[[Page], Awaitable[None]]] = {
            "split": _split_flow, "combined": _combined_flow, "wizard": _wizard_flow,
        }
        for name, flow in flows.items():
            times = []
            trips = 0
            for index in range(runs + 1):
                async with connect(url, origin=ORIGIN, logger=_quiet) as ws:  # type: ignore[arg-type]
                    page = Page(ws)
                    start = time.perf_counter()
                    await page.call("HELLO", api=1)
                    if reader is not None:
                        await page.call("SELECT_READER", reader=reader)
                    await flow(page)
                    elapsed = time.perf_counter() - start
                if index:  # the first run warms caches (PKI files, imports)
                    times.append(elapsed)
                    trips = page.round_trips
                while server.session is not None:
                    await asyncio.sleep(0.005)
            results[name] = (statistics.median(times), trips)
    finally:
        await server.close()
    return results


def _in_process(runs: int) -> dict[str, Any]:
    from bridge.simulated import SimulatedBackend

    return asyncio.run(_measure(SimulatedBackend(), None, runs))


def _over_vpcd(runs: int) -> dict[str, Any] | str:
    from tests.pcsc import PcscUnavailableError, pcscd_with_simulator

    try:
        with pcscd_with_simulator() as sim:
            from bridge.pcsc import PcscBackend

            # Slot 1 of the vpcd reader is empty, so the page must choose: one more round trip.
            return asyncio.run(_measure(PcscBackend(), sim.reader, runs))
    except PcscUnavailableError as exc:
        return str(exc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--runs", type=int, default=20)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    local = _in_process(args.runs)
    remote = _over_vpcd(args.runs)
    print(f"myna-bridge round trip, median of {args.runs} runs (HELLO .. last reply)")
    print(f"{'flow':<42}{'in-process':>12}{'vpcd':>12}{'ratio':>8}")
    labels = {
        "split": "status + READ_CARD_FACE + AUTHENTICATE",
        "combined": "status + RESERVE",
        "wizard": "status + CHECK_CARD_FACE_ITEMS + RESERVE",
    }
    for name, label in labels.items():
        base, _ = local[name]
        if isinstance(remote, dict):
            over, _ = remote[name]
            print(f"{label:<42}{base * 1000:>10.1f}ms{over * 1000:>10.1f}ms{over / base:>8.2f}")
        else:
            print(f"{label:<42}{base * 1000:>10.1f}ms{'n/a':>12}{'':>8}")
    for run, results in (("in-process", local), ("vpcd", remote)):
        if isinstance(results, dict):
            extra = results["wizard"][0] / results["combined"][0]
            print(f"the early card-face check, {run}: wizard / combined = {extra:.2f}")
    print("WebSocket round trips per reservation (commands awaiting a reply):")
    for name, label in labels.items():
        line = f"  {label}: {local[name][1]} with one reader (HELLO included)"
        if isinstance(remote, dict):
            line += f", {remote[name][1]} with two readers (+ SELECT_READER)"
        print(line)
    if not isinstance(remote, dict):
        print(f"vpcd run skipped: {remote}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
