"""The in-process simulated card behind a virtual reader (``--simulate [PROFILE]``).

This is the embedded default that ``make run`` starts: no pcscd, no reader, the demo card from
``mynacard.sim``. The card can be removed and re-inserted through the ``SIM_CARD`` command
(a development aid, accepted only in simulate mode; docs/bridge-protocol.md).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from bridge.readers import CancelToken, CardLink, ReaderBackend, ReaderInfo
from bridge.reasons import BridgeFailure, BridgeReason
from mynacard.sim import CardPoweredOffError, SimulatedCard, demo_profile, load_profile

logger = logging.getLogger(__name__)

SIMULATED_READER = "Myna Simulated Reader 00 00"
DEMO = "demo"
#: Test hook, called in the worker thread with each command APDU before the card sees it.
ApduObserver = Callable[[bytes], None]


class SimulatedBackend(ReaderBackend):
    """One virtual reader holding one simulated card that can be inserted and removed."""

    kind = "simulated"

    def __init__(
        self,
        profile: str = DEMO,
        *,
        present: bool = True,
        before_apdu: ApduObserver | None = None,
    ) -> None:
        loaded = demo_profile() if profile == DEMO else load_profile(Path(profile))
        self.card = SimulatedCard(loaded)
        self._present = present
        self._lock = threading.Lock()
        self.before_apdu = before_apdu

    @property
    def present(self) -> bool:
        with self._lock:
            return self._present

    def set_present(self, present: bool) -> None:
        """Insert or remove the card. Removal powers it off, which clears any verified PIN."""
        with self._lock:
            if self._present and not present:
                self.card.power_off()  # out of the field: verified PINs are gone
            elif present and not self._present:
                self.card.power_on()
            self._present = present
        logger.info("simulated card %s", "inserted" if present else "removed")

    def list_readers(self) -> tuple[ReaderInfo, ...]:
        return (ReaderInfo(SIMULATED_READER, card_present=self.present),)

    def open(self, reader: str, *, exclusive_required: bool, cancel: CancelToken) -> CardLink:
        if reader != SIMULATED_READER:
            raise BridgeFailure(BridgeReason.READER_GONE, "no such reader")
        cancel.raise_if_cancelled()
        if not self.present:
            raise BridgeFailure(BridgeReason.NO_CARD)
        if not self.card.powered:
            self.card.power_on()
        return _SimulatedLink(self, reset_on_close=exclusive_required)


class _SimulatedLink(CardLink):
    """APDUs go straight to the card object; a removed card fails the next APDU."""

    def __init__(self, backend: SimulatedBackend, *, reset_on_close: bool) -> None:
        self._backend = backend
        self._reset_on_close = reset_on_close
        self.reader = SIMULATED_READER
        self.exclusive = True
        self._closed = False

    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
        if self._closed:
            raise BridgeFailure(BridgeReason.INTERNAL_ERROR, "link already closed")
        observer = self._backend.before_apdu
        if observer is not None:
            observer(apdu)
        if not self._backend.present:
            # PC/SC reports SCARD_W_REMOVED_CARD here; the simulated reader says the same.
            raise BridgeFailure(BridgeReason.CARD_REMOVED)
        try:
            return self._backend.card.process(apdu)
        except CardPoweredOffError as exc:  # removed between the check above and now
            raise BridgeFailure(BridgeReason.CARD_REMOVED) from exc

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._reset_on_close and self._backend.present:
            # Same as SCardDisconnect(SCARD_RESET_CARD): no verified PIN outlives the workflow.
            self._backend.card.reset()
