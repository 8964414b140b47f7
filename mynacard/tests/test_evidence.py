"""verify_reservation_evidence: the happy path and every EvidenceError code; load_trust_anchors."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mynacard.challenge import PURPOSE_RESERVE_AUTH_RESET, PURPOSE_RESERVE_SIGN_RESET
from mynacard.evidence import (
    EvidenceError,
    certificate_identity,
    load_trust_anchors,
)
from mynacard.records import build_cv_certificate, make_key_id
from mynacard.tests.conftest import (
    CV_CA_ID,
    JP2_PHOTO,
    MakeEvidence,
    Pki,
    build_face,
    check,
    code_of,
    make_end_entity,
    make_root,
    new_key,
)

OTHER_NONCE = bytes(32)


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.DER)


def test_honest_evidence_verifies(pki: Pki, make_evidence: MakeEvidence, nonce: bytes) -> None:
    result = check(make_evidence(), pki.anchors, nonce)
    assert result.jpki_key == "auth"
    assert result.card_identity == certificate_identity(pki.ee_cert)
    assert len(result.card_identity) == 64
    assert result.certificate_not_after == pki.ee_cert.not_valid_after_utc
    assert result.photo_jp2 == JP2_PHOTO
    assert (result.birth_date, result.card_expiry) == (date(1985, 7, 23), date(2034, 7, 23))
    assert "JP2" not in repr(result) and "1985" not in repr(result)


def test_card_identity_is_issuer_der_plus_serial(pki: Pki) -> None:
    import hashlib

    serial = pki.ee_cert.serial_number
    content = serial.to_bytes(serial.bit_length() // 8 + 1, "big")
    expected = hashlib.sha256(pki.ee_cert.issuer.public_bytes() + content).hexdigest()
    assert certificate_identity(pki.ee_cert) == expected


def test_the_sign_key_serves_the_auth_reset(
    pki: Pki, make_evidence: MakeEvidence, nonce: bytes
) -> None:
    # The fake PKI has one end-entity certificate; it stands for the user-auth one as well.
    auth_der = pki.ee_cert.public_bytes(Encoding.DER)
    evidence = make_evidence(
        purpose=PURPOSE_RESERVE_AUTH_RESET, jpki_key="sign", auth_certificate=auth_der
    )
    assert check(evidence, pki.anchors, nonce).jpki_key == "sign"


def test_it_matches_the_root_by_signature_not_by_name(
    pki: Pki, make_evidence: MakeEvidence, nonce: bytes
) -> None:
    # Both roots share the DN (§9); the first one in the tuple is the wrong generation.
    assert pki.anchors.jpki_roots[0].subject == pki.anchors.jpki_roots[1].subject
    check(make_evidence(), pki.anchors, nonce)
    only_old = replace(pki.anchors, jpki_roots=(pki.old_root,))
    assert code_of(make_evidence(), only_old, nonce) == "untrusted_chain"


# --- one test per code ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"jpki_key": "pin"},
        {"jpki_certificate": b"\x30\x03\x02\x01\x00"},
        {"card_face": b"\xff\x20\x00"},
        {"cv_certificate": b"\x7f\x21\x00"},
        {"jpki_signature": "AAAA"},
    ],
    ids=["jpki_key", "certificate", "card_face", "cv_certificate", "not_bytes"],
)
def test_it_rejects_malformed_evidence(
    pki: Pki, make_evidence: MakeEvidence, nonce: bytes, overrides: dict[str, object]
) -> None:
    assert code_of(make_evidence(**overrides), pki.anchors, nonce) == "malformed"


def test_it_rejects_the_wrong_purpose(pki: Pki, make_evidence: MakeEvidence, nonce: bytes) -> None:
    evidence = make_evidence()
    assert code_of(evidence, pki.anchors, nonce, purpose=PURPOSE_RESERVE_AUTH_RESET) == (
        "wrong_purpose"
    )


def test_it_rejects_a_key_that_does_not_fit_the_purpose(
    pki: Pki, make_evidence: MakeEvidence, nonce: bytes
) -> None:
    # Resetting the signature password must be proven with the auth key, not the sign key.
    evidence = make_evidence(purpose=PURPOSE_RESERVE_SIGN_RESET, jpki_key="sign")
    assert code_of(evidence, pki.anchors, nonce) == "wrong_purpose"


def test_it_rejects_the_wrong_origin(pki: Pki, make_evidence: MakeEvidence, nonce: bytes) -> None:
    evidence = make_evidence(origin="https://evil.example")
    assert code_of(evidence, pki.anchors, nonce) == "wrong_origin"


def test_it_rejects_the_wrong_nonce(pki: Pki, make_evidence: MakeEvidence, nonce: bytes) -> None:
    assert code_of(make_evidence(), pki.anchors, OTHER_NONCE) == "wrong_nonce"


def test_it_rejects_a_signature_over_another_nonce(
    pki: Pki, make_evidence: MakeEvidence, nonce: bytes
) -> None:
    """The claimed nonce matches, but the card signed a different one."""
    stale = make_evidence()
    evidence = replace(make_evidence(), jpki_signature=stale.jpki_signature)
    check(evidence, pki.anchors, nonce)  # same nonce: fine
    forged = replace(evidence, nonce=OTHER_NONCE)
    assert code_of(forged, pki.anchors, OTHER_NONCE) == "bad_jpki_signature"


def test_it_rejects_a_bad_jpki_signature(
    pki: Pki, make_evidence: MakeEvidence, nonce: bytes
) -> None:
    assert code_of(make_evidence(ee_key=pki.spare_key), pki.anchors, nonce) == "bad_jpki_signature"
    flipped = bytearray(make_evidence().jpki_signature)
    flipped[0] ^= 1
    evidence = make_evidence(jpki_signature=bytes(flipped))
    assert code_of(evidence, pki.anchors, nonce) == "bad_jpki_signature"


def test_it_rejects_a_foreign_root(pki: Pki, make_evidence: MakeEvidence, nonce: bytes) -> None:
    foreign_root_key = new_key()
    cert = make_end_entity(pki.ee_key, foreign_root_key)
    evidence = make_evidence(jpki_certificate=der(cert))
    assert code_of(evidence, pki.anchors, nonce) == "untrusted_chain"


def test_it_rejects_a_root_without_the_ca_flag(
    pki: Pki, make_evidence: MakeEvidence, nonce: bytes
) -> None:
    not_ca = make_root(pki.root_key, ca=False)  # keyCertSign still set
    anchors = replace(pki.anchors, jpki_roots=(not_ca,))
    assert code_of(make_evidence(), anchors, nonce) == "untrusted_chain"


def test_it_rejects_a_root_without_key_cert_sign(
    pki: Pki, make_evidence: MakeEvidence, nonce: bytes
) -> None:
    no_cert_sign = make_root(pki.root_key, key_cert_sign=False)  # CA:TRUE still set
    anchors = replace(pki.anchors, jpki_roots=(no_cert_sign,))
    assert code_of(make_evidence(), anchors, nonce) == "untrusted_chain"


@pytest.mark.parametrize(
    "now",
    [datetime(2029, 7, 22, 15, 0, tzinfo=UTC), datetime(2023, 12, 31, tzinfo=UTC)],
    ids=["after_not_after", "before_not_before"],
)
def test_it_rejects_a_certificate_outside_its_validity(
    pki: Pki, make_evidence: MakeEvidence, nonce: bytes, now: datetime
) -> None:
    assert code_of(make_evidence(), pki.anchors, nonce, now=now) == "certificate_expired"


def test_it_rejects_an_expired_root(pki: Pki, make_evidence: MakeEvidence, nonce: bytes) -> None:
    old = make_root(pki.root_key, not_after=datetime(2026, 1, 1, tzinfo=UTC))
    anchors = replace(pki.anchors, jpki_roots=(old,))
    assert code_of(make_evidence(), anchors, nonce) == "certificate_expired"


@pytest.mark.parametrize("digital_signature", [False, None], ids=["keyEncipherment", "none"])
def test_it_rejects_the_wrong_key_usage(
    pki: Pki, make_evidence: MakeEvidence, nonce: bytes, digital_signature: bool | None
) -> None:
    cert = make_end_entity(pki.ee_key, pki.root_key, digital_signature=digital_signature)
    evidence = make_evidence(jpki_certificate=der(cert))
    assert code_of(evidence, pki.anchors, nonce) == "wrong_key_usage"


def test_it_rejects_a_cv_certificate_from_an_unknown_ca(
    pki: Pki, make_evidence: MakeEvidence, nonce: bytes
) -> None:
    anchors = replace(pki.anchors, cv_ca_keys={"5000023/001": pki.cv_ca_key.public_key()})
    assert code_of(make_evidence(), anchors, nonce) == "untrusted_cv_certificate"


def test_it_rejects_a_cv_certificate_forged_under_a_known_id(
    pki: Pki, make_evidence: MakeEvidence, nonce: bytes
) -> None:
    forged = build_cv_certificate(
        issuer_key_id=make_key_id(CV_CA_ID),
        subject_key_id=make_key_id("6100023/001"),
        public_key=pki.spare_key.public_key(),
        issuer_private_key=pki.spare_key,  # not the CA
    )
    face = build_face(pki.spare_key, pki.card_key)
    evidence = make_evidence(cv_certificate=forged, card_face=face)
    assert code_of(evidence, pki.anchors, nonce) == "untrusted_cv_certificate"


def test_it_rejects_a_tampered_photo(pki: Pki, make_evidence: MakeEvidence, nonce: bytes) -> None:
    raw = bytearray(pki.card_face)
    raw[raw.index(JP2_PHOTO) + 200] ^= 0x01
    evidence = make_evidence(card_face=bytes(raw))
    assert code_of(evidence, pki.anchors, nonce) == "tampered_card_face"


def test_it_rejects_a_photo_swapped_for_another(
    pki: Pki, make_evidence: MakeEvidence, nonce: bytes
) -> None:
    """Someone else's photo, re-signed by a key the CV certificate does not certify."""
    face = build_face(pki.spare_key, pki.card_key, photo_jp2=JP2_PHOTO[:12] + b"other face")
    assert code_of(make_evidence(card_face=face), pki.anchors, nonce) == "tampered_card_face"


