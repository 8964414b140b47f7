"""Real readers through pyscard's PC/SC binding, and the reader quirks the bridge absorbs.

Quirks handled here and nowhere else (issue 4; peers.md, the top complaints of desktop card
helpers):

* exclusive connect for anything that VERIFYs, falling back to a shared connection (inside a
  PC/SC transaction) for read-only steps when another program shares the reader;
* a card that is still settling (contactless field, just inserted) is retried for a short time
  at connect — never during an exchange: an APDU is sent once, a VERIFY is never re-sent;
* a stale context (pcscd restarted, Windows SCardSvr restarted) is re-created once;
* every PC/SC failure is mapped to a stable :class:`~bridge.reasons.BridgeReason`.

The low-level ``smartcard.scard`` module is used instead of ``smartcard.System`` because its
return codes are the facts we map; the high-level classes turn them into generic exceptions.
PC/SC handles are per thread (pcsc-lite contexts must not be shared across threads), so the
monitor thread and the card worker each get their own context.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from smartcard import scard

from bridge.readers import CancelToken, CardLink, ReaderBackend, ReaderInfo
from bridge.reasons import BridgeFailure, BridgeReason

logger = logging.getLogger(__name__)

#: How long a just-inserted or badly placed card may take to answer before we give up.
SETTLE_SECONDS = 2.0
SETTLE_STEP = 0.1
#: How long a failed exchange waits for the reader to report a removed card (see _classify).
REMOVAL_GRACE_SECONDS = 1.5
#: Programs that commonly hold a reader exclusively on residents' machines (peers.md).
LIKELY_HOLDERS = ("JPKI利用者ソフト", "e-Taxソフト", "マイナポータルAP", "他のブラウザー拡張機能")


def _u32(value: int) -> int:
    """PC/SC codes arrive signed on some platforms and unsigned on others."""
    return value & 0xFFFFFFFF


def _code(name: str) -> int:
    return _u32(getattr(scard, name))


S_SUCCESS = _code("SCARD_S_SUCCESS")
E_SHARING_VIOLATION = _code("SCARD_E_SHARING_VIOLATION")
E_NO_READERS = _code("SCARD_E_NO_READERS_AVAILABLE")
_CONTEXT_LOST = frozenset(
    _code(n) for n in ("SCARD_E_NO_SERVICE", "SCARD_E_SERVICE_STOPPED", "SCARD_E_INVALID_HANDLE")
)
_NO_CARD = frozenset(_code(n) for n in ("SCARD_E_NO_SMARTCARD", "SCARD_W_REMOVED_CARD"))
_UNRESPONSIVE = frozenset(
    _code(n)
    for n in (
        "SCARD_W_UNRESPONSIVE_CARD",
        "SCARD_W_UNPOWERED_CARD",
        "SCARD_E_PROTO_MISMATCH",
        "SCARD_W_UNSUPPORTED_CARD",
        "SCARD_E_NOT_READY",
    )
)
_READER_GONE = frozenset(
    _code(n) for n in ("SCARD_E_UNKNOWN_READER", "SCARD_E_READER_UNAVAILABLE")
)
_ERROR_NAMES = {
    _u32(getattr(scard, n)): n
    for n in dir(scard)
    if n.startswith(("SCARD_E_", "SCARD_W_", "SCARD_F_")) and isinstance(getattr(scard, n), int)
}


def error_name(hresult: int) -> str:
    """``SCARD_E_...`` name of a code, for diagnostics (never secret)."""
    return _ERROR_NAMES.get(_u32(hresult), f"0x{_u32(hresult):08X}")


def map_error(hresult: int, *, during: str) -> BridgeFailure:
    """The stable reason for a PC/SC failure (docs/bridge-protocol.md, "Reasons")."""
    code = _u32(hresult)
    name = error_name(code)
    if code in _CONTEXT_LOST:
        reason = BridgeReason.NO_PCSC_SERVICE
    elif code == E_SHARING_VIOLATION:
        return BridgeFailure(
            BridgeReason.READER_BUSY, f"{during}: {name}", likely_holders=list(LIKELY_HOLDERS)
        )
    elif code == _code("SCARD_W_REMOVED_CARD"):
        reason = BridgeReason.CARD_REMOVED if during == "transmit" else BridgeReason.NO_CARD
    elif code == _code("SCARD_E_NO_SMARTCARD"):
        reason = BridgeReason.NO_CARD
    elif code in _UNRESPONSIVE:
        reason = BridgeReason.CARD_UNRESPONSIVE
    elif code in _READER_GONE:
        reason = BridgeReason.READER_GONE
    elif code == E_NO_READERS:
        reason = BridgeReason.NO_READER
    elif during == "transmit":
        reason = BridgeReason.CARD_COMMUNICATION_ERROR
    else:
        reason = BridgeReason.PCSC_ERROR
    return BridgeFailure(reason, f"{during}: {name}", pcsc_error=name)


class _Context:
    """One thread's PC/SC context, re-created when the service restarted under it."""

    def __init__(self) -> None:
        self.handle: Any = None

    def get(self) -> Any:
        if self.handle is None:
            hresult, handle = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if _u32(hresult) != S_SUCCESS:
                raise map_error(hresult, during="establish context")
            self.handle = handle
            logger.debug("PC/SC context established")
        return self.handle

    def drop(self) -> None:
        """Forget a stale context (pcscd restarted); the next get() makes a new one."""
        if self.handle is not None:
            try:
                scard.SCardReleaseContext(self.handle)
            except Exception:  # noqa: S110 - releasing a dead context may fail; nothing to do
                pass
            self.handle = None
            logger.info("PC/SC context dropped (service restarted or handle stale)")

    def call(self, operation: Callable[[Any], tuple[Any, ...]]) -> tuple[Any, ...]:
        """Run ``operation(context)``; on a lost context retry once with a fresh one."""
        for attempt in (1, 2):
            result = operation(self.get())
            if _u32(result[0]) in _CONTEXT_LOST and attempt == 1:
                self.drop()
                continue
            return result
        raise AssertionError("unreachable")  # pragma: no cover


