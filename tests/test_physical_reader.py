"""Read-only card tests against a physical My Number Card, run only on request.

    .venv/bin/python -m pytest tests/test_physical_reader.py \
        --reader "SONY FeliCa Port/PaSoRi 4.0 00 00"

Without ``--reader NAME`` every test here is skipped (conftest.py), in CI too: there is no card
in CI. With it they read the card in that reader through pyscard and pcscd: the token label,
every retry counter (empty VERIFY, spec §4.4: no try is spent), the certificates that need no
PIN, and the bridge's GET_CARD_STATUS workflow. Nothing here sends a VERIFY with a value, signs
or writes: :class:`ReadOnlyConnection` refuses such an APDU before it reaches the card, so a
mistake in a test can never cost the card holder a try (as yubikit's device tests are opt-in).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography import x509

from mynacard.constants import INS
from mynacard.errors import ApplicationNotFoundError
from mynacard.jpki import CertificateKind, JpkiSession
from mynacard.juki import JukiSession
from mynacard.pins import PinKind, PinStatus
from mynacard.textap import TextApSession
from mynacard.transport import CardConnection
from mynacard.visual import VisualApSession

pytestmark = pytest.mark.reader

#: Instructions a read-only test may send: SELECT, READ BINARY, GET RESPONSE, and VERIFY only
#: without data (the retry-counter query, spec §4.4).
_READ_ONLY_INS = frozenset({INS.SELECT, INS.READ_BINARY, 0xC0})


class NotReadOnlyError(AssertionError):
    """A test tried to send an APDU that could spend a try or change the card."""


class ReadOnlyConnection(CardConnection):
    """Passes read-only APDUs to the card and refuses everything else before it is sent."""

    def __init__(self, inner: CardConnection) -> None:
        self._inner = inner
        self.sent: list[bytes] = []

    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
        ins = apdu[1]
        empty_verify = ins == INS.VERIFY and len(apdu) == 4  # case 1: no Lc, no data
        if ins not in _READ_ONLY_INS and not empty_verify:
            raise NotReadOnlyError(f"refused INS {ins:02X}: the reader tests are read-only")
        self.sent.append(apdu)
        return self._inner.send_and_receive(apdu)

    def close(self) -> None:
        self._inner.close()


def _open(reader: str) -> CardConnection:
    from tests.pcsc import PyscardConnection  # pyscard is imported only when asked for

    try:
        from smartcard.System import readers

        names = [str(r) for r in readers()]
    except Exception as exc:  # pyscard raises several kinds when pcscd is not reachable
        pytest.fail(f"--reader {reader!r}: the PC/SC service is not reachable ({exc})")
    if reader not in names:
        pytest.fail(f"--reader {reader!r}: no such reader; attached: {names or 'none'}")
    return PyscardConnection(reader)


@pytest.fixture
def card(reader_name: str) -> Iterator[ReadOnlyConnection]:
    connection = ReadOnlyConnection(_open(reader_name))
    try:
        yield connection
    finally:
        connection.close()


def _counters(card: CardConnection) -> dict[PinKind, PinStatus | None]:
    jpki = JpkiSession(card)
    counters: dict[PinKind, PinStatus | None] = {
        PinKind.JPKI_AUTH: jpki.pin_status(PinKind.JPKI_AUTH),
        PinKind.JPKI_SIGN: jpki.pin_status(PinKind.JPKI_SIGN),
        PinKind.VISUAL_PIN_B: VisualApSession(card).pin_b_status(),
    }
    for kind, session in ((PinKind.TEXT_PIN, TextApSession), (PinKind.JUKI_PIN, JukiSession)):
        try:
            counters[kind] = session(card).pin_status()
        except ApplicationNotFoundError:
            counters[kind] = None
    return counters


def test_the_card_is_a_my_number_card(card: ReadOnlyConnection) -> None:
    assert JpkiSession(card).check_token() == "JPKIAPICCTOKEN2"


def test_every_counter_reads_twice_the_same_so_no_try_is_spent(card: ReadOnlyConnection) -> None:
    first = _counters(card)
    second = _counters(card)
    assert first == second
    for status in first.values():
        if status is not None and status.max_tries is not None:
            assert 0 <= status.tries_left <= status.max_tries
    verifies = [apdu for apdu in card.sent if apdu[1] == INS.VERIFY]
    assert verifies and all(len(apdu) == 4 for apdu in verifies)


def test_the_user_auth_certificate_is_readable_without_a_pin(card: ReadOnlyConnection) -> None:
    jpki = JpkiSession(card)
    if not jpki.certificate_availability().auth:
        pytest.skip("this card holds no user-auth certificate")
    certificate = x509.load_der_x509_certificate(jpki.read_certificate(CertificateKind.AUTH))
    assert certificate.not_valid_before_utc < certificate.not_valid_after_utc


def test_the_bridge_card_status_matches_the_sessions(reader_name: str) -> None:
    from bridge.pcsc import PcscBackend
    from bridge.readers import CancelToken
    from bridge.workflows import WorkflowContext, card_status

    with ReadOnlyConnection(_open(reader_name)) as card:
        expected = _counters(card)
    context = WorkflowContext(  # the bridge opens its own connection, as it does for a page
        backend=PcscBackend(),
        reader=reader_name,
        origin="http://localhost:8000",
        cancel=CancelToken(),
        emit=lambda status: None,
        workflow="GET_CARD_STATUS",
    )
    report = card_status(context).card
    assert {kind: report.pins[kind] for kind in expected} == expected
