"""The simulated card through a real pcscd + vsmartcard-vpcd, read with pyscard and the
mynacard sessions (marker ``pcsc``: runs under CI=true, may skip elsewhere)."""

from __future__ import annotations

from datetime import date

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import padding

from mynacard.challenge import challenge_digest, sha256_digest_info
from mynacard.jpki import CertificateKind, JpkiSession, KeyKind
from mynacard.pins import PinKind
from mynacard.records import JP2_SIGNATURE
from mynacard.visual import VisualApSession
from tests.pcsc import (  # noqa: F401 - the fixture is used by name
    PcscSim,
    PyscardConnection,
    pcsc_sim,
    skip_or_fail,
)

pytestmark = pytest.mark.pcsc

DEMO_PIN_B = "60072320344821"


def test_pcscd_reports_the_contact_atr(pcsc_sim: PcscSim) -> None:  # noqa: F811
    conn = PyscardConnection(pcsc_sim.reader)
    try:
        atr = bytes(conn._connection.getATR())
    finally:
        conn.close()
    assert atr == bytes.fromhex("3BC5FF8131FB458073C6010000")


def test_it_reads_the_token_label_and_pin_status(pcsc_sim: PcscSim) -> None:  # noqa: F811
    with PyscardConnection(pcsc_sim.reader) as conn:
        jpki = JpkiSession(conn)
        assert jpki.token_label() == "JPKIAPICCTOKEN2"
        auth = jpki.pin_status(PinKind.JPKI_AUTH)
        sign = jpki.pin_status(PinKind.JPKI_SIGN)
    assert (auth.tries_left, auth.blocked) == (3, False)
    assert (sign.tries_left, sign.max_tries) == (5, 5)


def test_it_reads_the_card_face_with_the_demo_pin_b(pcsc_sim: PcscSim) -> None:  # noqa: F811
    with PyscardConnection(pcsc_sim.reader) as conn:
        visual = VisualApSession(conn)
        assert visual.pin_b_status().tries_left == 10
        visual.verify_pin_b(DEMO_PIN_B)
        face = visual.read_card_face()
    assert face.birth_date == date(1985, 7, 23)
    assert face.expiry == date(2034, 7, 23)
    assert face.photo_jp2.startswith(JP2_SIGNATURE)
    assert 3 * 1024 <= len(face.photo_jp2) <= 5 * 1024


def test_an_auth_signature_over_pcsc_verifies(pcsc_sim: PcscSim) -> None:  # noqa: F811
    message_digest = challenge_digest("myna-reset/reserve/sign", "https://example.test", b"n" * 32)
    with PyscardConnection(pcsc_sim.reader) as conn:
        jpki = JpkiSession(conn)
        certificate = x509.load_der_x509_certificate(jpki.read_certificate(CertificateKind.AUTH))
        jpki.verify(PinKind.JPKI_AUTH, "2580")
        signature = jpki.sign(KeyKind.AUTH, sha256_digest_info(message_digest))
    public_key = certificate.public_key()
    recovered = public_key.recover_data_from_signature(  # type: ignore[union-attr]
        signature, padding.PKCS1v15(), None
    )
    assert recovered == sha256_digest_info(message_digest)


def test_a_missing_prerequisite_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no pcscd here"):
        skip_or_fail("no pcscd here")


def test_a_missing_prerequisite_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    # A skip escaping here would be reported as a skip, hiding the bug: catch it and fail.
    try:
        skip_or_fail("no pcscd here")
    except pytest.skip.Exception:
        pytest.fail("under CI=true a missing prerequisite must fail the test, not skip it")
    except pytest.fail.Exception as exc:
        assert "CI=true" in str(exc) and "no pcscd here" in str(exc)
    else:
        pytest.fail("skip_or_fail returned")
