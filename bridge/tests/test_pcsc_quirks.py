"""The PC/SC quirks of bridge/pcsc.py against a scripted fake of pyscard's ``scard`` module."""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from smartcard import scard as real_scard

from bridge import pcsc
from bridge.readers import CancelToken
from bridge.reasons import BridgeFailure, BridgeReason

OK = real_scard.SCARD_S_SUCCESS
READER = "ACME Reader 00 00"


class FakeScard(types.SimpleNamespace):
    """Real constants, scripted functions; records every call."""

    def __init__(self) -> None:
        super().__init__(**{k: getattr(real_scard, k) for k in dir(real_scard) if k.isupper()})
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.establish: list[int] = []
        self.list_readers: list[tuple[int, list[str]]] = []
        self.connect: list[int] = []
        self.transmit: list[tuple[int, list[int]]] = []
        self.states: list[tuple[int, list[tuple[str, int, list[int]]]]] = []

    def _pop(self, script: list[Any], default: Any) -> Any:
        return script.pop(0) if script else default

    def SCardEstablishContext(self, scope: int) -> tuple[int, int]:  # noqa: N802
        self.calls.append(("establish", ()))
        return self._pop(self.establish, OK), 1000 + len(self.calls)

    def SCardReleaseContext(self, ctx: int) -> int:  # noqa: N802
        self.calls.append(("release", (ctx,)))
        return OK

    def SCardListReaders(self, ctx: int, groups: list[str]) -> tuple[int, list[str]]:  # noqa: N802
        self.calls.append(("list", (ctx,)))
        return self._pop(self.list_readers, (OK, [READER]))

    def SCardGetStatusChange(self, ctx: int, timeout: int, states: list[Any]) -> Any:  # noqa: N802
        self.calls.append(("status", (ctx,)))
        default: Any = (OK, [(name, self.SCARD_STATE_PRESENT, []) for name, _ in states])
        return self._pop(self.states, default)

    def SCardConnect(self, ctx: int, reader: str, share: int, protocols: int) -> Any:  # noqa: N802
        self.calls.append(("connect", (share,)))
        return self._pop(self.connect, OK), 77, self.SCARD_PROTOCOL_T1

    def SCardBeginTransaction(self, hcard: int) -> int:  # noqa: N802
        self.calls.append(("begin", ()))
        return OK

    def SCardEndTransaction(self, hcard: int, disposition: int) -> int:  # noqa: N802
        self.calls.append(("end", (disposition,)))
        return OK

    def SCardDisconnect(self, hcard: int, disposition: int) -> int:  # noqa: N802
        self.calls.append(("disconnect", (disposition,)))
        return OK

    def SCardTransmit(self, hcard: int, pci: Any, apdu: list[int]) -> Any:  # noqa: N802
        self.calls.append(("transmit", (bytes(apdu),)))
        return self._pop(self.transmit, (OK, [0x90, 0x00]))

    def named(self, name: str) -> list[tuple[Any, ...]]:
        return [args for call, args in self.calls if call == name]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeScard]:
    scard = FakeScard()
    monkeypatch.setattr(pcsc, "scard", scard)
    monkeypatch.setattr(pcsc, "SETTLE_SECONDS", 0.3)
    monkeypatch.setattr(pcsc, "SETTLE_STEP", 0.01)
    monkeypatch.setattr(pcsc, "REMOVAL_GRACE_SECONDS", 0.05)
    yield scard


def _open(backend: pcsc.PcscBackend, *, exclusive_required: bool) -> pcsc.CardLink:
    return backend.open(READER, exclusive_required=exclusive_required, cancel=CancelToken())


def _failure(action: Callable[[], object]) -> BridgeFailure:
    with pytest.raises(BridgeFailure) as caught:
        action()
    return caught.value


def test_exclusive_connect_is_tried_first_and_closed_with_a_reset(fake: FakeScard) -> None:
    link = _open(pcsc.PcscBackend(), exclusive_required=True)
    assert link.exclusive is True
    assert fake.named("connect") == [(real_scard.SCARD_SHARE_EXCLUSIVE,)]
    link.close()
    assert fake.named("disconnect") == [(real_scard.SCARD_RESET_CARD,)]


def test_a_shared_reader_falls_back_to_shared_for_read_only_steps(fake: FakeScard) -> None:
    fake.connect = [real_scard.SCARD_E_SHARING_VIOLATION]
    link = _open(pcsc.PcscBackend(), exclusive_required=False)
    assert link.exclusive is False
    assert fake.named("connect") == [
        (real_scard.SCARD_SHARE_EXCLUSIVE,), (real_scard.SCARD_SHARE_SHARED,)
    ]
    assert fake.named("begin") == [()]  # nobody interleaves APDUs with ours
    link.close()
    assert fake.named("end") == [(real_scard.SCARD_LEAVE_CARD,)]
    assert fake.named("disconnect") == [(real_scard.SCARD_LEAVE_CARD,)]


def test_a_held_reader_is_reader_busy_naming_the_likely_holders(fake: FakeScard) -> None:
    fake.connect = [real_scard.SCARD_E_SHARING_VIOLATION] * 1000
    failure = _failure(lambda: _open(pcsc.PcscBackend(), exclusive_required=True))
    assert failure.reason is BridgeReason.READER_BUSY
    assert "JPKI利用者ソフト" in failure.fields()["likely_holders"]
    assert "JPKI利用者ソフト" in failure.fields()["fix"]
    assert all(c == (real_scard.SCARD_SHARE_EXCLUSIVE,) for c in fake.named("connect"))


