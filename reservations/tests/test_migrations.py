"""The move of Reservation out of `reset` keeps the table and every row (state-only migration)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.backends]

BEFORE = [("reset", "0003_servernonce"), ("reservations", None)]


def _migrate(targets: Sequence[tuple[str, str | None]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection)


def _latest() -> Sequence[tuple[str, str | None]]:
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def test_a_reservation_booked_before_the_move_is_still_there_after_it() -> None:
    old_state = _migrate(BEFORE).loader.project_state(BEFORE[:1]).apps
    OldReservation = old_state.get_model("reset", "Reservation")  # noqa: N806 - a model class
    now = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
    old = OldReservation.objects.create(
        card_identity="ab" * 32, target="sign", created=now, expires=now + timedelta(hours=24)
    )
    try:
        new_state = _migrate(_latest()).loader.project_state(_latest()).apps
        Reservation = new_state.get_model("reservations", "Reservation")  # noqa: N806
        moved = Reservation.objects.get(public_id=old.public_id)
        assert (moved.pk, moved.target, moved.state) == (old.pk, "sign", "active")
        with connection.cursor() as cursor:
            tables = connection.introspection.table_names(cursor)
        assert "reset_reservation" in tables
    finally:
        _migrate(_latest())


def test_the_identity_migration_keeps_auth_key_bookings_and_revokes_unfindable_ones() -> None:
    before = [("reservations", "0001_initial")]
    old_state = _migrate(before).loader.project_state(before).apps
    OldReservation = old_state.get_model("reservations", "Reservation")  # noqa: N806
    now = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
    later = now + timedelta(hours=24)
    # Resetting 署名用 was signed by the user-auth key: its identity already is the card's.
    sign = OldReservation.objects.create(
        card_identity="a" * 64, target="sign", created=now, expires=later
    )
    # Resetting 利用者証明用 was signed by the signature key: not findable by a kiosk any more.
    auth = OldReservation.objects.create(
        card_identity="b" * 64, target="auth", created=now, expires=later
    )
    used = OldReservation.objects.create(
        card_identity="c" * 64, target="auth", created=now, expires=later, state="used"
    )
    try:
        latest = _latest()
        Reservation = _migrate(latest).loader.project_state(latest).apps.get_model(  # noqa: N806
            "reservations", "Reservation"
        )
        rows = {row.pk: row for row in Reservation.objects.all()}
        assert (rows[sign.pk].card_identity, rows[sign.pk].state) == ("a" * 64, "active")
        assert rows[sign.pk].signer_identity == "a" * 64
        assert (rows[auth.pk].state, rows[auth.pk].signer_identity) == ("revoked", "b" * 64)
        assert rows[auth.pk].state_changed is not None
        assert (rows[used.pk].state, rows[used.pk].signer_identity) == ("used", "c" * 64)
    finally:
        _migrate(_latest())
