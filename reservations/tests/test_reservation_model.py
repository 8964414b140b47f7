"""Reservation business rules: one active per card and password, clean supersede, deadlines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction

from reservations.models import JST, Reservation, ReservationState

pytestmark = [pytest.mark.django_db, pytest.mark.backends]

CARD = "ab" * 32
NOW = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)


def test_it_expires_24_hours_after_booking() -> None:
    booked = Reservation.book(card_identity=CARD, target="sign", now=NOW)
    assert booked.expires - booked.created == timedelta(hours=24)
    assert booked.deadline_jst == datetime(2026, 11, 28, 10, 0, tzinfo=JST)
    assert booked.is_active(NOW)
    assert not booked.is_active(NOW + timedelta(hours=24))


def test_the_database_allows_only_one_active_per_card_and_target() -> None:
    Reservation.objects.create(card_identity=CARD, target="sign", created=NOW, expires=NOW)
    with pytest.raises(IntegrityError), transaction.atomic():
        Reservation.objects.create(card_identity=CARD, target="sign", created=NOW, expires=NOW)


def test_other_targets_and_inactive_rows_do_not_conflict() -> None:
    Reservation.objects.create(card_identity=CARD, target="sign", created=NOW, expires=NOW)
    Reservation.objects.create(card_identity=CARD, target="auth", created=NOW, expires=NOW)
    Reservation.objects.create(
        card_identity=CARD, target="sign", created=NOW, expires=NOW, state=ReservationState.USED
    )
    assert Reservation.objects.count() == 3


def test_booking_again_supersedes_the_earlier_one() -> None:
    first = Reservation.book(card_identity=CARD, target="sign", now=NOW)
    second = Reservation.book(card_identity=CARD, target="sign", now=NOW + timedelta(hours=1))
    first.refresh_from_db()
    assert first.state == ReservationState.SUPERSEDED
    assert first.state_changed == NOW + timedelta(hours=1)
    assert second.state == ReservationState.ACTIVE
    assert Reservation.objects.filter(state=ReservationState.ACTIVE).count() == 1


def test_booking_after_expiry_marks_the_old_one_expired() -> None:
    first = Reservation.book(card_identity=CARD, target="auth", now=NOW)
    Reservation.book(card_identity=CARD, target="auth", now=NOW + timedelta(hours=30))
    first.refresh_from_db()
    assert first.state == ReservationState.EXPIRED


def test_a_failed_booking_leaves_the_earlier_one_active() -> None:
    first = Reservation.book(card_identity=CARD, target="sign", now=NOW)
    with pytest.raises(ValueError):
        Reservation.book(card_identity=CARD, target="juki", now=NOW)
    first.refresh_from_db()
    assert first.state == ReservationState.ACTIVE


def test_used_reservations_still_show_their_deadline_until_it_passes() -> None:
    booked = Reservation.book(card_identity=CARD, target="sign", now=NOW)
    booked.mark_used(NOW + timedelta(hours=2))
    assert not booked.is_active(NOW + timedelta(hours=3))
    assert booked.shows_deadline(NOW + timedelta(hours=3))
    assert not booked.shows_deadline(NOW + timedelta(hours=25))


def test_superseded_and_revoked_do_not_show() -> None:
    booked = Reservation.book(card_identity=CARD, target="sign", now=NOW)
    booked.revoke(NOW)
    assert not booked.shows_deadline(NOW)
    with pytest.raises(ValueError):
        booked.mark_used(NOW)


def test_expire_due_marks_only_past_deadlines() -> None:
    Reservation.book(card_identity=CARD, target="sign", now=NOW)
    Reservation.book(card_identity="cd" * 32, target="sign", now=NOW + timedelta(hours=20))
    assert Reservation.expire_due(NOW + timedelta(hours=25)) == 1
    assert Reservation.objects.filter(state=ReservationState.ACTIVE).count() == 1


def test_public_ids_are_uuids_and_no_personal_fields_exist() -> None:
    booked = Reservation.book(card_identity=CARD, target="sign", now=NOW)
    assert booked.public_id.version == 4
    names = {field.name for field in Reservation._meta.get_fields()}
    assert names == {
        "id",
        "public_id",
        "card_identity",
        "signer_identity",
        "target",
        "created",
        "expires",
        "state",
        "state_changed",
        "face_check",
    }


def test_housekeeping_expires_overdue_reservations() -> None:
    from io import StringIO

    from django.core.management import call_command

    Reservation.book(card_identity=CARD, target="sign", now=NOW - timedelta(days=30))
    out = StringIO()
    call_command("reset_housekeeping", stdout=out)
    assert "expired 1 reservation(s)" in out.getvalue()
    assert Reservation.objects.get().state == ReservationState.EXPIRED
