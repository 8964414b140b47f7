"""The append-only audit log of staff actions and kiosk completions (issue 12).

One record per action: who (a staff user name, or "kiosk"), when, what, which reservation (its
public ID), and the result — never a PIN, password, card-face item, photo or card identity.
Records are chained: each one's hash covers its own fields and the previous record's hash, so an
edited, deleted or reordered record breaks the chain from that point, and `manage.py verify_audit`
names the first bad one. The model refuses updates and deletes; the database could still be
changed behind Django's back, which is exactly what the chain detects. Removing the newest records
leaves a shorter valid chain, so verify_audit prints the head hash for operators to note down
(and accepts it back with --expect-head).
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum, unique
from typing import Any

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

#: The previous hash of the first record.
GENESIS_HASH = "0" * 64
#: Concurrent appends race for the same sequence number; the loser retries.
_APPEND_ATTEMPTS = 5


@unique
class AuditAction(StrEnum):
    """What was done (stable codes: the supervisor view filters on them, CSV carries them)."""

    KIOSK_COMPLETION = "kiosk_completion"
    STAFF_LOGIN = "staff_login"
    RESERVATION_VIEWED = "reservation_viewed"
    RESERVATION_REVOKED = "reservation_revoked"
    AUDIT_EXPORTED = "audit_exported"
    # Counter work (engineer 12b): an in-person identity check, a counter reset.
    IDENTITY_CHECKED = "identity_checked"
    COUNTER_RESET = "counter_reset"
    # Assisted booking (engineer 12b): a clerk opens / ends the console of one resident's run;
    # its in-person face check is an IDENTITY_CHECKED record (detail "face:<document>:<reason>").
    ASSISTED_OPENED = "assisted_opened"
    ASSISTED_ENDED = "assisted_ended"


class AuditRecordImmutable(Exception):
    """An audit record was about to be changed or deleted through Django."""


class AuditQuerySet(models.QuerySet["AuditRecord"]):
    def update(self, **kwargs: Any) -> int:
        raise AuditRecordImmutable("audit records are never updated")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditRecordImmutable("audit records are never deleted")

    def bulk_create(self, *args: Any, **kwargs: Any) -> list[AuditRecord]:
        raise AuditRecordImmutable("audit records are appended one by one (AuditRecord.append)")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise AuditRecordImmutable("audit records are never updated")


class AuditRecord(models.Model):
    """One staff action or kiosk completion; see the module docstring."""

    sequence = models.PositiveBigIntegerField(unique=True, editable=False)
    created = models.DateTimeField(editable=False, db_index=True)
    actor = models.CharField(max_length=150, editable=False, db_index=True)
    action = models.CharField(max_length=32, editable=False, db_index=True)
    reservation = models.UUIDField(null=True, blank=True, editable=False, db_index=True)
    result = models.CharField(max_length=32, editable=False)
    #: A stable code that qualifies the action (a revoke reason, a reset target); never free text.
    detail = models.CharField(max_length=64, blank=True, default="", editable=False)
    previous_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, unique=True, editable=False)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["sequence"]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.result}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditRecordImmutable("audit records are never updated")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditRecordImmutable("audit records are never deleted")

    def computed_hash(self) -> str:
        """SHA-256 over this record's fields and the previous record's hash (canonical JSON)."""
        fields = {
            "sequence": self.sequence,
            "created": self.created.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": self.actor,
            "action": self.action,
            "reservation": str(self.reservation) if self.reservation else "",
            "result": self.result,
            "detail": self.detail,
            "previous_hash": self.previous_hash,
        }
        canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @classmethod
    def append(
        cls,
        *,
        actor: str,
        action: AuditAction,
        result: str,
        reservation: uuid.UUID | None = None,
        detail: str = "",
        now: datetime | None = None,
    ) -> AuditRecord:
        """Add one record at the end of the chain (inside the caller's transaction, if any)."""
        action = AuditAction(action)
        created = now or timezone.now()
        for attempt in range(_APPEND_ATTEMPTS):
            try:
                with transaction.atomic():
                    _lock_the_chain()
                    last = cls.objects.order_by("-sequence").first()
                    record = cls(
                        sequence=(last.sequence + 1) if last else 1,
                        created=created,
                        actor=actor,
                        action=action.value,
                        reservation=reservation,
                        result=result,
                        detail=detail,
                        previous_hash=last.hash if last else GENESIS_HASH,
                    )
                    record.hash = record.computed_hash()
                    record.save(force_insert=True)
            except IntegrityError:
                logger.info("audit append raced attempt=%d", attempt + 1)
                continue
            logger.info("audit record action=%s result=%s", action.value, result)
            return record
        raise RuntimeError("audit log append kept racing; giving up")


def _lock_the_chain() -> None:
    """One appender at a time until its transaction ends, so each record links to the last.

    PostgreSQL: a table lock that conflicts with itself and with inserts (row locks would not
    do: a waiter would then read the old last record). SQLite serialises writers already; the
    unique sequence and the retry in `append` remain as the backstop.
    """
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(AuditRecord._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")  # noqa: S608


@dataclass(frozen=True)
class ChainBreak:
    """The first record that does not fit the chain, and why."""

    sequence: int
    record_id: int
    reason: str


@dataclass(frozen=True)
class ChainReport:
    count: int
    head_hash: str
    first_break: ChainBreak | None


def verify_chain(records: Iterable[AuditRecord] | None = None) -> ChainReport:
    """Walk the log in sequence order; report the first gap, edit or broken link."""
    rows = records if records is not None else AuditRecord.objects.order_by("sequence").iterator()
    previous_hash = GENESIS_HASH
    expected_sequence = 1
    count = 0
    for record in rows:
        count += 1
        problem = ""
        if record.sequence != expected_sequence:
            problem = f"sequence {expected_sequence} is missing (deleted?)"
        elif record.previous_hash != previous_hash:
            problem = "its previous hash does not match the record before it"
        elif record.computed_hash() != record.hash:
            problem = "its fields do not match its hash (edited?)"
        if problem:
            broken = ChainBreak(record.sequence, record.pk, problem)
            return ChainReport(count, previous_hash, broken)
        previous_hash = record.hash
        expected_sequence += 1
    return ChainReport(count, previous_hash, None)
