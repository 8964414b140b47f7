"""The audit log: append-only, hash-chained, and verify_audit finds the first bad record."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from mynacard.targets import TargetPassword
from reservations.audit_log import (
    GENESIS_HASH,
    AuditAction,
    AuditRecord,
    AuditRecordImmutable,
    verify_chain,
)
from reservations.completion import complete
from reservations.models import Reservation

pytestmark = [pytest.mark.django_db, pytest.mark.backends]


def _three() -> list[AuditRecord]:
    return [
        AuditRecord.append(
            actor=f"clerk{i}",
            action=AuditAction.RESERVATION_VIEWED,
            result="ok",
            reservation=uuid.uuid4(),
        )
        for i in range(3)
    ]


def test_records_chain_each_to_the_previous_one() -> None:
    first, second, third = _three()
    assert [r.sequence for r in (first, second, third)] == [1, 2, 3]
    assert first.previous_hash == GENESIS_HASH
    assert second.previous_hash == first.hash and third.previous_hash == second.hash
    report = verify_chain()
    assert report.count == 3 and report.first_break is None and report.head_hash == third.hash


def test_the_model_refuses_updates_and_deletes() -> None:
    record, *_ = _three()
    record.result = "refused"
    with pytest.raises(AuditRecordImmutable):
        record.save()
    with pytest.raises(AuditRecordImmutable):
        record.delete()
    with pytest.raises(AuditRecordImmutable):
        AuditRecord.objects.filter(pk=record.pk).update(result="x")
    with pytest.raises(AuditRecordImmutable):
        AuditRecord.objects.all().delete()
    assert AuditRecord.objects.count() == 3 and verify_chain().first_break is None


def _raw(sql: str, *params: object) -> None:
    """Tamper behind Django's back, as someone with database access would."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_verify_audit_passes_an_intact_chain_and_prints_its_head(
    capsys: pytest.CaptureFixture[str],
) -> None:
    *_, last = _three()
    call_command("verify_audit")
    assert f"3 records, head {last.hash}" in capsys.readouterr().out
    call_command("verify_audit", expect_head=last.hash)


def test_an_edited_record_fails_verify_audit_naming_it() -> None:
    _, second, _ = _three()
    _raw("UPDATE reservations_auditrecord SET result = %s WHERE id = %s", "refused", second.pk)
    with pytest.raises(CommandError, match=f"sequence=2 id={second.pk}: its fields"):
        call_command("verify_audit")


def test_an_edited_record_with_a_recomputed_hash_breaks_the_next_link() -> None:
    first, second, third = _three()
    forged = AuditRecord.objects.get(pk=second.pk)
    forged.actor = "someone-else"
    new_hash = forged.computed_hash()
    _raw(
        "UPDATE reservations_auditrecord SET actor = %s, hash = %s WHERE id = %s",
        "someone-else",
        new_hash,
        second.pk,
    )
    with pytest.raises(CommandError, match=f"sequence=3 id={third.pk}: its previous hash"):
        call_command("verify_audit")


def test_a_deleted_record_fails_verify_audit() -> None:
    _, second, third = _three()
    _raw("DELETE FROM reservations_auditrecord WHERE id = %s", second.pk)
    with pytest.raises(CommandError, match=f"sequence=3 id={third.pk}: sequence 2 is missing"):
        call_command("verify_audit")


def test_removing_the_newest_record_is_caught_with_the_noted_head() -> None:
    *_, third = _three()
    _raw("DELETE FROM reservations_auditrecord WHERE id = %s", third.pk)
    call_command("verify_audit")  # the shorter chain is consistent in itself ...
    with pytest.raises(CommandError, match="expected head hash is not in the log"):
        call_command("verify_audit", expect_head=third.hash)  # ... but not with the noted head


def test_a_kiosk_completion_writes_exactly_one_record() -> None:
    now = timezone.now()
    booked = Reservation.book(card_identity="c" * 64, target=TargetPassword.SIGN, now=now)
    assert complete(booked.pk, now=now + timedelta(minutes=5))
    assert not complete(booked.pk, now=now + timedelta(minutes=6))  # already used
    rows = list(AuditRecord.objects.values_list("actor", "action", "reservation", "result"))
    assert rows == [
        ("kiosk", "kiosk_completion", booked.public_id, "ok"),
        ("kiosk", "kiosk_completion", booked.public_id, "not_active"),
    ]
    assert verify_chain().first_break is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_unbroken_chain() -> None:
    """Two writers race for the next sequence number; the loser retries (PostgreSQL only: the
    embedded SQLite test database serialises writers anyway)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs a database with concurrent writers (run with -m backends)")
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def writer(name: str) -> None:
        try:
            for _ in range(15):
                AuditRecord.append(
                    actor=name, action=AuditAction.RESERVATION_VIEWED, result="ok"
                )
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(writer, ["a", "b", "c"]))
    report = verify_chain()
    assert report.count == 45 and report.first_break is None
