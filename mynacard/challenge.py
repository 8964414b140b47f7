"""What the card signs for a reservation: a digest binding purpose, origin and server nonce.

The encoding is documented in docs/evidence.md. In short::

    challenge_digest = SHA-256( lp(DOMAIN) ‖ lp(purpose) ‖ lp(origin) ‖ lp(nonce) )
    lp(x) = len(x) as 4 bytes big-endian ‖ x        (text fields as UTF-8; they are ASCII)

Length prefixes make the encoding injective: no choice of fields can shift bytes from one field
into another. The card then signs ``sha256_digest_info(challenge_digest)`` (spec §4.6) with the
JPKI key and with the 券面AP card key (§5.4).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from types import MappingProxyType

from mynacard.jpki import JpkiKeyName
from mynacard.pkcs1 import sha256_digest_info

logger = logging.getLogger(__name__)

__all__ = [
    "CHALLENGE_DOMAIN",
    "KEY_FOR_PURPOSE",
    "MAX_NONCE_LENGTH",
    "MIN_NONCE_LENGTH",
    "ORIGIN_PATTERN",
    "PURPOSES",
    "PURPOSE_KIOSK_AUTH_RESET",
    "PURPOSE_KIOSK_SIGN_RESET",
    "PURPOSE_RESERVE_AUTH_RESET",
    "PURPOSE_RESERVE_SIGN_RESET",
    "challenge_digest",
    "sha256_digest_info",
]

PURPOSE_RESERVE_SIGN_RESET = "myna-reset/reserve/sign"  # resident resets the 署名用 password
PURPOSE_RESERVE_AUTH_RESET = "myna-reset/reserve/auth"  # resident resets the 利用者証明用 PIN
#: At the kiosk the resident proves the same other password again before the reset
#: (docs/issuer-channel.md); a separate purpose, so neither signature can stand for the other.
PURPOSE_KIOSK_SIGN_RESET = "myna-reset/kiosk/sign"
PURPOSE_KIOSK_AUTH_RESET = "myna-reset/kiosk/auth"
PURPOSES = frozenset({
    PURPOSE_RESERVE_SIGN_RESET, PURPOSE_RESERVE_AUTH_RESET,
    PURPOSE_KIOSK_SIGN_RESET, PURPOSE_KIOSK_AUTH_RESET,
})
#: The JPKI key that must sign for each purpose: the resident proves the password they still know,
#: so a 署名用 reset is signed with the user-auth key and the reverse (architecture.md, table).
KEY_FOR_PURPOSE: Mapping[str, JpkiKeyName] = MappingProxyType(
    {
        PURPOSE_RESERVE_SIGN_RESET: "auth",
        PURPOSE_RESERVE_AUTH_RESET: "sign",
        PURPOSE_KIOSK_SIGN_RESET: "auth",
        PURPOSE_KIOSK_AUTH_RESET: "sign",
    }
)
#: Separates these digests from anything else a JPKI key might ever sign.
CHALLENGE_DOMAIN = "myna-reset/challenge/v1"
#: The server nonce is at least 256 bits (architecture.md "Trust model"); 64 bytes is plenty.
MIN_NONCE_LENGTH = 32
MAX_NONCE_LENGTH = 64
#: A serialized web origin: scheme, host, optional port; lower case, no path (RFC 6454 §6.2).
#: Shared with webapp/settings.py, which refuses any other spelling of MYNA_PUBLIC_ORIGIN.
ORIGIN_PATTERN = re.compile(r"https?://([a-z0-9.\-]+|\[[0-9a-f:.]+\])(:[0-9]{1,5})?")
_PURPOSE = re.compile(r"[a-z0-9][a-z0-9/\-.]{0,99}")


def _length_prefixed(field: bytes) -> bytes:
    return len(field).to_bytes(4, "big") + field


def challenge_digest(purpose: str, origin: str, nonce: bytes) -> bytes:
    """The 32-byte SHA-256 the card signs for ``purpose`` at ``origin`` with the server ``nonce``.

    Raises ValueError for a purpose or origin not in canonical form, or a nonce of the wrong size,
    so that two spellings of one origin can never give two digests.
    """
    if _PURPOSE.fullmatch(purpose) is None:
        raise ValueError("purpose must be lower-case ASCII like 'myna-reset/reserve/sign'")
    if ORIGIN_PATTERN.fullmatch(origin) is None:
        raise ValueError("origin must be a serialized origin like 'https://example.jp'")
    if not MIN_NONCE_LENGTH <= len(nonce) <= MAX_NONCE_LENGTH:
        raise ValueError(f"nonce must be {MIN_NONCE_LENGTH}-{MAX_NONCE_LENGTH} bytes")
    message = b"".join(
        _length_prefixed(field)
        for field in (
            CHALLENGE_DOMAIN.encode("ascii"),
            purpose.encode("ascii"),
            origin.encode("ascii"),
            bytes(nonce),
        )
    )
    return hashlib.sha256(message).digest()
