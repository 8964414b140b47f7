"""The reservation evidence the server verifies by itself (architecture.md "Trust model").

The page relays what the bridge read and signed; nothing in it is trusted until
:func:`verify_reservation_evidence` has checked, in this order (docs/evidence.md):

1. ``jpki_key`` is "auth" or "sign"                                    → malformed
2. purpose equal, and the key fits it (auth key ⇒ sign reset, and back) → wrong_purpose
3. origin, then nonce equal the server's                                → wrong_origin, wrong_nonce
4. DER certificate, card face, CV certificate parse                     → malformed
5. JPKI signature over the challenge DigestInfo (PKCS#1 v1.5)           → bad_jpki_signature
6. chain to a configured CA root, matched by signature                  → untrusted_chain
7. certificate and its root valid at ``now``                            → certificate_expired
8. digitalSignature key usage on the end-entity certificate             → wrong_key_usage
9. CV certificate 7F21 under the CA key named by its 証明者鍵ID         → untrusted_cv_certificate
10. DF28 over H1‖H2‖H3 under the CV certificate's key (§6.3)            → tampered_card_face
11. card-key signature under DF24 over the same DigestInfo (§5.4)       → bad_card_key_signature
12. the user-auth certificate (EF 000A) names the card: it is the signer's certificate when the
    auth key signed; otherwise it must chain to the same roots and be valid  → malformed,
    untrusted_chain, certificate_expired

The card's identity is always taken from the user-auth certificate, because a kiosk reads it
without any password (spec §4.1) and it is the same whichever key signed at booking. The
signing certificate's identity is kept too (``signer_identity``), so the kiosk can check that
the key the resident proves there is the one that signed the booking.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum, unique
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from mynacard.challenge import (
    KEY_FOR_PURPOSE,
    challenge_digest,
)
from mynacard.errors import BadResponseError
from mynacard.jpki import JPKI_KEY_NAMES, JpkiKeyName
from mynacard.pkcs1 import sha256_digest_info, verify_digest_info
from mynacard.records import (
    KEY_ID_PATTERN,
    CardFace,
    CvCertificate,
    parse_card_face,
    parse_cv_certificate,
)

logger = logging.getLogger(__name__)

__all__ = [
    "EvidenceError",
    "EvidenceErrorCode",
    "ReservationEvidence",
    "TrustAnchors",
    "VerifiedEvidence",
    "card_identity",
    "certificate_identity",
    "check_auth_certificate",
    "load_trust_anchors",
    "verify_reservation_evidence",
]

#: The JPKI key that must sign for each purpose: the one whose password the resident still
#: knows (architecture.md, reset-target table).
_CERT_SUFFIXES = (".pem", ".der", ".crt", ".cer")
_KEY_SUFFIXES = (".pem", ".der")


@unique
class EvidenceErrorCode(StrEnum):
    """Stable codes the reset app maps to Japanese help text (docs/internal-api.md)."""

    MALFORMED = "malformed"
    WRONG_PURPOSE = "wrong_purpose"
    WRONG_ORIGIN = "wrong_origin"
    WRONG_NONCE = "wrong_nonce"
    BAD_JPKI_SIGNATURE = "bad_jpki_signature"
    UNTRUSTED_CHAIN = "untrusted_chain"
    CERTIFICATE_EXPIRED = "certificate_expired"
    WRONG_KEY_USAGE = "wrong_key_usage"
    UNTRUSTED_CV_CERTIFICATE = "untrusted_cv_certificate"
    TAMPERED_CARD_FACE = "tampered_card_face"
    BAD_CARD_KEY_SIGNATURE = "bad_card_key_signature"


class EvidenceError(Exception):
    """Evidence the server cannot accept; ``code`` says which check failed."""

    def __init__(self, code: EvidenceErrorCode, message: str) -> None:
        self.code = code
        super().__init__(f"{code}: {message}")


@dataclass(frozen=True)
class ReservationEvidence:
    """What the bridge read and had the card sign, relayed by the page."""

    purpose: str
    origin: str
    nonce: bytes
    jpki_key: JpkiKeyName  # the key of the password the resident still knows
    jpki_certificate: bytes  # DER: auth cert EF 000A, or sign cert EF 0001
    jpki_signature: bytes  # over sha256_digest_info(challenge_digest(...))
    card_face: bytes  # 券面AP EF 0002 raw
    cv_certificate: bytes  # 券面AP EF 0004 raw
    card_key_signature: bytes  # 80 2A 00 00 over the same DigestInfo
    #: DER of the user-auth certificate (EF 000A, readable without a PIN): the card's identity.
    #: May be left empty when ``jpki_key`` is "auth" (it is then ``jpki_certificate``).
    auth_certificate: bytes = b""


@dataclass(frozen=True)
class TrustAnchors:
    """Configured JPKI roots and CV CA public keys (keyed by 証明者鍵ID, e.g. "6000023/001")."""

    jpki_roots: tuple[x509.Certificate, ...]
    cv_ca_keys: Mapping[str, RSAPublicKey] = field(default_factory=dict)


@dataclass(frozen=True)
class VerifiedEvidence:
    """What the server may keep or use after verification; no personal data besides the
    photo (matched, never stored) and the birth date (held in the session only)."""

    card_identity: str  # card_identity() of the user-auth certificate: one per card
    signer_identity: str  # certificate_identity() of the certificate whose key signed
    jpki_key: str
    certificate_not_after: datetime
    photo_jp2: bytes = field(repr=False)
    birth_date: date = field(repr=False)
    card_expiry: date


def _fail(code: EvidenceErrorCode, message: str) -> EvidenceError:
    logger.info("evidence rejected: %s", code.value)
    return EvidenceError(code, message)


def certificate_identity(certificate: x509.Certificate) -> str:
    """Hex SHA-256 over the issuer Name DER ‖ the serialNumber INTEGER content octets.

    The issuer DER is self-delimiting, so the concatenation is unambiguous (docs/evidence.md).
    """
    serial = certificate.serial_number
    # Two's-complement content octets, as DER stores a positive INTEGER (a 00 before a high bit).
    serial_bytes = serial.to_bytes(serial.bit_length() // 8 + 1, "big", signed=True)
    return hashlib.sha256(certificate.issuer.public_bytes() + serial_bytes).hexdigest()


def card_identity(auth_certificate: x509.Certificate) -> str:
    """The one identity of a card: :func:`certificate_identity` of its user-auth certificate.

    A kiosk reads EF 000A without any password (spec §4.1), and the same certificate is named
    whichever JPKI key signed the booking, so booking and completion find each other.
    """
    return certificate_identity(auth_certificate)


def check_auth_certificate(
    der: bytes, anchors: TrustAnchors, *, now: datetime
) -> x509.Certificate:
    """Parse a user-auth certificate and check it against the JPKI roots, valid at ``now``.

    Raises :class:`EvidenceError` (malformed, untrusted_chain, certificate_expired). The kiosk
    uses this before looking a reservation up by :func:`card_identity`.
    """
    try:
        certificate = x509.load_der_x509_certificate(der)
    except (ValueError, TypeError) as exc:
        raise _fail(EvidenceErrorCode.MALFORMED, "the auth certificate is not DER X.509") from exc
    root = _issuing_root(certificate, anchors.jpki_roots)
    if root is None:
        raise _fail(EvidenceErrorCode.UNTRUSTED_CHAIN, "no configured JPKI root signed it")
    if not (_valid_at(certificate, now) and _valid_at(root, now)):
        raise _fail(EvidenceErrorCode.CERTIFICATE_EXPIRED, "certificate or root not valid now")
    return certificate


def _issuing_root(
    certificate: x509.Certificate, roots: tuple[x509.Certificate, ...]
) -> x509.Certificate | None:
    """The CA root whose key verifies ``certificate``'s signature. All generations of a JPKI
    root share one DN (§9), so a name match alone would pick the wrong one."""
    for root in roots:
        try:
            constraints = root.extensions.get_extension_for_class(x509.BasicConstraints).value
        except x509.ExtensionNotFound:
            continue
        if not constraints.ca:
            continue
        try:
            usage = root.extensions.get_extension_for_class(x509.KeyUsage).value
            if not usage.key_cert_sign:
                continue
        except x509.ExtensionNotFound:
            pass  # a v3 root without KeyUsage may sign certificates (RFC 5280 §4.2.1.3)
        try:
            certificate.verify_directly_issued_by(root)
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
            continue
        return root
    return None


def _valid_at(certificate: x509.Certificate, now: datetime) -> bool:
    return certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc


def _has_digital_signature(certificate: x509.Certificate) -> bool:
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return False
    return usage.digital_signature


def _parse_parts(
    evidence: ReservationEvidence,
) -> tuple[x509.Certificate, RSAPublicKey, CardFace, CvCertificate]:
    try:
        certificate = x509.load_der_x509_certificate(evidence.jpki_certificate)
        key = certificate.public_key()
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise _fail(EvidenceErrorCode.MALFORMED, "the JPKI certificate is not DER X.509") from exc
    if not isinstance(key, RSAPublicKey):
        raise _fail(EvidenceErrorCode.MALFORMED, "the JPKI certificate's key is not RSA")
    try:
        face = parse_card_face(evidence.card_face)
        cv_certificate = parse_cv_certificate(evidence.cv_certificate)
    except BadResponseError as exc:
        raise _fail(EvidenceErrorCode.MALFORMED, f"card data: {exc}") from exc
    return certificate, key, face, cv_certificate


def verify_reservation_evidence(
    evidence: ReservationEvidence,
    anchors: TrustAnchors,
    *,
    purpose: str,
    origin: str,
    nonce: bytes,
    now: datetime,
) -> VerifiedEvidence:
    """Check every link of the evidence (module docstring) or raise :class:`EvidenceError`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    binary = (
        evidence.nonce, evidence.jpki_certificate, evidence.jpki_signature,
        evidence.card_face, evidence.cv_certificate, evidence.card_key_signature,
        evidence.auth_certificate,
    )
    if not all(isinstance(value, bytes) for value in binary):
        raise _fail(EvidenceErrorCode.MALFORMED, "binary fields must be bytes")
    if evidence.jpki_key not in JPKI_KEY_NAMES:
        raise _fail(EvidenceErrorCode.MALFORMED, "jpki_key must be 'auth' or 'sign'")
    if evidence.purpose != purpose:
        raise _fail(EvidenceErrorCode.WRONG_PURPOSE, "the evidence is for another purpose")
    if KEY_FOR_PURPOSE.get(purpose, evidence.jpki_key) != evidence.jpki_key:
        raise _fail(EvidenceErrorCode.WRONG_PURPOSE, "this purpose needs the other JPKI key")
    if evidence.origin != origin:
        raise _fail(EvidenceErrorCode.WRONG_ORIGIN, "the evidence was made for another origin")
    if not hmac.compare_digest(evidence.nonce, bytes(nonce)):
        raise _fail(EvidenceErrorCode.WRONG_NONCE, "the evidence answers another nonce")

    certificate, jpki_public_key, face, cv_certificate = _parse_parts(evidence)
    digest_info = sha256_digest_info(challenge_digest(purpose, origin, nonce))

    if not verify_digest_info(jpki_public_key, evidence.jpki_signature, digest_info):
        raise _fail(EvidenceErrorCode.BAD_JPKI_SIGNATURE, "the JPKI signature does not verify")
    root = _issuing_root(certificate, anchors.jpki_roots)
    if root is None:
        raise _fail(EvidenceErrorCode.UNTRUSTED_CHAIN, "no configured JPKI root signed it")
    if not (_valid_at(certificate, now) and _valid_at(root, now)):
        raise _fail(EvidenceErrorCode.CERTIFICATE_EXPIRED, "certificate or root not valid now")
    if not _has_digital_signature(certificate):
        raise _fail(EvidenceErrorCode.WRONG_KEY_USAGE, "no digitalSignature key usage")

    ca_key = anchors.cv_ca_keys.get(cv_certificate.issuer)
    if ca_key is None or not cv_certificate.is_signed_by(ca_key):
        raise _fail(EvidenceErrorCode.UNTRUSTED_CV_CERTIFICATE, "CV certificate not trusted")
    if not face.signature_valid(cv_certificate.key.public_key()):
        raise _fail(EvidenceErrorCode.TAMPERED_CARD_FACE, "DF28 does not cover this card face")
    if not verify_digest_info(face.card_key.public_key(), evidence.card_key_signature, digest_info):
        raise _fail(EvidenceErrorCode.BAD_CARD_KEY_SIGNATURE, "the card key did not sign it")

    if evidence.jpki_key == "auth":
        if evidence.auth_certificate and evidence.auth_certificate != evidence.jpki_certificate:
            raise _fail(EvidenceErrorCode.MALFORMED, "the auth key signed with another certificate")
        auth_certificate = certificate
    elif not evidence.auth_certificate:
        raise _fail(EvidenceErrorCode.MALFORMED, "the user-auth certificate is missing")
    else:
        auth_certificate = check_auth_certificate(evidence.auth_certificate, anchors, now=now)

    logger.info("evidence verified (%s key)", evidence.jpki_key)
    return VerifiedEvidence(
        card_identity=card_identity(auth_certificate),
        signer_identity=certificate_identity(certificate),
        jpki_key=evidence.jpki_key,
        certificate_not_after=certificate.not_valid_after_utc,
        photo_jp2=face.photo_jp2,
        birth_date=face.birth_date,
        card_expiry=face.expiry,
    )


