"""In-process transport to a simulated card (style.md: one small abstract transport)."""

from __future__ import annotations

import logging

from mynacard.sim.card import SimulatedCard
from mynacard.transport import CardConnection

logger = logging.getLogger(__name__)

__all__ = ["SimulatedConnection"]


class SimulatedConnection(CardConnection):
    """A :class:`CardConnection` that hands each APDU straight to a :class:`SimulatedCard`."""

    def __init__(self, card: SimulatedCard, *, reset: bool = True) -> None:
        self.card = card
        if reset or not card.powered:
            card.power_on()  # a new connection starts from a fresh card session, as PC/SC does
        self.apdu_count = 0
        self.bytes_sent = 0
        self.bytes_received = 0

    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
        """Send one APDU; counts APDUs and bytes for bench/card_read.py."""
        data, sw = self.card.process(apdu)
        self.apdu_count += 1
        self.bytes_sent += len(apdu)
        self.bytes_received += len(data) + 2
        return data, sw

    def close(self) -> None:
        """Nothing to release; the card keeps its state (counters survive, §4.3)."""
