"""The reader abstraction both backends implement, the per-APDU guard, and the reader monitor.

The bridge has two backends: real PC/SC (:mod:`bridge.pcsc`) and the in-process simulated card
(:mod:`bridge.simulated`). Workflows see only :class:`CardLink` (a ``mynacard`` CardConnection)
wrapped in :class:`GuardedConnection`, which checks cancellation between APDUs — pyscard calls
block, so cancelling means "stop before the next APDU" (style.md, AusweisApp ``CANCEL``).
"""

from __future__ import annotations

import abc
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from bridge.messages import Message, ReaderEvent, ReaderEventName, Service
from bridge.reasons import (
    BridgeFailure,
    BridgeReason,
    OperationCancelled,
    fix_after_interrupted_verify,
)
from mynacard.transport import CardConnection

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReaderInfo:
    """One reader as the page sees it."""

    name: str
    card_present: bool
    #: A card is there but does not answer (upside down, badly placed: PC/SC "mute").
    card_mute: bool = False

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "card_present": self.card_present, "card_mute": self.card_mute}


class CancelToken:
    """Set by CANCEL or a client disconnect; checked by the worker between APDUs."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise OperationCancelled()

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (a settle delay), waking early and raising if cancelled."""
        if self._event.wait(seconds):
            raise OperationCancelled()


class CardLink(CardConnection):
    """A connection to the card in one reader, opened by a backend.

    ``close()`` resets the card when the link was opened for a workflow that may VERIFY, so a
    verified PIN never outlives the operation (no half state for the next program).
    """

    reader: str
    exclusive: bool


class ReaderBackend(abc.ABC):
    """Where readers come from: PC/SC or the simulated card."""

    #: "pcsc" or "simulated" (shown in HELLO).
    kind: str = ""

    @abc.abstractmethod
    def list_readers(self) -> tuple[ReaderInfo, ...]:
        """The attached readers; BridgeFailure(NO_PCSC_SERVICE) when the service is down."""

    @abc.abstractmethod
    def open(self, reader: str, *, exclusive_required: bool, cancel: CancelToken) -> CardLink:
        """Connect to the card in ``reader``.

        Exclusive access is tried first; when another program shares the reader and
        ``exclusive_required`` is false (read-only steps), a shared connection is used instead.
        """

    def close(self) -> None:  # noqa: B027 - nothing to release by default
        """Release backend resources (PC/SC contexts)."""


#: Called by the guard before each APDU with the running APDU count (for STATUS messages).
ApduHook = Callable[[int], None]


#: Failures after which we cannot know whether the card received the APDU in flight.
_LOST_IN_FLIGHT = frozenset(
    {BridgeReason.CARD_REMOVED, BridgeReason.READER_GONE, BridgeReason.CARD_COMMUNICATION_ERROR,
     BridgeReason.NO_PCSC_SERVICE}
)


def _presents_a_value(apdu: bytes) -> bool:
    """A VERIFY with data (``00 20 00 P2 Lc ...``); an empty one only reads the counter (§4.4)."""
    return len(apdu) > 5 and apdu[1] == 0x20


def _verify_interrupted(failure: BridgeFailure) -> BridgeFailure:
    """The link failed while a VERIFY was in flight: the try may or may not have been counted.

    The default CARD_REMOVED fix says no try was spent, which is true only when the card left
    between APDUs. Here the page must re-read the counters (GET_CARD_STATUS, no try spent)
    before asking again; the bridge never re-sends the VERIFY itself.
    """
    extra = {
        **failure.extra,
        "verify_interrupted": True,
        "fix": fix_after_interrupted_verify(failure.reason),
    }
    return BridgeFailure(failure.reason, str(failure), **extra)


class GuardedConnection(CardConnection):
    """Checks the cancel token before every APDU and counts them; never re-sends anything.

    A failed VERIFY is never retried here or anywhere below (issue: "never retry a VERIFY on
    its own"): every transport error surfaces as a final BridgeFailure.
    """

    def __init__(
        self, link: CardLink, cancel: CancelToken, *, on_apdu: ApduHook | None = None
    ) -> None:
        self._link = link
        self._cancel = cancel
        self._on_apdu = on_apdu
        self.apdu_count = 0

    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
        self._cancel.raise_if_cancelled()
        self.apdu_count += 1
        if self._on_apdu is not None:
            self._on_apdu(self.apdu_count)
        try:
            return self._link.send_and_receive(apdu)
        except BridgeFailure as failure:
            if _presents_a_value(apdu) and failure.reason in _LOST_IN_FLIGHT:
                raise _verify_interrupted(failure) from failure
            raise

    def close(self) -> None:
        self._link.close()


