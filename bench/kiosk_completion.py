"""Time a kiosk completion end to end against the bare simulator's time for the same commands.

* completion: the kiosk page's work, done by this script — /ws/issuer/ (the real consumer, in
  this process, SQLite in a temporary directory) and the bridge in kiosk mode (in-process
  simulated card, real localhost WebSocket): start → card → proof → new password → the four
  issuer-channel APDUs → done. Counts the WebSocket round trips on each socket.
* baseline: the same card commands sent straight to the simulated card (read the user-auth
  certificate, VERIFY + sign with the other password, the issuer channel), no sockets at all.

Prints medians and the ratio completion / baseline (same process, same run, so a busy machine
slows both). Usage: ``python bench/kiosk_completion.py [-n 20]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ORIGIN = "http://localhost:8000"
AUTH_PIN = "2580"


class Counter:
    """Round trips: a message sent and its answer awaited."""

    def __init__(self) -> None:
        self.count = 0


async def _bridge_call(ws: Any, counter: Counter, cmd: str, **body: Any) -> dict[str, Any]:
    counter.count += 1
    await ws.send(json.dumps({"cmd": cmd, "id": cmd, **body}))
    while True:
        message = json.loads(await ws.recv())
        if message.get("id") == cmd:
            if message.get("ok") is False:
                raise RuntimeError(f"{cmd}: {message.get('reason')}")
            return dict(message)


async def _server_call(comm: Any, counter: Counter, **message: Any) -> dict[str, Any]:
    counter.count += 1
    await comm.send_to(text_data=json.dumps(message))
    return dict(json.loads(await comm.receive_from(timeout=30)))


async def one_completion(bridge_url: str, new_password: str) -> tuple[float, int, int]:
    from channels.testing import WebsocketCommunicator
    from websockets.asyncio.client import connect

    from webapp.asgi import application

    server_trips, bridge_trips = Counter(), Counter()
    headers = [(b"origin", ORIGIN.encode()), (b"host", b"localhost:8000")]
    started = time.perf_counter()
    async with connect(bridge_url, origin=ORIGIN) as ws:  # type: ignore[arg-type]
        await _bridge_call(ws, bridge_trips, "HELLO", api=1)
        comm = WebsocketCommunicator(application, "/ws/issuer/", headers=headers)
        await comm.connect()
        await _server_call(comm, server_trips, type="start", target="sign")
        cert = await _bridge_call(ws, bridge_trips, "GET_AUTH_CERTIFICATE")
        found = await _server_call(comm, server_trips, type="card", certificate=cert["certificate"])
        proof = await _bridge_call(
            ws, bridge_trips, "AUTHENTICATE", purpose=found["purpose"], nonce=found["nonce"],
            key=found["key"], pin=AUTH_PIN,
        )
        await _server_call(
            comm, server_trips, type="proof", certificate=proof["certificate"],
            signature=proof["signature"],
        )
        reply = await _server_call(
            comm, server_trips, type="new_password", value=new_password, confirm=new_password
        )
        while reply["type"] == "apdu":
            answer = await _bridge_call(ws, bridge_trips, "RELAY_APDU", apdu=reply["apdu"])
            reply = await _server_call(
                comm, server_trips, type="apdu_response", response=answer["response"],
                sw=answer["sw"],
            )
        if reply != {"type": "done"}:
            raise RuntimeError(f"completion failed: {reply}")
        await comm.disconnect()
    return time.perf_counter() - started, server_trips.count, bridge_trips.count


def bare_commands(card: Any, new_password: str) -> float:
    """The same card work with no socket: what the simulator alone costs."""
    from mynacard.challenge import PURPOSE_KIOSK_SIGN_RESET, challenge_digest
    from mynacard.issuer import IssuerChannel, derive_card_keys
    from mynacard.jpki import CertificateKind, JpkiSession, KeyKind
    from mynacard.pins import PinKind
    from mynacard.pkcs1 import sha256_digest_info
    from mynacard.sim import SimulatedConnection
    from mynacard.sim.pki import issuer_master_key
    from mynacard.targets import TargetPassword

    master = issuer_master_key()
    started = time.perf_counter()
    jpki = JpkiSession(SimulatedConnection(card))
    jpki.read_certificate(CertificateKind.AUTH)
    jpki.verify(PinKind.JPKI_AUTH, AUTH_PIN)
    jpki.read_certificate(CertificateKind.AUTH)
    jpki.sign(KeyKind.AUTH, sha256_digest_info(
        challenge_digest(PURPOSE_KIOSK_SIGN_RESET, ORIGIN, os.urandom(32))
    ))
    card.reset()
    channel = IssuerChannel(derive_card_keys(master, card.identity))
    card.process(channel.select())
    host = channel.authenticate(*card.process(channel.initialize()))
    channel.check_authenticated(card.process(host)[1])
    channel.check_reset(*card.process(channel.reset_password(TargetPassword.SIGN, new_password)))
    return time.perf_counter() - started


async def run(iterations: int) -> None:
    from django.core.management import call_command

    from bridge.config import build_config
    from bridge.server import BridgeServer
    from bridge.simulated import SimulatedBackend
    from mynacard.sim import SimulatedCard, demo_profile
    from reservations.models import Reservation

    await asyncio.to_thread(call_command, "migrate", verbosity=0)
    backend = SimulatedBackend()
    server = BridgeServer(
        build_config(port=0, allow_port_zero=True, simulate="demo", kiosk=True), backend
    )
    await server.start()
    bridge_url = f"ws://127.0.0.1:{server.port}/"
    identity = backend.card.identity
    times, trips = [], (0, 0)
    try:
        for i in range(iterations + 1):
            await asyncio.to_thread(
                Reservation.book, card_identity=identity, target="sign", signer_identity=identity
            )
            elapsed, server_trips, bridge_trips = await one_completion(bridge_url, f"BENCH{i:03d}")
            if i:  # the first run warms caches (trust anchors, issuer key, imports)
                times.append(elapsed)
            trips = (server_trips, bridge_trips)
    finally:
        await server.close()
    card = SimulatedCard(demo_profile())
    bare = [bare_commands(card, f"BARE{i:03d}X") for i in range(iterations + 1)][1:]
    completion, baseline = statistics.median(times), statistics.median(bare)
    print(f"kiosk completion, {iterations} runs (median)")
    print(f"  WebSocket round trips: {trips[0]} to /ws/issuer/ + {trips[1]} to the bridge "
          f"(HELLO included) = {sum(trips)}")
    print(f"  completion over both sockets: {completion * 1000:.1f} ms")
    print(f"  bare simulator, same card commands: {baseline * 1000:.1f} ms")
    print(f"  ratio completion / bare simulator: {completion / baseline:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20, help="completions to time (default 20)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="kiosk-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    os.environ["DB_NAME"] = str(workdir / "bench.sqlite3")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    logging.basicConfig(level=logging.WARNING)
    import django

    django.setup()
    asyncio.run(run(args.n))


if __name__ == "__main__":
    main()