class PcscBackend(ReaderBackend):
    """Readers from the PC/SC service (pcscd on Linux/macOS, SCardSvr on Windows)."""

    kind = "pcsc"

    def __init__(self) -> None:
        self._local = threading.local()

    def _context(self) -> _Context:
        context = getattr(self._local, "context", None)
        if context is None:
            context = _Context()
            self._local.context = context
        return context

    def list_readers(self) -> tuple[ReaderInfo, ...]:
        context = self._context()
        hresult, names = context.call(lambda ctx: scard.SCardListReaders(ctx, []))
        code = _u32(hresult)
        if code == E_NO_READERS or (code == S_SUCCESS and not names):
            return ()
        if code != S_SUCCESS:
            failure = map_error(code, during="list readers")
            if failure.reason is BridgeReason.NO_PCSC_SERVICE:
                context.drop()
            raise failure
        states = [(name, scard.SCARD_STATE_UNAWARE) for name in names]
        hresult, new_states = context.call(
            lambda ctx: scard.SCardGetStatusChange(ctx, 0, states)
        )
        if _u32(hresult) != S_SUCCESS:
            # A reader vanished between the two calls; the next poll sees the new list.
            return tuple(ReaderInfo(name, card_present=False) for name in names)
        readers = []
        for name, event_state, _atr in new_states:
            present = bool(event_state & scard.SCARD_STATE_PRESENT)
            mute = bool(event_state & scard.SCARD_STATE_MUTE)
            readers.append(ReaderInfo(name, card_present=present, card_mute=present and mute))
        return tuple(readers)

    def card_present(self, reader: str) -> bool | None:
        """True/False from the reader state; None when the reader itself is gone."""
        context = self._context()
        hresult, new_states = context.call(
            lambda ctx: scard.SCardGetStatusChange(ctx, 0, [(reader, scard.SCARD_STATE_UNAWARE)])
        )
        if _u32(hresult) != S_SUCCESS:
            return None
        event_state = new_states[0][1]
        if event_state & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_UNAVAILABLE):
            return None
        return bool(event_state & scard.SCARD_STATE_PRESENT)

    def open(self, reader: str, *, exclusive_required: bool, cancel: CancelToken) -> CardLink:
        context = self._context()
        deadline = time.monotonic() + SETTLE_SECONDS
        share = scard.SCARD_SHARE_EXCLUSIVE
        protocols = scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
        while True:
            cancel.raise_if_cancelled()
            def connect(ctx: Any, share: int = share) -> tuple[Any, ...]:
                return tuple(scard.SCardConnect(ctx, reader, share, protocols))

            hresult, hcard, protocol = context.call(connect)
            code = _u32(hresult)
            if code == S_SUCCESS:
                break
            settling = time.monotonic() < deadline
            if code == E_SHARING_VIOLATION:
                if share == scard.SCARD_SHARE_EXCLUSIVE and not exclusive_required:
                    logger.info("reader shared by another program; read-only step goes shared")
                    share = scard.SCARD_SHARE_SHARED
                    continue
                if settling:  # e.g. the OS's smart-card plug-and-play probing the new card
                    cancel.sleep(SETTLE_STEP)
                    continue
            elif (code in _NO_CARD or code in _UNRESPONSIVE) and settling:
                cancel.sleep(SETTLE_STEP)
                continue
            elif code == _code("SCARD_W_RESET_CARD") and settling:
                continue
            raise map_error(code, during="connect")
        link = PcscLink(
            self,
            reader=reader,
            hcard=hcard,
            protocol=protocol,
            exclusive=share == scard.SCARD_SHARE_EXCLUSIVE,
            reset_on_close=exclusive_required,
        )
        logger.debug(
            "connected to reader (%s)", "exclusive" if link.exclusive else "shared, transaction"
        )
        return link


