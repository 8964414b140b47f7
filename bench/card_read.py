"""A full reservation read of the simulated card: APDUs, bytes, and time, in-process vs vpcd.

    .venv/bin/python bench/card_read.py [--rounds N]

One "reservation read" is what the bridge does before booking (architecture.md, trust model):
the JPKI auth certificate, VERIFY of the auth PIN and an auth-key signature over the server
challenge, then VERIFY of 照合番号B, the 券面AP card face and CV certificate, and the card-key
signature (80 2A 00 00). It prints the APDU count and bytes each way, then the time per read
in-process (SimulatedConnection) and over the real stack (pyscard -> pcscd -> vpcd -> the
simulator over TCP), the latter as a ratio to the in-process figure measured in this process.
The vpcd leg needs root, pcscd and vsmartcard-vpcd (tests/pcsc.py); without them it is skipped.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mynacard.challenge import challenge_digest, sha256_digest_info  # noqa: E402
from mynacard.jpki import CertificateKind, JpkiSession, KeyKind  # noqa: E402
from mynacard.pins import PinKind  # noqa: E402
from mynacard.sim import SimulatedCard, SimulatedConnection, demo_profile  # noqa: E402
from mynacard.transport import CardConnection  # noqa: E402
from mynacard.visual import VisualApSession  # noqa: E402

logger = logging.getLogger(__name__)

DEMO_PIN_B = "60072320344821"
DIGEST_INFO = sha256_digest_info(
    challenge_digest("myna-reset/reserve/sign", "https://bench.example", bytes(32))
)


class CountingConnection(CardConnection):
    """Counts APDUs and bytes on any connection."""

    def __init__(self, inner: CardConnection) -> None:
        self.inner = inner
        self.apdus = 0
        self.sent = 0
        self.received = 0

    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
        data, sw = self.inner.send_and_receive(apdu)
        self.apdus += 1
        self.sent += len(apdu)
        self.received += len(data) + 2
        return data, sw

    def close(self) -> None:
        self.inner.close()


@dataclass(frozen=True)
class Figures:
    """One measured path."""

    apdus: int
    sent: int
    received: int
    seconds_per_read: float


def reservation_read(connection: CardConnection) -> int:
    """Do one full read; returns the card-face size so the work cannot be optimised away."""
    jpki = JpkiSession(connection)
    certificate = jpki.read_certificate(CertificateKind.AUTH)
    jpki.verify(PinKind.JPKI_AUTH, "2580")
    jpki_signature = jpki.sign(KeyKind.AUTH, DIGEST_INFO)
    visual = VisualApSession(connection)
    visual.verify_pin_b(DEMO_PIN_B)
    face = visual.read_card_face_raw()
    cv_certificate = visual.read_cv_certificate()
    card_signature = visual.sign(DIGEST_INFO)
    return (
        len(certificate)
        + len(jpki_signature)
        + len(face)
        + len(cv_certificate)
        + len(card_signature)
    )


def measure(connection: CardConnection, rounds: int) -> Figures:
    """Count one read, then time ``rounds`` reads."""
    counter = CountingConnection(connection)
    reservation_read(counter)
    start = time.perf_counter()
    for _ in range(rounds):
        reservation_read(connection)
    elapsed = time.perf_counter() - start
    return Figures(counter.apdus, counter.sent, counter.received, elapsed / rounds)


def round_trip(connection: CardConnection, rounds: int) -> float:
    """Seconds per APDU for a SELECT that does no work: the transport's own cost."""
    apdu = bytes.fromhex("00A4040C0AD392F000260100000001")
    start = time.perf_counter()
    for _ in range(rounds):
        connection.send_and_receive(apdu)
    return (time.perf_counter() - start) / rounds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    card = SimulatedCard(demo_profile())
    local = measure(SimulatedConnection(card), args.rounds)
    local_rtt = round_trip(SimulatedConnection(card), 50 * args.rounds)
    print("reservation read (auth cert + auth signature + card face + CV cert + card-key sig)")
    print(f"  APDUs {local.apdus}, bytes sent {local.sent}, bytes received {local.received}")
    print(
        f"  in-process: {local.seconds_per_read * 1000:.2f} ms per read (baseline = 1.00);"
        f" one SELECT {local_rtt * 1e6:.1f} us"
    )

    from tests.pcsc import (
        PcscUnavailableError,
        PyscardConnection,
        pcscd_with_simulator,
        unavailable_reason,
    )

    reason = unavailable_reason()
    if reason:
        print(f"  vpcd: skipped ({reason})")
        return 0
    try:
        with pcscd_with_simulator() as running:
            connection = PyscardConnection(running.reader)
            try:
                remote = measure(connection, args.rounds)
                remote_rtt = round_trip(connection, 50 * args.rounds)
            finally:
                connection.close()
    except PcscUnavailableError as exc:
        print(f"  vpcd: skipped ({exc})")
        return 0
    if (remote.apdus, remote.sent, remote.received) != (local.apdus, local.sent, local.received):
        print("  warning: the vpcd path exchanged different traffic")
    ratio = remote.seconds_per_read / local.seconds_per_read
    print(
        f"  vpcd (pyscard -> pcscd -> vpcd -> simulator): {remote.seconds_per_read * 1000:.2f} ms"
        f" per read = {ratio:.2f} x in-process"
    )
    print(
        f"  vpcd one SELECT: {remote_rtt * 1e6:.1f} us = {remote_rtt / local_rtt:.0f} x in-process"
        f"; transport share of a read = {remote_rtt * local.apdus / remote.seconds_per_read:.0%}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
