"""Attempt limits per session and per card identity, counted in the database.

The database (not process memory) holds the counts so that several ASGI workers share them.
Windows are fixed buckets; a count never stores what was tried, only that something was.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import F

from reset.models import AttemptCounter

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    """A limit: at most `attempts` within `window` seconds."""

    kind: str
    attempts: int
    window: int


@dataclass
class FrameRate:
    """Frames per connection: on average one per `gap` seconds, with up to `burst` early ones.

    A token bucket, not a minimum gap between two arrivals: the server stamps a frame when its
    event loop gets to it, so a frame that waited on a busy server and the next, correctly paced
    one look closer together than the page sent them. The bucket absorbs that; a page that really
    sends faster than the interval still runs dry within `burst` frames (issue 19).
    """

    burst: float = 3.0
    tokens: float = 3.0
    stamp: float | None = None

    def take(self, now: float, *, gap: float) -> bool:
        if self.stamp is not None:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) / max(gap, 1e-6))
        self.stamp = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


def session_key_hash(session_key: str) -> str:
    """Session keys are bearer secrets; only a hash of one is ever stored."""
    return hashlib.sha256(session_key.encode()).hexdigest()


def _window_start(now: datetime, window: int) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % window, tz=UTC)


def consume(limit: Limit, key: str, *, now: datetime | None = None) -> bool:
    """Count one attempt; True if it is within the limit, False if the limit is already reached.

    One statement creates the window's row with a count of 1 or adds one to the existing row while
    it is below the limit, so concurrent requests on several workers are each counted exactly once:
    one that finds the row being created waits for it and counts against it. (Looking for the row
    in a second query after an UPDATE that found none refused a request whose window another one
    had just opened.) PostgreSQL and SQLite (≥ 3.35) both read this upsert.
    """
    start = _window_start(now or datetime.now(tz=UTC), limit.window)
    meta = AttemptCounter._meta
    q = connection.ops.quote_name
    table, count = q(meta.db_table), q(meta.get_field("count").column)
    columns = ", ".join(q(meta.get_field(name).column) for name in ("kind", "key", "window_start"))
    window = meta.get_field("window_start").get_db_prep_value(start, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}, {count}) VALUES (%s, %s, %s, 1) "  # noqa: S608 - names from the model, values as parameters
            f"ON CONFLICT ({columns}) DO UPDATE SET {count} = {table}.{count} + 1 "
            f"WHERE {table}.{count} < %s RETURNING {count}",
            [limit.kind, key, window, limit.attempts],
        )
        counted = cursor.fetchone() is not None
    if not counted:
        logger.info("limit reached kind=%s", limit.kind)
    return counted


def refund(limit: Limit, key: str, *, now: datetime | None = None) -> None:
    """Give back one attempt of the current window (the server, not the resident, lost it)."""
    start = _window_start(now or datetime.now(tz=UTC), limit.window)
    AttemptCounter.objects.filter(
        kind=limit.kind, key=key, window_start=start, count__gt=0
    ).update(count=F("count") - 1)


def remaining(limit: Limit, key: str, *, now: datetime | None = None) -> int:
    start = _window_start(now or datetime.now(tz=UTC), limit.window)
    row = AttemptCounter.objects.filter(kind=limit.kind, key=key, window_start=start).first()
    return limit.attempts - (row.count if row else 0)


def window_end(limit: Limit, *, now: datetime | None = None) -> datetime:
    """When the current window closes: the moment a refused resident may try again."""
    return _window_start(now or datetime.now(tz=UTC), limit.window) + timedelta(
        seconds=limit.window
    )


def prune(*, older_than: timedelta = timedelta(days=2), now: datetime | None = None) -> int:
    cutoff = (now or datetime.now(tz=UTC)) - older_than
    deleted, _ = AttemptCounter.objects.filter(window_start__lt=cutoff).delete()
    return deleted


# --- The limits the wizard uses (docs/internal-api.md, "rate limits") ---------------------------
def _attempts() -> int:
    from django.conf import settings

    return int(settings.MYNA_EVIDENCE_ATTEMPTS)


def evidence_session_limit() -> Limit:
    """Chip evidence submissions per browser session per hour."""
    return Limit("evidence_session", _attempts(), 3600)


def cardface_session_limit() -> Limit:
    """Card-face camera reads per browser session per hour (each costs a second or two of OCR)."""
    from django.conf import settings

    return Limit("cardface_session", int(settings.MYNA_CARDFACE_ATTEMPTS), 3600)


def evidence_card_limit() -> Limit:
    """Verified chip reads per card per day (a card is a person: bound what one can try)."""
    return Limit("evidence_card", _attempts() * 2, 86400)


def extension_session_limit() -> Limit:
    """"More time" requests per browser session per hour; wizard_state bounds the total."""
    return Limit("extension_session", 20, 3600)


# --- Face-check attempts (docs/internal-api.md, "face check") -----------------------------------
# A face attempt is counted when it starts (so closing the socket mid-way does not dodge the count)
# and given back when it passes: only failed attempts use up the resident's tries.
FACE_SESSION_WINDOW = 60 * 60
FACE_CARD_WINDOW = 24 * 60 * 60


def face_session_limit() -> Limit:
    from django.conf import settings

    return Limit("face_session", int(settings.MYNA_FACE_ATTEMPTS), FACE_SESSION_WINDOW)


def face_card_limit() -> Limit:
    from django.conf import settings

    return Limit("face_card", int(settings.MYNA_FACE_ATTEMPTS), FACE_CARD_WINDOW)


def face_attempts_left(
    session_hash: str, card_identity: str = "", *, now: datetime | None = None
) -> int:
    """Tries left for this browser session and, once the chip was read, for this card."""
    left = remaining(face_session_limit(), session_hash, now=now)
    if card_identity:
        left = min(left, remaining(face_card_limit(), card_identity, now=now))
    return max(0, left)


def consume_face_attempt(
    session_hash: str, card_identity: str, *, now: datetime | None = None
) -> tuple[bool, int]:
    """Count one attempt against the session and the card; (allowed, tries left after it)."""
    # Both counters are charged, so neither a new session nor another card gets extra tries.
    session_ok = consume(face_session_limit(), session_hash, now=now)
    card_ok = consume(face_card_limit(), card_identity, now=now)
    return session_ok and card_ok, face_attempts_left(session_hash, card_identity, now=now)


def refund_face_attempt(session_hash: str, card_identity: str, *, counted_at: datetime) -> None:
    """A passed attempt gives its try back, in the windows it was counted in."""
    for limit, key in ((face_session_limit(), session_hash), (face_card_limit(), card_identity)):
        start = _window_start(counted_at, limit.window)
        AttemptCounter.objects.filter(
            kind=limit.kind, key=key, window_start=start, count__gt=0
        ).update(count=F("count") - 1)
    logger.info("face attempt given back after a pass")