class PcscLink(CardLink):
    """One SCardConnect handle. Shared links hold a transaction for their whole life."""

    def __init__(
        self,
        backend: PcscBackend,
        *,
        reader: str,
        hcard: Any,
        protocol: int,
        exclusive: bool,
        reset_on_close: bool,
    ) -> None:
        self._backend = backend
        self.reader = reader
        self.exclusive = exclusive
        self._hcard = hcard
        t1 = protocol == scard.SCARD_PROTOCOL_T1
        self._pci = scard.SCARD_PCI_T1 if t1 else scard.SCARD_PCI_T0
        self._reset_on_close = reset_on_close
        self._in_transaction = False
        self._closed = False
        if not exclusive:
            hresult = scard.SCardBeginTransaction(hcard)
            if _u32(hresult) != S_SUCCESS:
                scard.SCardDisconnect(hcard, scard.SCARD_LEAVE_CARD)
                raise map_error(hresult, during="begin transaction")
            self._in_transaction = True

    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
        if self._closed:
            raise BridgeFailure(BridgeReason.INTERNAL_ERROR, "link already closed")
        hresult, response = scard.SCardTransmit(self._hcard, self._pci, list(apdu))
        code = _u32(hresult)
        if code != S_SUCCESS:
            failure = map_error(code, during="transmit")
        elif len(response) < 2:
            # vpcd (and some CCID firmware) answer "success" with no bytes when the card left.
            failure = BridgeFailure(
                BridgeReason.CARD_COMMUNICATION_ERROR, "response without status word"
            )
        else:
            return bytes(response[:-2]), response[-2] << 8 | response[-1]
        if failure.reason is BridgeReason.CARD_COMMUNICATION_ERROR:
            failure = self._classify(failure)
        logger.info("transmit failed: %s -> %s", error_name(code), failure.reason.value)
        raise failure

    def _classify(self, failure: BridgeFailure) -> BridgeFailure:
        """A generic exchange failure is usually a card pulled out of the field: ask the reader.

        The reader's state lags the failed exchange (pcscd polls the driver), so it is asked a
        few times before the failure is called a communication error. Nothing is re-sent.
        """
        deadline = time.monotonic() + REMOVAL_GRACE_SECONDS
        while True:
            present = self._backend.card_present(self.reader)
            if present is None:
                return BridgeFailure(BridgeReason.READER_GONE, str(failure))
            if not present:
                return BridgeFailure(BridgeReason.CARD_REMOVED, str(failure))
            if time.monotonic() >= deadline:
                return failure
            time.sleep(SETTLE_STEP)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # RESET after a workflow that may have VERIFYed: a verified JPKI key must not stay
        # usable by the next program (security state lives until reset, spec §11.1).
        disposition = scard.SCARD_RESET_CARD if self._reset_on_close else scard.SCARD_LEAVE_CARD
        if self._in_transaction:
            scard.SCardEndTransaction(self._hcard, disposition)
        hresult = scard.SCardDisconnect(self._hcard, disposition)
        if _u32(hresult) != S_SUCCESS:
            logger.debug("disconnect: %s", error_name(hresult))