def test_a_settling_card_is_retried_at_connect(fake: FakeScard) -> None:
    fake.connect = [real_scard.SCARD_W_UNRESPONSIVE_CARD, real_scard.SCARD_E_NO_SMARTCARD]
    link = _open(pcsc.PcscBackend(), exclusive_required=True)
    assert len(fake.named("connect")) == 3
    link.close()


def test_a_card_that_never_answers_is_card_unresponsive(fake: FakeScard) -> None:
    fake.connect = [real_scard.SCARD_W_UNRESPONSIVE_CARD] * 1000
    failure = _failure(lambda: _open(pcsc.PcscBackend(), exclusive_required=True))
    assert failure.reason is BridgeReason.CARD_UNRESPONSIVE
    assert "向き" in failure.fields()["fix"]


def test_no_card_after_settling_is_no_card(fake: FakeScard) -> None:
    fake.connect = [real_scard.SCARD_E_NO_SMARTCARD] * 1000
    assert _failure(lambda: _open(pcsc.PcscBackend(), exclusive_required=False)).reason is (
        BridgeReason.NO_CARD
    )


def test_cancel_stops_the_settle_loop(fake: FakeScard) -> None:
    fake.connect = [real_scard.SCARD_W_UNRESPONSIVE_CARD] * 1000
    cancel = CancelToken()
    cancel.cancel()
    backend = pcsc.PcscBackend()
    failure = _failure(lambda: backend.open(READER, exclusive_required=True, cancel=cancel))
    assert failure.reason is BridgeReason.CANCELLED
    assert fake.named("connect") == []


def test_a_stale_context_is_recreated_once(fake: FakeScard) -> None:
    backend = pcsc.PcscBackend()
    assert backend.list_readers()[0].name == READER
    fake.list_readers = [(real_scard.SCARD_E_INVALID_HANDLE, [])]  # pcscd restarted
    assert backend.list_readers()[0].name == READER
    assert len(fake.named("establish")) == 2
    assert len(fake.named("release")) == 1


def test_a_stopped_service_is_no_pcsc_service(fake: FakeScard) -> None:
    fake.establish = [real_scard.SCARD_E_NO_SERVICE] * 10
    failure = _failure(pcsc.PcscBackend().list_readers)
    assert failure.reason is BridgeReason.NO_PCSC_SERVICE
    assert "pcscd" in failure.fields()["fix"]


def test_no_readers_is_an_empty_list_and_mute_cards_are_flagged(fake: FakeScard) -> None:
    backend = pcsc.PcscBackend()
    fake.list_readers = [(real_scard.SCARD_E_NO_READERS_AVAILABLE, [])]
    assert backend.list_readers() == ()
    mute = real_scard.SCARD_STATE_PRESENT | real_scard.SCARD_STATE_MUTE
    fake.states = [(OK, [(READER, mute, [])])]
    (info,) = backend.list_readers()
    assert info.card_present and info.card_mute


def test_a_removed_card_during_an_exchange_is_card_removed_and_not_resent(
    fake: FakeScard,
) -> None:
    link = _open(pcsc.PcscBackend(), exclusive_required=True)
    fake.transmit = [(real_scard.SCARD_W_REMOVED_CARD, [])]
    failure = _failure(lambda: link.send_and_receive(bytes.fromhex("0020008004")))
    assert failure.reason is BridgeReason.CARD_REMOVED
    assert len(fake.named("transmit")) == 1


def test_an_empty_answer_from_a_card_that_left_is_card_removed(fake: FakeScard) -> None:
    link = _open(pcsc.PcscBackend(), exclusive_required=True)
    fake.transmit = [(OK, [])]
    fake.states = [(OK, [(READER, real_scard.SCARD_STATE_PRESENT, [])]),
                   (OK, [(READER, real_scard.SCARD_STATE_EMPTY, [])])]
    failure = _failure(lambda: link.send_and_receive(bytes.fromhex("00B0000000")))
    assert failure.reason is BridgeReason.CARD_REMOVED
    assert len(fake.named("transmit")) == 1


def test_a_failed_exchange_with_the_card_still_there_is_a_communication_error(
    fake: FakeScard,
) -> None:
    link = _open(pcsc.PcscBackend(), exclusive_required=True)
    fake.transmit = [(real_scard.SCARD_E_NOT_TRANSACTED, [])]
    failure = _failure(lambda: link.send_and_receive(bytes.fromhex("00B0000000")))
    assert failure.reason is BridgeReason.CARD_COMMUNICATION_ERROR
    assert failure.fields()["pcsc_error"] == "SCARD_E_NOT_TRANSACTED"


def test_a_detached_reader_is_reader_gone(fake: FakeScard) -> None:
    fake.connect = [real_scard.SCARD_E_UNKNOWN_READER]
    assert _failure(lambda: _open(pcsc.PcscBackend(), exclusive_required=True)).reason is (
        BridgeReason.READER_GONE
    )


def test_a_good_exchange_splits_data_and_status_word(fake: FakeScard) -> None:
    link = _open(pcsc.PcscBackend(), exclusive_required=True)
    fake.transmit = [(OK, [0x01, 0x02, 0x63, 0xC2])]
    assert link.send_and_receive(b"\x00\x20\x00\x80") == (b"\x01\x02", 0x63C2)
