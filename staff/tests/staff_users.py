"""Test helpers: staff users with a real TOTP device, logged in through the real login form."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff.roles import StaffRole

PASSWORD = "counter-Terminal-42"


def make_user(username: str, role: StaffRole | None) -> tuple[AbstractUser, TOTPDevice]:
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    if role is not None:
        user.groups.add(Group.objects.get(name=role.value))
    device = TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    return user, device


def current_code(device: TOTPDevice) -> str:
    """The code an authenticator app shows now (django-otp's own TOTP, not ours)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def staff_client(username: str, role: StaffRole | None) -> Client:
    """A client logged in with password and TOTP code, as a clerk would at the counter."""
    _, device = make_user(username, role)
    client = Client()
    response = client.post(
        "/staff/login/",
        {"username": username, "password": PASSWORD, "otp_token": current_code(device)},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return client
