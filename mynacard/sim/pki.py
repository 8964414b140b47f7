"""The simulator's test PKI: JPKI-style roots, a CV-certificate CA, and per-card keys.

Everything is generated on first use and cached outside the repository (``MYNA_SIM_PKI_DIR``, or
``~/.cache/myna-reset/sim-pki/``), because RSA-2048 key generation is slow and because a stable
PKI lets a development server keep trusting the same roots between runs. Each cached set is
written to a temporary directory and renamed into place, so two processes racing on an empty
cache both end up with the same (the winner's) keys.

The names are the simulator's own (``O=JPKI-TEST-SIM``, CV key IDs starting with ``9``) so that a
test credential can never be mistaken for a J-LIS one (spec §9: production and J-LIS test
hierarchies are ``O=JPKI`` / ``O=JPKI-TEST`` and key IDs ``5…`` / ``6…``, §5.3).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.x509.oid import NameOID

logger = logging.getLogger(__name__)

__all__ = [
    "PKI_DIR_ENV",
    "CardKeys",
    "SimPki",
    "card_keys",
    "default_pki_dir",
    "issuer_master_key",
    "load_pki",
    "TEXT_CA_KEY_ID",
    "TEXT_SIGNER_KEY_ID",
    "VISUAL_CA_KEY_ID",
    "VISUAL_SIGNER_KEY_ID",
]

PKI_DIR_ENV = "MYNA_SIM_PKI_DIR"
#: Bump when the cached layout changes; an old cache is then simply left unused.
_LAYOUT = "v1"
_ROOT_NOT_BEFORE = datetime(2020, 1, 1, tzinfo=UTC)
_ROOT_NOT_AFTER = datetime(2045, 12, 31, 23, 59, 59, tzinfo=UTC)
_SIM_OU = "myna-reset card simulator (not J-LIS)"

#: CV key IDs as ``records.make_key_id`` reads them (§5.3). The real visual-AP CA is
#: ``5000023`` (J-LIS test ``6000023``) and the text-AP CA ``5000033`` (test ``6000033``); the
#: simulator uses a ``9`` prefix. Subject IDs (each AP's data-signing key) are not public; the
#: simulator picks ``91…``.
VISUAL_CA_KEY_ID = "9000023/001"
TEXT_CA_KEY_ID = "9000033/001"
VISUAL_SIGNER_KEY_ID = "9100023/001"
TEXT_SIGNER_KEY_ID = "9100033/001"


def default_pki_dir() -> Path:
    """``$MYNA_SIM_PKI_DIR`` or ``~/.cache/myna-reset/sim-pki``."""
    override = os.environ.get(PKI_DIR_ENV)
    if override:
        return Path(override)
    return Path.home() / ".cache" / "myna-reset" / "sim-pki"


# --- atomic, race-safe cache ---------------------------------------------------------------


def _new_key() -> RSAPrivateKey:
    # e = 65537, 2048 bits, as on the card (§4.6) and in the JPKI roots (§9).
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _write_key(path: Path, key: RSAPrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),  # test keys of a simulator; never real credentials
        )
    )


def _read_key(path: Path) -> RSAPrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, RSAPrivateKey):
        raise ValueError(f"{path} is not an RSA key")
    return key


def _ensure_dir(final: Path, populate: Callable[[Path], None]) -> Path:
    """Create ``final`` once: populate a temp sibling, then rename it into place atomically.

    When another process wins the race the rename fails and its directory is used instead.
    """
    if final.is_dir():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        populate(staging)
        try:
            os.rename(staging, final)
            logger.info("generated simulator PKI material in %s", final)
        except OSError:
            if not final.is_dir():
                raise
            logger.info("another process generated %s first; using it", final)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return final


# --- the CA side ---------------------------------------------------------------------------


def _root_name(purpose: str) -> x509.Name:
    # Shape of the J-LIS roots (§9) with the simulator's own O and OU.
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "JPKI-TEST-SIM"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, purpose),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, _SIM_OU),
        ]
    )


def _root_certificate(key: RSAPrivateKey, purpose: str) -> x509.Certificate:
    name = _root_name(purpose)
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(_ROOT_NOT_BEFORE)
        .not_valid_after(_ROOT_NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


_ROOT_FILES = {
    "auth": ("jpki-auth-root", "JPKI for user authentication"),
    "sign": ("jpki-sign-root", "JPKI for digital signature"),
}
_CV_KEY_FILES = {
    "visual_ca": "cv-ca-visual.key.pem",
    "text_ca": "cv-ca-text.key.pem",
    "visual_signer": "visual-ap-signer.key.pem",
    "text_signer": "text-ap-signer.key.pem",
}


def _populate_ca(folder: Path) -> None:
    for stem, purpose in _ROOT_FILES.values():
        key = _new_key()
        _write_key(folder / f"{stem}.key.pem", key)
        cert = _root_certificate(key, purpose)
        (folder / f"{stem}.crt.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    for filename in _CV_KEY_FILES.values():
        _write_key(folder / filename, _new_key())


@dataclass(frozen=True)
class SimPki:
    """The simulator's certification authorities (all private keys are test keys)."""

    directory: Path
    auth_root_key: RSAPrivateKey
    auth_root: x509.Certificate
    sign_root_key: RSAPrivateKey
    sign_root: x509.Certificate
    visual_ca_key: RSAPrivateKey  # CV CA for the 券面AP (real: 5000023)
    text_ca_key: RSAPrivateKey  # CV CA for the 入力補助AP (real: 5000033)
    visual_signer_key: RSAPrivateKey  # certified in visual EF 0004; signs DF28 (§6.3)
    text_signer_key: RSAPrivateKey  # certified in text EF 0004; signs DF33 (§5.3)

    def __repr__(self) -> str:
        return f"SimPki(directory={str(self.directory)!r})"


