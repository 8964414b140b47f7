"""The simulated card's JPKI end-entity certificates and its CV certificates (spec §5.3, §9).

Certificates are derived, not cached: given the cached keys and the profile they come out the
same every time (serials and CNs are hashes of the card id; PKCS#1 v1.5 signing is
deterministic), so a card's identity is stable across runs.
"""

from __future__ import annotations

import hashlib
import logging
from base64 import b32encode
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.x509.oid import NameOID, ObjectIdentifier

from mynacard.pins import to_wareki
from mynacard.records import build_cv_certificate, make_key_id
from mynacard.sim.pki import (
    TEXT_CA_KEY_ID,
    TEXT_SIGNER_KEY_ID,
    VISUAL_CA_KEY_ID,
    VISUAL_SIGNER_KEY_ID,
    CardKeys,
    SimPki,
)
from mynacard.sim.profile import CardProfile

logger = logging.getLogger(__name__)

__all__ = [
    "SAN_OIDS",
    "CardCertificates",
    "era_birth_date",
    "issue_card_certificates",
    "visual_cv_certificate",
    "text_cv_certificate",
]

#: subjectAltName otherName OIDs of the signature certificate (§9).
SAN_OIDS = {
    "name": ObjectIdentifier("1.2.392.200149.8.5.5.1"),
    "name_substitute": ObjectIdentifier("1.2.392.200149.8.5.5.2"),
    "sex": ObjectIdentifier("1.2.392.200149.8.5.5.3"),
    "birth_date": ObjectIdentifier("1.2.392.200149.8.5.5.4"),
    "address": ObjectIdentifier("1.2.392.200149.8.5.5.5"),
    "address_substitute": ObjectIdentifier("1.2.392.200149.8.5.5.6"),
}
#: Certificate-policy OIDs (§9): sign class 20, auth class 30.
_POLICY_SIGN = ObjectIdentifier("1.2.392.200149.8.5.1.1.20")
_POLICY_AUTH = ObjectIdentifier("1.2.392.200149.8.5.1.3.30")

#: Era codes of the DOB otherName ("E" + YYYYMMDD, §9; 平成 is 4 in the §9 example).
_ERA_CODES = {"明治": 1, "大正": 2, "昭和": 3, "平成": 4, "令和": 5}


def era_birth_date(profile: CardProfile) -> str:
    """``E`` + ``YYYYMMDD``: one era-code digit then the Gregorian date (§9, e.g. ``419900102``)."""
    era, _ = to_wareki(profile.birth_date)
    return f"{_ERA_CODES[era.name]}{profile.birth_date:%Y%m%d}"


def _utf8_string(text: str) -> bytes:
    """DER UTF8String; cryptography wraps an OtherName value in the ``[0] EXPLICIT`` tag."""
    raw = text.encode("utf-8")
    if len(raw) < 0x80:
        length = bytes([len(raw)])
    else:
        size = (len(raw).bit_length() + 7) // 8
        length = bytes([0x80 | size]) + len(raw).to_bytes(size, "big")
    return b"\x0c" + length + raw


def _opaque(card_id: str, purpose: str, length: int) -> str:
    # The real CN is an opaque serial-like identifier (§9, 21 characters in a fixture).
    digest = hashlib.sha256(f"{purpose}:{card_id}".encode()).digest()
    return b32encode(digest).decode("ascii")[:length]


def _serial(card_id: str, purpose: str) -> int:
    digest = hashlib.sha256(f"serial:{purpose}:{card_id}".encode()).digest()
    return int.from_bytes(digest[:15], "big") | 1  # positive, < 20 bytes (RFC 5280 §4.1.2.2)


def _key_usage(*, non_repudiation: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=non_repudiation,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _end_entity(
    *,
    profile: CardProfile,
    purpose: str,
    key: RSAPrivateKey,
    issuer_cert: x509.Certificate,
    issuer_key: RSAPrivateKey,
    policy: ObjectIdentifier,
    san: x509.SubjectAlternativeName | None,
) -> bytes:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.COMMON_NAME, _opaque(profile.card_id, purpose, 21)),
        ]
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_cert.subject)
        .public_key(key.public_key())
        .serial_number(_serial(profile.card_id, purpose))
        .not_valid_before(profile.cert_not_before)
        .not_valid_after(profile.cert_not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(non_repudiation=purpose == "sign"), critical=True)
        .add_extension(
            x509.CertificatePolicies([x509.PolicyInformation(policy, None)]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if san is not None:
        builder = builder.add_extension(san, critical=False)
    return builder.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def _sign_san(profile: CardProfile) -> x509.SubjectAlternativeName:
    values = {
        "name": profile.name,
        "name_substitute": "",
        "sex": profile.sex,
        "birth_date": era_birth_date(profile),
        "address": profile.address,
        "address_substitute": "",
    }
    return x509.SubjectAlternativeName(
        [x509.OtherName(SAN_OIDS[k], _utf8_string(v)) for k, v in values.items()]
    )


@dataclass(frozen=True)
class CardCertificates:
    """DER certificates for JPKI EF 000A / 000B / 0001 / 0002 (§4.1)."""

    auth: bytes
    auth_ca: bytes
    sign: bytes
    sign_ca: bytes


def issue_card_certificates(pki: SimPki, keys: CardKeys, profile: CardProfile) -> CardCertificates:
    """Issue the auth certificate (no personal data) and the sign certificate (six SANs), §9."""
    auth = _end_entity(
        profile=profile,
        purpose="auth",
        key=keys.auth,
        issuer_cert=pki.auth_root,
        issuer_key=pki.auth_root_key,
        policy=_POLICY_AUTH,
        san=None,
    )
    sign = _end_entity(
        profile=profile,
        purpose="sign",
        key=keys.sign,
        issuer_cert=pki.sign_root,
        issuer_key=pki.sign_root_key,
        policy=_POLICY_SIGN,
        san=_sign_san(profile),
    )
    der = serialization.Encoding.DER
    return CardCertificates(
        auth=auth,
        auth_ca=pki.auth_root.public_bytes(der),
        sign=sign,
        sign_ca=pki.sign_root.public_bytes(der),
    )


def visual_cv_certificate(pki: SimPki) -> bytes:
    """券面AP EF 0004: the CV CA certifies the key that signs DF28 (§5.3, §6.1)."""
    return build_cv_certificate(
        issuer_key_id=make_key_id(VISUAL_CA_KEY_ID),
        subject_key_id=make_key_id(VISUAL_SIGNER_KEY_ID),
        public_key=pki.visual_signer_key.public_key(),
        issuer_private_key=pki.visual_ca_key,
    )


def text_cv_certificate(pki: SimPki) -> bytes:
    """入力補助AP EF 0004: certifies the key that signs DF33 and EF 0007 (§5.3)."""
    return build_cv_certificate(
        issuer_key_id=make_key_id(TEXT_CA_KEY_ID),
        subject_key_id=make_key_id(TEXT_SIGNER_KEY_ID),
        public_key=pki.text_signer_key.public_key(),
        issuer_private_key=pki.text_ca_key,
    )
