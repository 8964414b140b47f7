"""The staff login needs password and TOTP code; idle sessions end."""

from __future__ import annotations

import time

import pytest
from django.test import Client, override_settings

from staff.idle import LAST_SEEN_KEY
from staff.roles import StaffRole
from staff.tests.staff_users import PASSWORD, current_code, make_user, staff_client

pytestmark = pytest.mark.django_db


def _login(client: Client, username: str, password: str, code: str):
    return client.post(
        "/staff/login/", {"username": username, "password": password, "otp_token": code}
    )


def test_password_and_current_code_log_in() -> None:
    _, device = make_user("clerk1", StaffRole.CLERK)
    client = Client()
    response = _login(client, "clerk1", PASSWORD, current_code(device))
    assert response.status_code == 302 and response["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200


@pytest.mark.parametrize("bad", ["password", "code", "no-code"])
def test_a_wrong_password_or_code_is_refused_with_one_message(bad: str) -> None:
    _, device = make_user("clerk1", StaffRole.CLERK)
    good = current_code(device)
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    client = Client()
    response = _login(
        client,
        "clerk1",
        "wrong-password" if bad == "password" else PASSWORD,
        {"password": good, "code": wrong, "no-code": ""}[bad],
    )
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session
    body = response.content.decode()
    if bad != "no-code":
        assert "ユーザー名、パスワードまたは確認コードが正しくありません。" in body
    assert client.get("/staff/").status_code == 302


def test_a_user_without_a_device_cannot_log_in() -> None:
    user, device = make_user("clerk1", StaffRole.CLERK)
    code = current_code(device)
    device.delete()
    response = _login(Client(), "clerk1", PASSWORD, code)
    assert response.status_code == 400


def test_login_goes_back_to_the_page_asked_for_but_never_off_site() -> None:
    _, device = make_user("clerk1", StaffRole.CLERK)
    client = Client()
    asked = client.get("/staff/")
    assert asked["Location"] == "/staff/login/?next=/staff/"
    code = current_code(device)
    response = client.post(
        "/staff/login/",
        {"username": "clerk1", "password": PASSWORD, "otp_token": code, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/staff/"


@override_settings(MYNA_STAFF_IDLE_SECONDS=600)
def test_an_idle_session_ends_and_an_active_one_does_not() -> None:
    client = staff_client("clerk1", StaffRole.CLERK)
    session = client.session
    session[LAST_SEEN_KEY] = time.time() - 590
    session.save()
    assert client.get("/staff/").status_code == 200  # 590 s idle: still signed in, stamp renewed
    session = client.session
    assert time.time() - session[LAST_SEEN_KEY] < 60
    session[LAST_SEEN_KEY] = time.time() - 601
    session.save()
    response = client.get("/staff/")
    assert response.status_code == 302 and response["Location"].startswith("/staff/login/")
    assert "_auth_user_id" not in client.session


def test_logout_ends_the_session() -> None:
    client = staff_client("clerk1", StaffRole.CLERK)
    assert client.post("/staff/logout/").status_code == 302
    assert client.get("/staff/").status_code == 302


def test_create_staff_user_prints_an_otpauth_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    from io import StringIO

    from django.contrib.auth.models import User
    from django.core.management import call_command

    monkeypatch.setenv("MYNA_STAFF_PASSWORD", PASSWORD)
    out = StringIO()
    call_command("create_staff_user", "super9", role="supervisor", stdout=out)
    text = out.getvalue()
    assert "otpauth://totp/" in text and "issuer=myna-reset" in text
    user = User.objects.get(username="super9")
    assert list(user.groups.values_list("name", flat=True)) == ["supervisor"]
    assert PASSWORD not in text


def test_the_staff_pages_speak_english_with_the_language_cookie() -> None:
    client = staff_client("clerk1", StaffRole.CLERK)
    client.cookies["django_language"] = "en"
    home = client.get("/staff/").content.decode()
    assert "Staff console" in home and "Look up or revoke a reservation" in home
    login = Client()
    login.cookies["django_language"] = "en"
    page = login.get("/staff/login/").content.decode()
    assert "Staff login" in page and "Verification code (6 digits)" in page
    assert "職員ログイン" not in page
