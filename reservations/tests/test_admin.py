"""Staff can look at reservations in the admin, never add, change or delete them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from reservations.models import Reservation
from staff.tests.staff_users import current_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client: Client) -> Client:
    """Logged in through the admin's own form with password and TOTP code (staff/admin_site.py)."""
    user = User.objects.create_superuser("admin", "admin@example.jp", "pw-for-tests-only")
    device = TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    response = client.post(
        "/admin/login/",
        {
            "username": "admin",
            "password": "pw-for-tests-only",
            "otp_device": device.persistent_id,
            "otp_token": current_code(device),
        },
    )
    assert response.status_code == 302
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