# --------------------------------------------------------------------------------------------
# Loading trust anchors from a directory (layout in docs/evidence.md)
# --------------------------------------------------------------------------------------------


def _load_certificates(path: Path) -> list[x509.Certificate]:
    data = path.read_bytes()
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificates(data)
    return [x509.load_der_x509_certificate(data)]


def _load_public_key(path: Path) -> RSAPublicKey:
    data = path.read_bytes()
    if b"-----BEGIN" in data:
        key = serialization.load_pem_public_key(data)
    else:
        key = serialization.load_der_public_key(data)
    if not isinstance(key, RSAPublicKey):
        raise ValueError(f"{path} is not an RSA public key")
    return key


def _files(directory: Path, suffixes: tuple[str, ...]) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in suffixes)


def load_trust_anchors(directory: Path) -> TrustAnchors:
    """Read ``<directory>/jpki/*`` (X.509 roots, PEM or DER) and ``<directory>/cv/<ID>.pem|.der``
    (RSA public keys; ``<ID>`` is the 証明者鍵ID with ``-`` for ``/``, e.g. ``6000023-001.pem``).

    Fails loudly (ValueError) on an unreadable file, a bad key-ID file name, or no anchors at all.
    """
    directory = Path(directory)
    roots: list[x509.Certificate] = []
    for path in _files(directory / "jpki", _CERT_SUFFIXES):
        try:
            roots.extend(_load_certificates(path))
        except ValueError as exc:
            raise ValueError(f"{path}: not an X.509 certificate") from exc
    cv_keys: dict[str, RSAPublicKey] = {}
    for path in _files(directory / "cv", _KEY_SUFFIXES):
        key_id = path.stem.replace("-", "/", 1)
        if KEY_ID_PATTERN.fullmatch(key_id) is None:
            raise ValueError(f"{path}: name must be the key ID, e.g. 6000023-001.pem")
        if key_id in cv_keys:
            raise ValueError(f"{path}: key ID {key_id} configured twice")
        try:
            cv_keys[key_id] = _load_public_key(path)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise ValueError(f"{path}: not an RSA public key") from exc
    if not roots or not cv_keys:
        raise ValueError(f"{directory}: needs at least one jpki/ root and one cv/ CA key")
    logger.info("loaded %d JPKI roots and %d CV CA keys", len(roots), len(cv_keys))
    return TrustAnchors(jpki_roots=tuple(roots), cv_ca_keys=cv_keys)


# --------------------------------------------------------------------------------------------
# What the kiosk may learn from the signature certificate (spec §9)
# --------------------------------------------------------------------------------------------

#: otherName of the signature certificate's subjectAltName holding the birth date (§9).
_SAN_BIRTH_DATE = x509.ObjectIdentifier("1.2.392.200149.8.5.5.4")


def sign_certificate_birth_date(certificate: x509.Certificate) -> date | None:
    """The holder's birth date from a signature certificate (§9: era digit ‖ YYYYMMDD as a
    UTF8String otherName), or None when absent or unreadable. Used only in memory, so a new
    password can be refused when it is the birth date; never stored or logged."""
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    for other in names.get_values_for_type(x509.OtherName):
        if other.type_id != _SAN_BIRTH_DATE:
            continue
        raw = other.value
        # DER UTF8String with a short length: 0C len value (§9 values are 9 characters).
        if len(raw) < 2 or raw[0] != 0x0C or raw[1] != len(raw) - 2:
            return None
        text = raw[2:].decode("utf-8", errors="replace")
        digits = text[-8:]
        if len(text) != 9 or not digits.isdigit():
            return None
        try:
            return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        except ValueError:
            return None
    return None
