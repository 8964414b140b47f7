"""The staff console in real Chromium: a clerk logs in with password + TOTP code, finds a
reservation by its ID, revokes it; a supervisor reads and filters the audit log. axe-core checks
every screen; screenshots go to test-output/e2e/staff-*.png."""

from __future__ import annotations

import base64
import os
import subprocess
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from django_otp.oath import totp

from tests.e2e import harness
from tests.e2e.test_wizard_e2e import _skip_reason, assert_accessible
from tests.prerequisites import skip_or_fail

pytestmark = [pytest.mark.browser]

PASSWORD = "counter-Terminal-42"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.Stack]:
    reason = _skip_reason()
    if reason:
        skip_or_fail(reason, what="the browser tests")
    workdir = tmp_path_factory.mktemp("stack")
    with harness.running_stack(workdir) as running:
        running.db_name = str(workdir / "e2e.sqlite3")  # type: ignore[attr-defined]
        yield running


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory, stack: harness.Stack) -> Iterator[Any]:
    y4m = harness.write_y4m(tmp_path_factory.mktemp("camera") / "holder.y4m")
    with harness.browser(y4m) as instance:
        yield instance


def _manage(stack: harness.Stack, *args: str, **env: str) -> str:
    done = subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
        [str(harness.VENV_BIN / "python"), "manage.py", *args],
        cwd=harness.ROOT,
        env={**os.environ, "DB_NAME": stack.db_name, **env},  # type: ignore[attr-defined]
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def _staff_user(stack: harness.Stack, username: str, role: str) -> bytes:
    """Create the user with the real command; return the TOTP key from the printed URI."""
    out = _manage(
        stack, "create_staff_user", username, "--role", role, MYNA_STAFF_PASSWORD=PASSWORD
    )
    uri = next(line for line in out.splitlines() if line.startswith("otpauth://"))
    secret = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)["secret"][0]
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def _book(stack: harness.Stack) -> str:
    return _manage(
        stack,
        "shell",
        "-c",
        "from reservations.models import Reservation; "
        "print(Reservation.book(card_identity='e2e' * 21, target='sign').public_id)",
    ).strip().splitlines()[-1]


def _login(page: Any, base_url: str, username: str, key: bytes, shot: Any) -> None:
    page.goto(base_url + "/staff/")
    assert "/staff/login/" in page.url
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp_token", "000000" if totp(key) != 0 else "111111")
    page.click("button[type=submit]:text('ログイン')")
    assert "確認コードが正しくありません" in page.inner_text("main")
    shot("login-wrong-code")
    assert_accessible(page, "login with an error")
    # django-otp refuses any code for 1 s after a wrong one (OTP_TOTP_THROTTLE_FACTOR × 2^(n−1)):
    # a retry faster than a person types would be refused whatever the code.
    page.wait_for_timeout(1100)
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp_token", f"{totp(key):06d}")
    page.click("button[type=submit]:text('ログイン')")
    page.wait_for_url(base_url + "/staff/")


def test_a_clerk_revokes_and_a_supervisor_reads_the_audit_log(
    stack: harness.Stack, chromium: Any
) -> None:
    clerk_key = _staff_user(stack, "clerk1", "clerk")
    supervisor_key = _staff_user(stack, "super1", "supervisor")
    public_id = _book(stack)

    context = chromium.new_context(locale="ja-JP", viewport={"width": 1100, "height": 900})
    page = context.new_page()
    shot = harness.shooter(page, "staff")
    _login(page, stack.base_url, "clerk1", clerk_key, shot)
    shot("home")
    assert_accessible(page, "console home")
    assert page.locator("a[href='/staff/audit/']").count() == 0  # not for clerks

    page.click("a[href='/staff/reservations/']")
    page.fill("#id_reservation_id", "12345")
    page.press("#id_reservation_id", "Enter")
    assert "予約番号の形式が正しくありません" in page.inner_text("main")
    shot("lookup-bad-id")
    assert_accessible(page, "look-up with an error")

    page.fill("#id_reservation_id", public_id)
    page.press("#id_reservation_id", "Enter")  # as a scanner that types the QR code's ID
    page.wait_for_url(f"**/staff/reservations/{public_id}/")
    assert page.inner_text("#reservation-state") == "有効"
    shot("reservation")
    assert_accessible(page, "reservation")

    page.click("button:text('取り消す')")
    assert "取消の理由を選んでください" in page.inner_text("main")
    assert page.inner_text("#reservation-state") == "有効"
    shot("revoke-without-reason")
    assert_accessible(page, "revoke without a reason")
    page.select_option("#id_reason", "resident_request")
    page.click("button:text('取り消す')")
    page.wait_for_url(f"**/staff/reservations/{public_id}/")
    assert "予約を取り消しました。" in page.inner_text("main")
    assert page.inner_text("#reservation-state") == "取消"
    assert "予約の取消" in page.inner_text("#history")
    shot("revoked")
    assert_accessible(page, "revoked")
    page.goto(stack.base_url + "/staff/audit/")
    assert "403" in page.title() or page.locator("#audit-records").count() == 0
    context.close()

    context = chromium.new_context(locale="ja-JP", viewport={"width": 1100, "height": 900})
    page = context.new_page()
    shot = harness.shooter(page, "staff-supervisor")
    _login(page, stack.base_url, "super1", supervisor_key, shot)
    page.click("a[href='/staff/audit/']")
    page.select_option("#id_action", "reservation_revoked")
    page.click("button:text('絞り込む')")
    rows = page.locator("#audit-records tbody tr")
    assert rows.count() == 1 and "resident_request" in rows.first.inner_text()
    shot("audit")
    assert_accessible(page, "audit log")
    with page.expect_download() as download:
        page.click("#csv-link")
    assert download.value.suggested_filename.endswith(".csv")
    context.close()
    assert "intact" in _manage(stack, "verify_audit")
