"""Server nonces the card signs: ≥ 256 bits, single use, bound to session and purpose, short-lived.

Only a SHA-256 of each nonce is kept (in the session), so a leaked session store does not hand
out usable nonces (architecture.md, trust model 1).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import MutableMapping
from enum import StrEnum, unique
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

SESSION_KEY = "wizard_nonces"
NONCE_BYTES = 32  # 256 bits
#: A page may ask again (a reload, a retry after a wrong PIN); a few outstanding nonces suffice.
MAX_OUTSTANDING = 4


@unique
class NonceCheck(StrEnum):
    """The outcome of taking a nonce back."""

    OK = "ok"
    UNKNOWN = "wrong_nonce"  # never issued to this session, or already used
    EXPIRED = "expired_nonce"
    WRONG_PURPOSE = "wrong_purpose"


def ttl_seconds() -> int:
    return int(getattr(settings, "MYNA_NONCE_TTL_SECONDS", 300))


def _digest(nonce: bytes) -> str:
    return hashlib.sha256(nonce).hexdigest()


def _table(session: MutableMapping[str, Any]) -> dict[str, list[Any]]:
    raw = session.get(SESSION_KEY)
    return dict(raw) if isinstance(raw, dict) else {}


def issue(session: MutableMapping[str, Any], purpose: str, *, now: float | None = None) -> bytes:
    """A fresh nonce for `purpose`; the session remembers only its hash and deadline."""
    current = time.time() if now is None else now
    table = {k: v for k, v in _table(session).items() if float(v[1]) > current}
    while len(table) >= MAX_OUTSTANDING:
        oldest = min(table, key=lambda key: float(table[key][1]))
        del table[oldest]
    nonce = secrets.token_bytes(NONCE_BYTES)
    table[_digest(nonce)] = [purpose, current + ttl_seconds()]
    session[SESSION_KEY] = table
    logger.info("nonce issued purpose=%s", purpose)
    return nonce


def take(
    session: MutableMapping[str, Any], nonce: bytes, purpose: str, *, now: float | None = None
) -> NonceCheck:
    """Consume `nonce`: it is gone afterwards whatever the outcome, so it can never be replayed."""
    current = time.time() if now is None else now
    table = _table(session)
    wanted = _digest(nonce)
    entry = None
    for key in list(table):
        if hmac.compare_digest(key, wanted):
            entry = table.pop(key)
    session[SESSION_KEY] = table
    if entry is None:
        return NonceCheck.UNKNOWN
    if float(entry[1]) <= current:
        return NonceCheck.EXPIRED
    if not hmac.compare_digest(str(entry[0]), purpose):
        return NonceCheck.WRONG_PURPOSE
    return NonceCheck.OK


def clear(session: MutableMapping[str, Any]) -> None:
    session.pop(SESSION_KEY, None)
