"""The sessions end to end against the simulated card (mynacard.sim), and evidence built from
what they read and signed."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from mynacard.challenge import (
    PURPOSE_RESERVE_AUTH_RESET,
    PURPOSE_RESERVE_SIGN_RESET,
    challenge_digest,
)
from mynacard.errors import PinBlockedError, SecurityStatusError, WrongPinError
from mynacard.evidence import (
    ReservationEvidence,
    TrustAnchors,
    card_identity,
    check_auth_certificate,
)
from mynacard.jpki import CertificateKind, JpkiSession, KeyKind
from mynacard.juki import JukiSession
from mynacard.pins import PinKind, make_pin_b
from mynacard.pkcs1 import sha256_digest_info
from mynacard.records import JP2_SIGNATURE, parse_cv_certificate
from mynacard.sim import SimulatedCard, SimulatedConnection, demo_profile, sim_trust_anchors
from mynacard.tests.conftest import ORIGIN, Pki, check, code_of
from mynacard.textap import TextApSession
from mynacard.visual import VisualApSession

# Demo profile (docs/internal-api.md): 昭和60年7月23日, expiry 2034, security code 4821.
PIN_B = make_pin_b(date(1985, 7, 23), date(2034, 7, 23), "4821")
AUTH_PIN, SIGN_PASSWORD = "2580", "MYNA2580"


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sim-pki")


@pytest.fixture(scope="module")
def anchors(pki_dir: Path) -> TrustAnchors:
    return sim_trust_anchors(pki_dir)


@pytest.fixture
def card(pki_dir: Path) -> SimulatedCard:
    return SimulatedCard(demo_profile(), pki_dir=pki_dir)


@pytest.fixture
def conn(card: SimulatedCard) -> SimulatedConnection:
    return SimulatedConnection(card)


def collect(
    conn: SimulatedConnection, *, purpose: str, nonce: bytes, origin: str = ORIGIN
) -> ReservationEvidence:
    """What the bridge does for a reservation: sign with the known key, read and sign in 券面AP."""
    digest_info = sha256_digest_info(challenge_digest(purpose, origin, nonce))
    jpki = JpkiSession(conn)
    if purpose == PURPOSE_RESERVE_SIGN_RESET:
        key, jpki_key, kind, pin, cert = (
            KeyKind.AUTH, "auth", PinKind.JPKI_AUTH, AUTH_PIN, CertificateKind.AUTH,
        )
    else:
        key, jpki_key, kind, pin, cert = (
            KeyKind.SIGN, "sign", PinKind.JPKI_SIGN, SIGN_PASSWORD, CertificateKind.SIGN,
        )
    jpki.verify(kind, pin)  # type: ignore[arg-type]
    certificate = jpki.read_certificate(cert)
    auth_certificate = jpki.read_certificate(CertificateKind.AUTH)  # the card's identity
    jpki_signature = jpki.sign(key, digest_info)
    visual = VisualApSession(conn)
    visual.verify_pin_b(PIN_B)
    return ReservationEvidence(
        purpose=purpose,
        origin=origin,
        nonce=nonce,
        jpki_key=jpki_key,  # type: ignore[arg-type]
        auth_certificate=auth_certificate,
        jpki_certificate=certificate,
        jpki_signature=jpki_signature,
        card_face=visual.read_card_face_raw(),
        cv_certificate=visual.read_cv_certificate(),
        card_key_signature=visual.sign(digest_info),
    )


# --- reading ------------------------------------------------------------------------------


def test_token_and_certificate_availability(conn: SimulatedConnection) -> None:
    jpki = JpkiSession(conn)
    assert jpki.token_label() == "JPKIAPICCTOKEN2"
    availability = jpki.certificate_availability()
    assert availability.sign and availability.auth


def test_token_check_and_full_token_info(conn: SimulatedConnection) -> None:
    jpki = JpkiSession(conn)
    assert jpki.check_token() == "JPKIAPICCTOKEN2"
    info = jpki.token_info()
    assert (info.max_pin_length, info.min_pin_length) == (16, 6)


def test_text_ap_free_records(conn: SimulatedConnection, anchors: TrustAnchors) -> None:
    text = TextApSession(conn)
    assert text.read_ap_basic_info().extended_length  # DF41 01 03 0E 01 (§5.3)
    cv = parse_cv_certificate(text.read_cv_certificate())
    assert cv.issuer == "9000033/001"
    assert cv.is_signed_by(anchors.cv_ca_keys["9000033/001"])
    with pytest.raises(SecurityStatusError):  # 基本4情報 stays behind the PIN (§5.1)
        text._select_ef(0x0002)
        text._read_tlv_ef()


def test_every_counter_reads_without_spending_a_try(
    conn: SimulatedConnection, card: SimulatedCard
) -> None:
    jpki = JpkiSession(conn)
    for _ in range(2):  # asking twice changes nothing
        assert jpki.pin_status(PinKind.JPKI_AUTH).tries_left == 3
        assert jpki.pin_status(PinKind.JPKI_SIGN).tries_left == 5
    assert VisualApSession(conn).pin_b_status().tries_left == 10
    assert TextApSession(conn).pin_status().tries_left == 3
    assert JukiSession(conn).pin_status().tries_left == 3
    assert card.tries_left(PinKind.JPKI_AUTH) == 3


def test_read_card_face_with_the_right_pin_b(conn: SimulatedConnection) -> None:
    visual = VisualApSession(conn)
    with pytest.raises(SecurityStatusError):
        visual.read_card_face_raw()
    visual.verify_pin_b(PIN_B)
    face = visual.read_card_face()
    assert face.birth_date == date(1985, 7, 23)
    assert face.expiry == date(2034, 7, 23)
    assert face.photo_jp2.startswith(JP2_SIGNATURE)
    cv = parse_cv_certificate(visual.read_cv_certificate())
    assert face.signature_valid(cv.key.public_key())


def test_a_wrong_pin_b_spends_one_try(conn: SimulatedConnection) -> None:
    visual = VisualApSession(conn)
    wrong = make_pin_b(date(1985, 7, 23), date(2034, 7, 23), "4822")
    with pytest.raises(WrongPinError) as info:
        visual.verify_pin_b(wrong)
    assert info.value.tries_left == 9
    assert visual.pin_b_status().tries_left == 9
    with pytest.raises(SecurityStatusError):
        visual.read_card_face_raw()
    visual.verify_pin_b(PIN_B)  # the right value restores the counter (§4.3)
    assert visual.pin_b_status().tries_left == 10


def test_exhausting_the_auth_pin_locks_it(conn: SimulatedConnection, card: SimulatedCard) -> None:
    jpki = JpkiSession(conn)
    seen = []
    for _ in range(3):
        with pytest.raises(WrongPinError) as info:
            jpki.verify(PinKind.JPKI_AUTH, "0000")
        seen.append(info.value.tries_left)
    assert seen == [2, 1, 0]  # 63C0 on the last try (§4.4)
    status = jpki.pin_status(PinKind.JPKI_AUTH)
    assert status.blocked and status.tries_left == 0
    with pytest.raises(PinBlockedError):  # 6984: even the right PIN is refused
        jpki.verify(PinKind.JPKI_AUTH, AUTH_PIN)
    assert card.tries_left(PinKind.JPKI_AUTH) == 0
    assert jpki.pin_status(PinKind.JPKI_SIGN).tries_left == 5  # the other key is untouched


def test_signing_and_the_sign_certificate_need_a_verify(conn: SimulatedConnection) -> None:
    jpki = JpkiSession(conn)
    with pytest.raises(SecurityStatusError):
        jpki.sign(KeyKind.AUTH, sha256_digest_info(bytes(32)))
    with pytest.raises(SecurityStatusError):
        jpki.read_certificate(CertificateKind.SIGN)
    assert jpki.read_certificate(CertificateKind.AUTH_CA)[:2] == b"\x30\x82"


# --- evidence -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("purpose", "jpki_key"),
    [(PURPOSE_RESERVE_SIGN_RESET, "auth"), (PURPOSE_RESERVE_AUTH_RESET, "sign")],
)
def test_sign_and_verify_evidence(
    conn: SimulatedConnection, anchors: TrustAnchors, purpose: str, jpki_key: str
) -> None:
    nonce = secrets.token_bytes(32)
    result = check(collect(conn, purpose=purpose, nonce=nonce), anchors, nonce)
    assert result.jpki_key == jpki_key
    assert result.birth_date == date(1985, 7, 23)
    assert result.photo_jp2.startswith(JP2_SIGNATURE)
    assert len(result.card_identity) == 64


def test_the_same_card_keeps_its_identity(
    conn: SimulatedConnection, anchors: TrustAnchors
) -> None:
    first, second = secrets.token_bytes(32), secrets.token_bytes(32)
    a = check(collect(conn, purpose=PURPOSE_RESERVE_SIGN_RESET, nonce=first), anchors, first)
    b = check(collect(conn, purpose=PURPOSE_RESERVE_SIGN_RESET, nonce=second), anchors, second)
    assert a.card_identity == b.card_identity


def test_both_booking_cases_name_the_card_by_its_user_auth_certificate(
    conn: SimulatedConnection, anchors: TrustAnchors
) -> None:
    first, second = secrets.token_bytes(32), secrets.token_bytes(32)
    by_auth = check(collect(conn, purpose=PURPOSE_RESERVE_SIGN_RESET, nonce=first), anchors, first)
    by_sign = check(
        collect(conn, purpose=PURPOSE_RESERVE_AUTH_RESET, nonce=second), anchors, second
    )
    auth_der = JpkiSession(conn).read_certificate(CertificateKind.AUTH)  # no PIN, as at a kiosk
    kiosk_view = card_identity(check_auth_certificate(auth_der, anchors, now=datetime.now(UTC)))
    assert by_auth.card_identity == by_sign.card_identity == kiosk_view
    # The signer is remembered separately, and differs when the signature key signed.
    assert by_auth.signer_identity == by_auth.card_identity
    assert by_sign.signer_identity != by_sign.card_identity


def test_signature_key_evidence_without_or_with_a_foreign_auth_certificate_is_refused(
    conn: SimulatedConnection, anchors: TrustAnchors, pki: Pki
) -> None:
    nonce = secrets.token_bytes(32)
    evidence = collect(conn, purpose=PURPOSE_RESERVE_AUTH_RESET, nonce=nonce)
    assert code_of(replace(evidence, auth_certificate=b""), anchors, nonce) == "malformed"
    assert code_of(replace(evidence, auth_certificate=b"\x30\x00"), anchors, nonce) == "malformed"
    foreign = pki.ee_cert.public_bytes(Encoding.DER)  # chains to another CA
    assert code_of(replace(evidence, auth_certificate=foreign), anchors, nonce) == (
        "untrusted_chain"
    )


def test_auth_key_evidence_naming_another_auth_certificate_is_refused(
    conn: SimulatedConnection, anchors: TrustAnchors
) -> None:
    nonce = secrets.token_bytes(32)
    evidence = collect(conn, purpose=PURPOSE_RESERVE_SIGN_RESET, nonce=nonce)
    other = JpkiSession(conn).read_certificate(CertificateKind.AUTH_CA)
    assert code_of(replace(evidence, auth_certificate=other), anchors, nonce) == "malformed"


@pytest.fixture
def evidence_and_nonce(conn: SimulatedConnection) -> tuple[ReservationEvidence, bytes]:
    nonce = secrets.token_bytes(32)
    return collect(conn, purpose=PURPOSE_RESERVE_SIGN_RESET, nonce=nonce), nonce


def test_it_rejects_a_tampered_photo(
    evidence_and_nonce: tuple[ReservationEvidence, bytes], anchors: TrustAnchors
) -> None:
    evidence, nonce = evidence_and_nonce
    face = bytearray(evidence.card_face)
    face[face.index(JP2_SIGNATURE) + 500] ^= 0x01
    tampered = replace(evidence, card_face=bytes(face))
    assert code_of(tampered, anchors, nonce) == "tampered_card_face"


def test_it_rejects_a_foreign_ca(
    evidence_and_nonce: tuple[ReservationEvidence, bytes], anchors: TrustAnchors, pki: Pki
) -> None:
    evidence, nonce = evidence_and_nonce
    foreign_roots = replace(anchors, jpki_roots=(pki.root, pki.old_root))
    assert code_of(evidence, foreign_roots, nonce) == "untrusted_chain"
    foreign_cv = replace(
        anchors, cv_ca_keys={k: pki.cv_ca_key.public_key() for k in anchors.cv_ca_keys}
    )
    assert code_of(evidence, foreign_cv, nonce) == "untrusted_cv_certificate"


def test_it_rejects_an_expired_certificate(
    evidence_and_nonce: tuple[ReservationEvidence, bytes], anchors: TrustAnchors
) -> None:
    evidence, nonce = evidence_and_nonce
    # The demo certificates run to 2029-07-22 23:59:59 JST.
    later = datetime(2029, 7, 23, tzinfo=UTC)
    assert code_of(evidence, anchors, nonce, now=later) == "certificate_expired"


def test_it_rejects_the_wrong_nonce_and_origin(
    evidence_and_nonce: tuple[ReservationEvidence, bytes], anchors: TrustAnchors
) -> None:
    evidence, nonce = evidence_and_nonce
    assert code_of(evidence, anchors, secrets.token_bytes(32)) == "wrong_nonce"
    assert code_of(evidence, anchors, nonce, origin="https://evil.example") == "wrong_origin"
    # A relay that rewrites the claimed origin cannot fix the signatures.
    relabelled = replace(evidence, origin="https://evil.example")
    assert (
        code_of(relabelled, anchors, nonce, origin="https://evil.example") == "bad_jpki_signature"
    )