@dataclass(frozen=True)
class CardKeys:
    """The four private keys of one simulated card."""

    auth: RSAPrivateKey  # JPKI EF 0017
    sign: RSAPrivateKey  # JPKI EF 001A
    visual_card: RSAPrivateKey  # 券面AP EF 001A; public half in DF24 (§6.3)
    text_card: RSAPrivateKey  # 入力補助AP EF 0013; public half in EF 0007 DF51 (§5.3)

    def __repr__(self) -> str:
        return "CardKeys(<private>)"


_lock = threading.Lock()
_pki_cache: dict[Path, SimPki] = {}
_card_cache: dict[tuple[Path, str], CardKeys] = {}


def load_pki(directory: Path | None = None) -> SimPki:
    """The simulator's CAs, generated under ``directory`` (default: :func:`default_pki_dir`)."""
    base = (directory or default_pki_dir()).resolve()
    with _lock:
        if base in _pki_cache:
            return _pki_cache[base]
        folder = _ensure_dir(base / _LAYOUT / "ca", _populate_ca)

        def cert(stem: str) -> x509.Certificate:
            return x509.load_pem_x509_certificate((folder / f"{stem}.crt.pem").read_bytes())

        pki = SimPki(
            directory=base,
            auth_root_key=_read_key(folder / "jpki-auth-root.key.pem"),
            auth_root=cert("jpki-auth-root"),
            sign_root_key=_read_key(folder / "jpki-sign-root.key.pem"),
            sign_root=cert("jpki-sign-root"),
            visual_ca_key=_read_key(folder / _CV_KEY_FILES["visual_ca"]),
            text_ca_key=_read_key(folder / _CV_KEY_FILES["text_ca"]),
            visual_signer_key=_read_key(folder / _CV_KEY_FILES["visual_signer"]),
            text_signer_key=_read_key(folder / _CV_KEY_FILES["text_signer"]),
        )
        _pki_cache[base] = pki
        return pki


_CARD_KEY_NAMES = ("auth", "sign", "visual_card", "text_card")


def card_keys(card_id: str, directory: Path | None = None) -> CardKeys:
    """The private keys of the card named ``card_id``, generated once and cached."""
    if not card_id or "/" in card_id or card_id.startswith("."):
        raise ValueError("card_id must be a plain name")
    base = (directory or default_pki_dir()).resolve()
    with _lock:
        cached = _card_cache.get((base, card_id))
        if cached is not None:
            return cached

        def populate(folder: Path) -> None:
            for name in _CARD_KEY_NAMES:
                _write_key(folder / f"{name}.key.pem", _new_key())

        # The folder is named by a hash so that any profile id maps to a safe file name.
        digest = hashlib.sha256(card_id.encode("utf-8")).hexdigest()[:16]
        folder = _ensure_dir(base / _LAYOUT / "cards" / digest, populate)
        keys = CardKeys(*(_read_key(folder / f"{name}.key.pem") for name in _CARD_KEY_NAMES))
        _card_cache[(base, card_id)] = keys
        return keys


def issuer_master_key(directory: Path | None = None) -> bytes:
    """The simulated issuer's master key (32 random bytes, generated once per PKI directory).

    Every simulated card derives its issuer-channel key from it (mynacard.issuer); the
    development server's simulated issuer reads the same file unless settings name another key.
    A real issuer's master key lives in an HSM and never in a file (docs/issuer-channel.md).
    """
    base = (directory or default_pki_dir()).resolve()

    def populate(folder: Path) -> None:
        path = folder / "master.key"
        path.write_bytes(os.urandom(32))
        path.chmod(0o600)

    with _lock:
        folder = _ensure_dir(base / _LAYOUT / "issuer", populate)
    return (folder / "master.key").read_bytes()
