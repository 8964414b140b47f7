"""The Django admin needs the second factor too (staff/admin_site.py)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.test import Client
from django_otp.admin import OTPAdminSite
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff.tests.staff_users import PASSWORD, current_code, make_user

pytestmark = pytest.mark.django_db


def _superuser() -> tuple[AbstractUser, TOTPDevice]:
    user, device = make_user("admin1", None)
    get_user_model().objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)
    return user, device


def test_the_admin_site_is_django_otps() -> None:
    assert isinstance(admin.site, OTPAdminSite)  # the lazy default site proxies its class


def test_a_password_only_login_cannot_open_the_admin() -> None:
    user, _ = _superuser()
    client = Client()
    client.force_login(user)  # a correct password, no second factor
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    # The admin's own login form: the password alone is refused.
    refused = client.post(
        "/admin/login/?next=/admin/", {"username": "admin1", "password": PASSWORD}
    )
    assert refused.status_code == 200
    assert client.get("/admin/").status_code == 302


def test_password_and_totp_code_open_the_admin() -> None:
    _, device = _superuser()
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/",
        {
            "username": "admin1",
            "password": PASSWORD,
            "otp_device": device.persistent_id,
            "otp_token": current_code(device),
        },
    )
    assert response.status_code == 302, response.content.decode()[:800]
    assert client.get("/admin/").status_code == 200
