"""The simulator's test PKI: cache reuse, race safety, certificate shapes, trust anchors."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.x509.oid import ExtensionOID, NameOID, ObjectIdentifier

from mynacard.challenge import challenge_digest, sha256_digest_info
from mynacard.evidence import ReservationEvidence, load_trust_anchors, verify_reservation_evidence
from mynacard.jpki import CertificateKind, JpkiSession, KeyKind
from mynacard.pins import PinKind
from mynacard.records import parse_cv_certificate
from mynacard.sim import (
    SimulatedCard,
    SimulatedConnection,
    demo_profile,
    export_trust_anchors,
    sim_trust_anchors,
)
from mynacard.sim import pki as pki_module
from mynacard.sim.certs import SAN_OIDS, issue_card_certificates
from mynacard.sim.pki import PKI_DIR_ENV, card_keys, default_pki_dir, load_pki
from mynacard.visual import VisualApSession

ORIGIN = "https://myna.example.jp"
NONCE = bytes(range(32))
PURPOSE = "myna-reset/reserve/sign"


def _forget_in_process_cache() -> None:
    pki_module._pki_cache.clear()
    pki_module._card_cache.clear()


def test_env_var_overrides_the_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(PKI_DIR_ENV, str(tmp_path))
    assert default_pki_dir() == tmp_path
    monkeypatch.delenv(PKI_DIR_ENV)
    assert default_pki_dir() == Path.home() / ".cache" / "myna-reset" / "sim-pki"


def test_the_cache_is_reused_across_loads(tmp_path: Path) -> None:
    first = load_pki(tmp_path)
    keys = card_keys("cache-test", tmp_path)
    _forget_in_process_cache()  # as a new process would
    second = load_pki(tmp_path)
    assert second is not first
    assert second.auth_root == first.auth_root
    assert second.visual_ca_key.private_numbers() == first.visual_ca_key.private_numbers()
    again = card_keys("cache-test", tmp_path)
    assert again.auth.private_numbers() == keys.auth.private_numbers()
    other = card_keys("another-card", tmp_path)
    assert other.auth.private_numbers() != keys.auth.private_numbers()
    assert not [p for p in (tmp_path / "v1").rglob(".*") if p.is_dir()]  # no staging leftovers


_RACER = """
import sys
from pathlib import Path
from cryptography.hazmat.primitives import hashes
from mynacard.sim.pki import load_pki
print(load_pki(Path(sys.argv[1])).auth_root.fingerprint(hashes.SHA256()).hex())
"""


def test_two_processes_racing_end_up_with_one_pki(tmp_path: Path) -> None:
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", _RACER, str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [r.communicate(timeout=120)[0].strip() for r in racers]
    assert all(r.returncode == 0 for r in racers)
    assert outputs[0] == outputs[1] and len(outputs[0]) == 64
    _forget_in_process_cache()
    on_disk = load_pki(tmp_path).auth_root.fingerprint(hashes.SHA256())
    assert on_disk.hex() == outputs[0]


def _certs() -> tuple[x509.Certificate, x509.Certificate]:
    profile = demo_profile()
    issued = issue_card_certificates(load_pki(), card_keys(profile.card_id), profile)
    return x509.load_der_x509_certificate(issued.auth), x509.load_der_x509_certificate(issued.sign)


def test_auth_certificate_carries_no_personal_data() -> None:
    auth, _ = _certs()
    assert [a.oid for a in auth.subject] == [NameOID.COUNTRY_NAME, NameOID.COMMON_NAME]
    assert len(auth.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value) == 21
    with pytest.raises(x509.ExtensionNotFound):
        auth.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    usage = auth.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not usage.content_commitment
    auth.verify_directly_issued_by(load_pki().auth_root)


def test_sign_certificate_has_the_six_san_other_names() -> None:
    _, sign = _certs()
    san = sign.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    values = {n.type_id: n.value for n in san.get_values_for_type(x509.OtherName)}
    assert set(values) == set(SAN_OIDS.values())

    def utf8(oid: ObjectIdentifier) -> str:
        raw = values[oid]
        assert raw[0] == 0x0C  # UTF8String (cryptography strips the [0] EXPLICIT wrapper)
        return raw[2:].decode("utf-8")

    assert utf8(SAN_OIDS["name"]) == demo_profile().name
    assert utf8(SAN_OIDS["birth_date"]) == "319850723"  # 昭和 = 3, then YYYYMMDD (§9)
    assert utf8(SAN_OIDS["sex"]) == "1"
    sign.verify_directly_issued_by(load_pki().sign_root)
    assert sign.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature


def test_certificates_follow_the_profile_validity_and_are_stable() -> None:
    auth, sign = _certs()
    profile = demo_profile()
    assert auth.not_valid_before_utc == profile.cert_not_before.astimezone(UTC)
    assert sign.not_valid_after_utc == profile.cert_not_after.astimezone(UTC)
    assert _certs()[0] == auth  # deterministic: same card, same identity


def test_roots_are_the_simulators_own() -> None:
    root = load_pki().auth_root
    assert root.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == (
        "JPKI-TEST-SIM"
    )
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    key = root.public_key()
    assert isinstance(key, RSAPublicKey) and key.key_size == 2048


def _evidence(card: SimulatedCard) -> ReservationEvidence:
    conn = SimulatedConnection(card)
    digest_info = sha256_digest_info(challenge_digest(PURPOSE, ORIGIN, NONCE))
    jpki = JpkiSession(conn)
    certificate = jpki.read_certificate(CertificateKind.AUTH)
    jpki.verify(PinKind.JPKI_AUTH, "2580")
    jpki_signature = jpki.sign(KeyKind.AUTH, digest_info)
    visual = VisualApSession(conn)
    visual.verify_pin_b("60072320344821")
    return ReservationEvidence(
        purpose=PURPOSE,
        origin=ORIGIN,
        nonce=NONCE,
        jpki_key="auth",
        jpki_certificate=certificate,
        jpki_signature=jpki_signature,
        card_face=visual.read_card_face_raw(),
        cv_certificate=visual.read_cv_certificate(),
        card_key_signature=visual.sign(digest_info),
    )


def test_a_simulated_card_passes_evidence_verification_under_the_sim_anchors(
    tmp_path: Path,
) -> None:
    evidence = _evidence(SimulatedCard(demo_profile()))
    now = datetime(2026, 11, 27, tzinfo=UTC)
    verified = verify_reservation_evidence(
        evidence, sim_trust_anchors(), purpose=PURPOSE, origin=ORIGIN, nonce=NONCE, now=now
    )
    assert verified.birth_date.isoformat() == "1985-07-23"
    assert verified.photo_jp2 == demo_profile().photo_jp2
    # The exported directory loads to the same anchors.
    loaded = load_trust_anchors(export_trust_anchors(tmp_path / "anchors"))
    assert set(loaded.cv_ca_keys) == {"9000023/001", "9000033/001"}
    assert set(loaded.jpki_roots) == set(sim_trust_anchors().jpki_roots)
    verify_reservation_evidence(
        evidence, loaded, purpose=PURPOSE, origin=ORIGIN, nonce=NONCE, now=now
    )


def test_cv_certificate_is_signed_by_the_sim_cv_ca() -> None:
    card = SimulatedCard(demo_profile())
    cv = parse_cv_certificate(VisualApSession(SimulatedConnection(card)).read_cv_certificate())
    assert cv.issuer == "9000023/001"
    assert cv.is_signed_by(sim_trust_anchors().cv_ca_keys["9000023/001"])
    assert not cv.is_signed_by(sim_trust_anchors().cv_ca_keys["9000033/001"])
