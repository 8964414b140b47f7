"""Models of the resident wizard (rate limits, nonces). Reservations live in `reservations`."""

from __future__ import annotations

import logging

from django.db import models

logger = logging.getLogger(__name__)


class AttemptCounter(models.Model):
    """How often something was tried within a fixed window (rate limits per session or card)."""

    kind = models.CharField(max_length=32)
    # A session key hash or a card identity hash; never a raw identifier of a person.
    key = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "key", "window_start"], name="attempt_unique")
        ]
        indexes = [models.Index(fields=["window_start"])]

    def __str__(self) -> str:
        return f"{self.kind}:{self.key[:8]}… {self.count}"


class ServerNonce(models.Model):
    """An outstanding nonce of the card page (reset/nonces.py), kept as a hash only.

    In the database rather than the session so that taking one is a single conditional DELETE:
    of two concurrent requests presenting it, exactly one sees the row go (architecture.md,
    trust model 1: single use). The session is known by a hash of its key only.
    """

    digest = models.CharField(max_length=64, unique=True)  # SHA-256 hex of the nonce
    session = models.CharField(max_length=64)  # limits.session_key_hash(), never the raw key
    purpose = models.CharField(max_length=64)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["session", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.purpose} {self.digest[:8]}…"
