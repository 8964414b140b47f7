"""An assisted booking: one resident's wizard run at a counter terminal, followed by one clerk.

In `reservations`, the app both sides share: the clerk's console (staff/assisted_*.py) and the
resident's wizard (reset/assisted_*.py) each use it and never import each other (architecture.md,
packages). The clerk's console creates the session and shows a short join code; the counter
terminal types it (issue 12, "Assisted booking"). From then on the row binds three things: the
clerk, the clerk's own console session (a hash of its key: another tab or terminal of the same
clerk is not it), and the resident terminal's session (a hash too). The row also carries what the
console shows — the resident's step, face tries left, the face-check result — as codes only, and
the in-person check once the clerk has recorded it. No photo, PIN, card-face item or document
number is ever stored here; the chip photo's SHA-256 and the card identity hash (both already kept
in the resident's session and, for the card, in Reservation) tie the check to the evidence the
server verified.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

#: Digits of the join code: typed on the counter terminal's keypad, valid for a few minutes,
#: single use, and join tries are rate-limited per terminal session (reset/assisted_views.py).
CODE_DIGITS = 8
#: How long a new session waits for its terminal.
JOIN_SECONDS = 10 * 60
#: How long an assisted session may last once joined (a wizard run takes minutes).
LIFETIME_SECONDS = 60 * 60


def session_hash(session_key: str) -> str:
    """Session keys are bearer secrets: only a hash of one is stored (as reset/limits.py does)."""
    return hashlib.sha256(session_key.encode()).hexdigest()


def code_hash(code: str) -> str:
    return hashlib.sha256(f"assisted-join|{code}".encode()).hexdigest()


def new_code() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))


class AssistedSession(models.Model):
    """See the module docstring."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clerk = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    clerk_session_hash = models.CharField(max_length=64)
    code_hash = models.CharField(max_length=64, db_index=True)
    created = models.DateTimeField()
    join_by = models.DateTimeField()
    joined_at = models.DateTimeField(null=True, blank=True)
    terminal_session_hash = models.CharField(max_length=64, blank=True, default="")
    ended_at = models.DateTimeField(null=True, blank=True)

    # What the console shows: codes, never values (docs/staff-console.md, assisted booking).
    step = models.CharField(max_length=16, blank=True, default="")
    last_refusal = models.CharField(max_length=32, blank=True, default="")
    face_attempts_left = models.PositiveSmallIntegerField(null=True, blank=True)
    # The known password's tries left as the terminal's page reported it (reset/api_views.tries).
    pin_tries_left = models.PositiveSmallIntegerField(null=True, blank=True)
    face_result = models.CharField(max_length=32, blank=True, default="")
    face_failed_at = models.DateTimeField(null=True, blank=True)

    # The in-person check: the photo the clerk was shown (its hash, set by the relay after it
    # checked the photo against the resident's verified evidence), then what the clerk recorded.
    photo_sha256 = models.CharField(max_length=64, blank=True, default="")
    card_identity = models.CharField(max_length=64, blank=True, default="")
    photo_shown_at = models.DateTimeField(null=True, blank=True)
    in_person_at = models.DateTimeField(null=True, blank=True)
    document_type = models.CharField(max_length=32, blank=True, default="")
    in_person_reason = models.CharField(max_length=32, blank=True, default="")

    # related_name "+": a Reservation itself gains no field (it holds `face_check` only).
    reservation = models.ForeignKey(
        "reservations.Reservation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"assisted {self.public_id} step={self.step or '-'}"

    @classmethod
    def open(cls, *, clerk: models.Model, clerk_session_hash: str) -> tuple[AssistedSession, str]:
        """A new session waiting for its terminal, and its join code (shown once, stored hashed)."""
        now = timezone.now()
        code = new_code()
        session = cls.objects.create(
            clerk=clerk,
            clerk_session_hash=clerk_session_hash,
            code_hash=code_hash(code),
            created=now,
            join_by=now + timedelta(seconds=JOIN_SECONDS),
        )
        return session, code

    @classmethod
    def join(cls, code: str, *, terminal_session_hash: str) -> AssistedSession | None:
        """Bind the waiting session with this code to the terminal; None if there is none.

        A conditional UPDATE: of two terminals typing the same code, only one gets it.
        """
        now = timezone.now()
        waiting = cls.objects.filter(
            code_hash=code_hash(code),
            joined_at__isnull=True,
            ended_at__isnull=True,
            join_by__gt=now,
        )
        found = waiting.first()
        if found is None:
            return None
        bound = cls.objects.filter(pk=found.pk, joined_at__isnull=True).update(
            joined_at=now, terminal_session_hash=terminal_session_hash, code_hash=""
        )
        if not bound:
            return None
        found.refresh_from_db()
        return found

    def is_live(self, now: datetime | None = None) -> bool:
        """Joined, not ended, within its lifetime."""
        current = now or timezone.now()
        return (
            self.joined_at is not None
            and self.ended_at is None
            and current < self.joined_at + timedelta(seconds=LIFETIME_SECONDS)
        )

    def is_open(self, now: datetime | None = None) -> bool:
        """Waiting for its terminal or live: the console may still follow it."""
        current = now or timezone.now()
        if self.ended_at is not None:
            return False
        return self.is_live(current) if self.joined_at is not None else current < self.join_by

    def bound_to_clerk(self, user_pk: object, session_hash: str) -> bool:
        return self.clerk_id == user_pk and hmac.compare_digest(
            self.clerk_session_hash, session_hash
        )

    def bound_to_terminal(self, session_hash: str) -> bool:
        return bool(self.terminal_session_hash) and hmac.compare_digest(
            self.terminal_session_hash, session_hash
        )