def choose_reader(readers: tuple[ReaderInfo, ...], selected: str | None) -> str:
    """The reader a card command uses: the selected one, or the only one; never a guess.

    Several readers and no selection → READER_NOT_SELECTED: picking one silently could talk to
    the wrong card (issue 4; docs/bridge-protocol.md, "Readers").
    """
    names = [r.name for r in readers]
    if selected is not None:
        if selected not in names:
            raise BridgeFailure(
                BridgeReason.READER_GONE, "the selected reader is no longer attached"
            )
        return selected
    if not names:
        raise BridgeFailure(BridgeReason.NO_READER)
    if len(names) > 1:
        raise BridgeFailure(BridgeReason.READER_NOT_SELECTED, readers=names)
    return names[0]


@dataclass(frozen=True)
class ReaderSnapshot:
    """What the monitor saw on one poll: the readers, or why the service is unavailable."""

    readers: tuple[ReaderInfo, ...]
    service_reason: BridgeReason | None = None


def take_snapshot(backend: ReaderBackend) -> ReaderSnapshot:
    try:
        return ReaderSnapshot(backend.list_readers())
    except BridgeFailure as exc:
        return ReaderSnapshot((), exc.reason)


def diff_snapshots(old: ReaderSnapshot, new: ReaderSnapshot) -> list[Message]:
    """READER events for every change between two polls (attach/detach/insert/remove)."""
    events: list[Message] = []
    before = {r.name: r for r in old.readers}
    after = {r.name: r for r in new.readers}
    for name in before:
        if name not in after:
            events.append(ReaderEvent(event="detached", reader=name, info=None))
    for name, info in after.items():
        previous = before.get(name)
        event: ReaderEventName
        if previous is None:
            event = "attached"
        elif previous.card_present != info.card_present:
            event = "card_inserted" if info.card_present else "card_removed"
        elif previous.card_mute != info.card_mute:
            event = "card_mute" if info.card_mute else "card_inserted"
        else:
            continue
        events.append(ReaderEvent(event=event, reader=name, info=info))
    if old.service_reason != new.service_reason:
        events.append(Service(reason=new.service_reason))
    return events


class ReaderMonitor:
    """A daemon thread that polls the backend and reports READER / SERVICE events.

    Polling (rather than a blocking SCardGetStatusChange) keeps one simple loop that also
    survives pcscd restarts: each poll re-creates a stale context (docs/bridge-deployment.md).
    It polls only while a page is connected (:meth:`resume` / :meth:`pause`): the helper runs
    from login to logout, and with no page there is nobody to tell, so it then blocks on an
    event and costs no CPU (issue 17; ``bench/bridge_idle.py`` measures it).
    """

    def __init__(
        self,
        backend: ReaderBackend,
        report: Callable[[list[Message], ReaderSnapshot], None],
        *,
        interval: float = 0.25,
    ) -> None:
        self._backend = backend
        self._report = report
        self._interval = interval
        self._stop = threading.Event()
        #: Set while a page is connected; the thread blocks on it otherwise (no timed wake-ups).
        self._wanted = threading.Event()
        self._lock = threading.Lock()
        self.snapshot = take_snapshot(backend)
        self._thread = threading.Thread(target=self._run, name="myna-bridge-monitor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wanted.set()  # wake a paused thread so it sees the stop
        self._thread.join(timeout=5)

    def resume(self) -> ReaderSnapshot:
        """A page connected: bring the snapshot up to date now, then poll until :meth:`pause`."""
        snapshot = self.refresh()
        self._wanted.set()
        return snapshot

    def pause(self) -> None:
        """No page connected: stop polling (the current poll, if any, finishes first)."""
        self._wanted.clear()

    @property
    def polling(self) -> bool:
        return self._wanted.is_set() and not self._stop.is_set()

    def refresh(self) -> ReaderSnapshot:
        """Poll synchronously and report changes; returns the new snapshot."""
        with self._lock:
            new = take_snapshot(self._backend)
            events = diff_snapshots(self.snapshot, new)
            self.snapshot = new
        if events:
            self._report(events, new)
        return new

    def _run(self) -> None:
        while True:
            self._wanted.wait()  # blocks without a timeout while no page is connected
            if self._stop.is_set():
                return
            try:
                self.refresh()
            except Exception:  # a monitor that dies silently would hide every later event
                logger.exception("reader monitor poll failed")
            self._stop.wait(self._interval)
