"""PKCS#1 v1.5 over a caller-built DigestInfo, as the card does it (spec §4.6, §6.3).

The card's ``80 2A`` with P1=00 pads *exactly the bytes sent* (EMSA-PKCS1-v1_5) and signs them
with RSA. The card-face signature DF28 (§6.3) signs a DigestInfo holding 96 bytes (H1‖H2‖H3),
which no hash object describes, so ``cryptography``'s ``sign(..., Prehashed(...))`` cannot make
it. These helpers sign and verify a raw DigestInfo; the simulator uses them to play the card and
the evidence checker uses :func:`verify_digest_info` to check DF28.
"""

from __future__ import annotations

import hmac
import logging

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

logger = logging.getLogger(__name__)

__all__ = [
    "SHA256_DIGEST_INFO_PREFIX",
    "sha256_digest_info",
    "sign_digest_info",
    "verify_digest_info",
]

#: DER ``DigestInfo { sha256, NULL }`` header for a 32-byte digest (§4.6): 51 bytes in total.
SHA256_DIGEST_INFO_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")
#: EMSA-PKCS1-v1_5 needs at least 8 bytes of FF padding plus 3 framing bytes (RFC 8017 §9.2).
_MIN_PADDING_OVERHEAD = 11


def sha256_digest_info(digest: bytes) -> bytes:
    """Wrap a 32-byte SHA-256 digest in its DER DigestInfo (51 bytes, §4.6)."""
    if len(digest) != 32:
        raise ValueError(f"a SHA-256 digest is 32 bytes, not {len(digest)}")
    return SHA256_DIGEST_INFO_PREFIX + digest


def _emsa_pkcs1_v1_5(data: bytes, key_bytes: int) -> bytes:
    """Type-1 padding of ``data`` to ``key_bytes`` (RFC 8017 §9.2 step 5)."""
    if len(data) > key_bytes - _MIN_PADDING_OVERHEAD:
        raise ValueError(f"{len(data)} bytes do not fit a {key_bytes * 8}-bit PKCS#1 v1.5 block")
    return b"\x00\x01" + b"\xff" * (key_bytes - len(data) - 3) + b"\x00" + data


def sign_digest_info(private_key: RSAPrivateKey, digest_info: bytes) -> bytes:
    """RSA-sign ``digest_info`` with PKCS#1 v1.5 padding exactly as given (the card's P1=00)."""
    numbers = private_key.private_numbers()
    modulus = numbers.public_numbers.n
    key_bytes = (modulus.bit_length() + 7) // 8
    block = int.from_bytes(_emsa_pkcs1_v1_5(digest_info, key_bytes), "big")
    # CRT form of m^d mod n: four times faster than one full-size exponentiation.
    m1 = pow(block, numbers.dmp1, numbers.p)
    m2 = pow(block, numbers.dmq1, numbers.q)
    h = (numbers.iqmp * (m1 - m2)) % numbers.p
    signature = (m2 + h * numbers.q).to_bytes(key_bytes, "big")
    # Fault check: a wrong CRT result would leak the key; verify before handing it out.
    if pow(int.from_bytes(signature, "big"), numbers.public_numbers.e, modulus) != block:
        raise ValueError("RSA signature self-check failed")
    return signature


def verify_digest_info(public_key: RSAPublicKey, signature: bytes, digest_info: bytes) -> bool:
    """True when ``signature`` is PKCS#1 v1.5 over exactly ``digest_info`` under ``public_key``."""
    if len(signature) != (public_key.key_size + 7) // 8:
        return False
    try:
        recovered = public_key.recover_data_from_signature(signature, padding.PKCS1v15(), None)
    except (InvalidSignature, ValueError):
        return False
    return hmac.compare_digest(recovered, digest_info)