def test_it_rejects_a_bad_card_key_signature(
    pki: Pki, make_evidence: MakeEvidence, nonce: bytes
) -> None:
    evidence = make_evidence(card_key=pki.spare_key)
    assert code_of(evidence, pki.anchors, nonce) == "bad_card_key_signature"


def test_it_rejects_a_card_key_swapped_in_the_face(
    pki: Pki, make_evidence: MakeEvidence, nonce: bytes
) -> None:
    """A relay that swaps DF24 for its own key breaks DF28 (DF24 is inside H1, §6.3)."""
    face = build_face(pki.spare_key, pki.spare_key)  # DF28 not by the certified signer
    evidence = make_evidence(card_face=face, card_key=pki.spare_key)
    assert code_of(evidence, pki.anchors, nonce) == "tampered_card_face"


def test_naive_now_is_a_programming_error(
    pki: Pki, make_evidence: MakeEvidence, nonce: bytes
) -> None:
    with pytest.raises(ValueError):
        check(make_evidence(), pki.anchors, nonce, now=datetime(2026, 11, 27))


# --- load_trust_anchors -----------------------------------------------------------------------


def _public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_load_trust_anchors_reads_the_documented_layout(
    pki: Pki, tmp_path: Path, make_evidence: MakeEvidence, nonce: bytes
) -> None:
    (tmp_path / "jpki").mkdir()
    (tmp_path / "cv").mkdir()
    # One PEM bundle with two roots, plus a DER file.
    bundle = pki.old_root.public_bytes(Encoding.PEM) + pki.root.public_bytes(Encoding.PEM)
    (tmp_path / "jpki" / "auth-roots.pem").write_bytes(bundle)
    (tmp_path / "jpki" / "extra.der").write_bytes(der(make_root(new_key())))
    (tmp_path / "jpki" / "README.txt").write_text("ignored")
    (tmp_path / "cv" / "6000023-001.pem").write_bytes(_public_pem(pki.cv_ca_key))
    (tmp_path / "cv" / "6000033-001.der").write_bytes(
        pki.spare_key.public_key().public_bytes(
            Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    anchors = load_trust_anchors(tmp_path)
    assert len(anchors.jpki_roots) == 3
    assert set(anchors.cv_ca_keys) == {"6000023/001", "6000033/001"}
    check(make_evidence(), anchors, nonce)


def test_load_trust_anchors_fails_loudly(pki: Pki, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one"):
        load_trust_anchors(tmp_path)
    (tmp_path / "jpki").mkdir()
    (tmp_path / "cv").mkdir()
    (tmp_path / "jpki" / "root.pem").write_bytes(pki.root.public_bytes(Encoding.PEM))
    (tmp_path / "cv" / "visual-ca.pem").write_bytes(_public_pem(pki.cv_ca_key))
    with pytest.raises(ValueError, match="key ID"):
        load_trust_anchors(tmp_path)
    (tmp_path / "cv" / "visual-ca.pem").unlink()
    (tmp_path / "cv" / "6000023-001.pem").write_bytes(b"not a key")
    with pytest.raises(ValueError, match="RSA public key"):
        load_trust_anchors(tmp_path)
    (tmp_path / "cv" / "6000023-001.pem").write_bytes(_public_pem(pki.cv_ca_key))
    (tmp_path / "jpki" / "broken.der").write_bytes(b"\x30\x00")
    with pytest.raises(ValueError, match="X.509"):
        load_trust_anchors(tmp_path)


# --- mutated evidence raises only EvidenceError -----------------------------------------------

_BINARY_FIELDS = [
    "jpki_certificate", "jpki_signature", "card_face", "cv_certificate", "card_key_signature",
]


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_mutated_evidence_raises_only_evidence_error(
    pki: Pki, make_evidence: MakeEvidence, nonce: bytes, data: st.DataObject
) -> None:
    evidence = make_evidence()
    name = data.draw(st.sampled_from(_BINARY_FIELDS))
    value = bytearray(getattr(evidence, name))
    index = data.draw(st.integers(0, len(value) - 1))
    value[index] ^= data.draw(st.integers(1, 255))
    if data.draw(st.booleans()):
        value = value[: data.draw(st.integers(0, len(value)))]
    mutated = replace(evidence, **{name: bytes(value)})  # type: ignore[arg-type]
    try:
        check(mutated, pki.anchors, nonce)
    except EvidenceError:
        return
    # Only bytes outside every signature may change unnoticed: DF29 / DF2A of the card face.
    assert name == "card_face"
    tail = pki.card_face[pki.card_face.index(b"\xdf\x29") :]
    assert index >= len(pki.card_face) - len(tail)
