"""Staff can look at reservations in the admin, never add, change or delete them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from reservations.models import Reservation

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client: Client) -> Client:
    user = User.objects.create_superuser("admin", "admin@example.jp", "pw-for-tests-only")
    client.force_login(user)
    return client


def test_the_list_and_detail_are_visible(staff: Client) -> None:
    booked = Reservation.book(card_identity="ab" * 32, target="sign")
    assert staff.get("/admin/reservations/reservation/").status_code == 200
    detail = staff.get(f"/admin/reservations/reservation/{booked.pk}/change/")
    assert detail.status_code == 200
    assert 'name="state"' not in detail.content.decode()  # shown read-only, not as a field


def test_nothing_can_be_added_changed_or_deleted(staff: Client) -> None:
    booked = Reservation.book(card_identity="ab" * 32, target="sign")
    assert staff.get("/admin/reservations/reservation/add/").status_code == 403
    staff.post(f"/admin/reservations/reservation/{booked.pk}/change/", {"state": "revoked"})
    booked.refresh_from_db()
    assert booked.state == "active"
    deleted = staff.post(f"/admin/reservations/reservation/{booked.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 403
    assert Reservation.objects.count() == 1
