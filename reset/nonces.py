"""Server nonces the card signs: ≥ 256 bits, single use, bound to session and purpose, short-lived.

Only a SHA-256 of each nonce is kept, next to a hash of the session key (reset.models.ServerNonce),
so a leaked database hands out neither usable nonces nor sessions (architecture.md, trust model 1).
The store is the database, not the session: two concurrent requests of one session each write
back their own copy of the session, so a session-held table could let both consume one nonce.
Here taking a nonce is a conditional DELETE, and only one request can see its row go.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from datetime import UTC, datetime, timedelta
from enum import StrEnum, unique

from django.conf import settings
from django.db import transaction

from reset.models import ServerNonce

logger = logging.getLogger(__name__)

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
    return int(settings.MYNA_NONCE_TTL_SECONDS)


def _digest(nonce: bytes) -> str:
    return hashlib.sha256(nonce).hexdigest()


def _moment(now: float | None) -> datetime:
    return datetime.fromtimestamp(time.time() if now is None else now, tz=UTC)


def issue(session_hash: str, purpose: str, *, now: float | None = None) -> bytes:
    """A fresh nonce for `purpose`, bound to the session whose key hashes to `session_hash`.

    The session's expired nonces go, and its oldest ones beyond MAX_OUTSTANDING - 1, so a page
    that keeps asking cannot grow the table.
    """
    current = _moment(now)
    nonce = secrets.token_bytes(NONCE_BYTES)
    with transaction.atomic():
        mine = ServerNonce.objects.filter(session=session_hash)
        mine.filter(expires_at__lte=current).delete()
        newest = list(
            mine.order_by("-expires_at", "-pk").values_list("pk", flat=True)[: MAX_OUTSTANDING - 1]
        )
        mine.exclude(pk__in=newest).delete()
        ServerNonce.objects.create(
            digest=_digest(nonce),
            session=session_hash,
            purpose=purpose,
            expires_at=current + timedelta(seconds=ttl_seconds()),
        )
    logger.info("nonce issued purpose=%s", purpose)
    return nonce


def take(session_hash: str, nonce: bytes, purpose: str, *, now: float | None = None) -> NonceCheck:
    """Consume `nonce`: it is gone afterwards whatever the outcome, so it can never be replayed.

    The row is looked up by the hash of the nonce (a preimage-resistant key, so the lookup's
    timing says nothing useful) and by session, so another session's nonce is UNKNOWN.
    """
    current = _moment(now)
    mine = ServerNonce.objects.filter(digest=_digest(nonce), session=session_hash)
    # purpose and expires_at never change after issue(), so reading them first is safe.
    found = mine.values_list("purpose", "expires_at").first()
    if found is None:
        return NonceCheck.UNKNOWN
    deleted, _ = mine.delete()
    if not deleted:
        # A concurrent request deleted the row between our read and our DELETE: it won.
        logger.info("nonce taken concurrently")
        return NonceCheck.UNKNOWN
    issued_for, expires_at = found
    if expires_at <= current:
        return NonceCheck.EXPIRED
    if issued_for != purpose:
        return NonceCheck.WRONG_PURPOSE
    return NonceCheck.OK


def clear(session_hash: str) -> None:
    """Forget every outstanding nonce of one session (wizard restarted, finished or abandoned)."""
    ServerNonce.objects.filter(session=session_hash).delete()


def prune(*, now: float | None = None) -> int:
    """Delete every expired nonce of every session (housekeeping); returns how many went."""
    deleted, _ = ServerNonce.objects.filter(expires_at__lte=_moment(now)).delete()
    return deleted
