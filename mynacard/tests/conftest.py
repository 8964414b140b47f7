"""Fixtures for mynacard tests: a small PKI built with ``cryptography`` (JPKI-style roots, an
end-entity certificate, a CV CA, a 券面AP signer, a card key) and a card face signed under it."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from mynacard.challenge import PURPOSE_RESERVE_SIGN_RESET, challenge_digest
from mynacard.evidence import (
    EvidenceError,
    ReservationEvidence,
    TrustAnchors,
    VerifiedEvidence,
    verify_reservation_evidence,
)
from mynacard.pkcs1 import sha256_digest_info, sign_digest_info
from mynacard.records import build_card_face, build_cv_certificate, make_key_id

NOW = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
ORIGIN = "https://myna.example.jp"
CV_CA_ID = "6000023/001"
JP2_PHOTO = bytes.fromhex("0000000c6a5020200d0a870a") + bytes(range(256)) * 12
AUTH_ROOT_DN = x509.Name(
    [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "JPKI-TEST"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "JPKI for user authentication"),
        x509.NameAttribute(
            NameOID.ORGANIZATIONAL_UNIT_NAME,
            "Japan Agency for Local Authority Information Systems",
        ),
    ]
)

def new_key() -> rsa.RSAPrivateKey:
    """A fresh RSA-2048 key (e = 65537, as on the card, §4.6)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make_root(
    key: rsa.RSAPrivateKey,
    *,
    name: x509.Name = AUTH_ROOT_DN,
    ca: bool = True,
    key_cert_sign: bool = True,
    not_before: datetime = datetime(2023, 7, 16, tzinfo=UTC),
    not_after: datetime = datetime(2033, 7, 15, tzinfo=UTC),
) -> x509.Certificate:
    """A self-signed root in the J-LIS shape (§9): CA:TRUE and keyCertSign+cRLSign, critical."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=key_cert_sign,
                crl_sign=key_cert_sign,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
    )
    return builder.sign(key, hashes.SHA256())


def make_end_entity(
    key: rsa.RSAPrivateKey,
    issuer_key: rsa.RSAPrivateKey,
    *,
    issuer: x509.Name = AUTH_ROOT_DN,
    digital_signature: bool | None = True,
    not_before: datetime = datetime(2024, 1, 1, tzinfo=UTC),
    not_after: datetime = datetime(2029, 7, 22, 14, 59, 59, tzinfo=UTC),
) -> x509.Certificate:
    """A user-auth-style certificate: ``C=JP, CN=<opaque>``, no personal data (§9)."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                    x509.NameAttribute(NameOID.COMMON_NAME, secrets.token_hex(10).upper()),
                ]
            )
        )
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    if digital_signature is not None:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=digital_signature, content_commitment=False,
                key_encipherment=not digital_signature, data_encipherment=False,
                key_agreement=False, key_cert_sign=False, crl_sign=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass(frozen=True)
class Pki:
    """Everything a test needs to build and verify evidence."""

    root_key: rsa.RSAPrivateKey
    root: x509.Certificate
    old_root: x509.Certificate  # same DN, other key: must be skipped by signature
    ee_key: rsa.RSAPrivateKey
    ee_cert: x509.Certificate
    cv_ca_key: rsa.RSAPrivateKey
    signer_key: rsa.RSAPrivateKey  # certified by the CV certificate, signs DF28
    card_key: rsa.RSAPrivateKey  # the 券面AP card key (DF24)
    spare_key: rsa.RSAPrivateKey  # belongs to nobody
    cv_certificate: bytes
    card_face: bytes

    @property
    def anchors(self) -> TrustAnchors:
        return TrustAnchors(
            jpki_roots=(self.old_root, self.root),
            cv_ca_keys={CV_CA_ID: self.cv_ca_key.public_key()},
        )


def build_face(
    signer: rsa.RSAPrivateKey, card_key: rsa.RSAPrivateKey, **overrides: object
) -> bytes:
    """A card face signed by ``signer``; keyword overrides replace build_card_face arguments."""
    fields: dict[str, object] = {
        "birth_date": date(1985, 7, 23),
        "sex": "1",
        "card_public_key": card_key.public_key(),
        "name_png": b"\x89PNG name" * 20,
        "address_png": b"\x89PNG address" * 40,
        "photo_jp2": JP2_PHOTO,
        "expiry": date(2034, 7, 23),
        "security_code_png": b"\x89PNG code",
        "issuer_private_key": signer,
    }
    fields.update(overrides)
    return build_card_face(**fields)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def pki() -> Pki:
    keys = [new_key() for _ in range(7)]
    root_key, old_root_key, ee_key, cv_ca_key, signer_key, card_key, spare = keys
    cv_certificate = build_cv_certificate(
        issuer_key_id=make_key_id(CV_CA_ID),
        subject_key_id=make_key_id("6100023/001"),
        public_key=signer_key.public_key(),
        issuer_private_key=cv_ca_key,
    )
    return Pki(
        root_key=root_key,
        root=make_root(root_key),
        old_root=make_root(
            old_root_key,
            not_before=datetime(2019, 9, 14, tzinfo=UTC),
            not_after=datetime(2029, 9, 14, tzinfo=UTC),
        ),
        ee_key=ee_key,
        ee_cert=make_end_entity(ee_key, root_key),
        cv_ca_key=cv_ca_key,
        signer_key=signer_key,
        card_key=card_key,
        spare_key=spare,
        cv_certificate=cv_certificate,
        card_face=build_face(signer_key, card_key),
    )


MakeEvidence = Callable[..., ReservationEvidence]


@pytest.fixture
def nonce() -> bytes:
    return secrets.token_bytes(32)


@pytest.fixture
def make_evidence(pki: Pki, nonce: bytes) -> MakeEvidence:
    """Evidence as an honest bridge would produce it; keyword overrides replace fields."""

    def make(
        *,
        purpose: str = PURPOSE_RESERVE_SIGN_RESET,
        origin: str = ORIGIN,
        ee_key: rsa.RSAPrivateKey | None = None,
        card_key: rsa.RSAPrivateKey | None = None,
        **overrides: object,
    ) -> ReservationEvidence:
        digest_info = sha256_digest_info(challenge_digest(purpose, origin, nonce))
        evidence = ReservationEvidence(
            purpose=purpose,
            origin=origin,
            nonce=nonce,
            jpki_key="auth",
            jpki_certificate=pki.ee_cert.public_bytes(Encoding.DER),
            jpki_signature=sign_digest_info(ee_key or pki.ee_key, digest_info),
            card_face=pki.card_face,
            cv_certificate=pki.cv_certificate,
            card_key_signature=sign_digest_info(card_key or pki.card_key, digest_info),
        )
        return replace(evidence, **overrides)  # type: ignore[arg-type]

    return make


def check(
    evidence: ReservationEvidence, anchors: TrustAnchors, nonce: bytes, **kw: object
) -> VerifiedEvidence:
    """Verify with the tests' origin, clock and purpose unless a keyword overrides them."""
    options: dict[str, object] = {
        "purpose": evidence.purpose, "origin": ORIGIN, "nonce": nonce, "now": NOW,
    }
    options.update(kw)
    return verify_reservation_evidence(evidence, anchors, **options)  # type: ignore[arg-type]


def code_of(
    evidence: ReservationEvidence, anchors: TrustAnchors, nonce: bytes, **kw: object
) -> str:
    """The EvidenceError code that `check` raises (fails the test if it raises none)."""
    with pytest.raises(EvidenceError) as info:
        check(evidence, anchors, nonce, **kw)
    return str(info.value.code)
