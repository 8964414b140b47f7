"""An assisted booking in real Chromium, in two pages: the resident at the counter terminal and
the clerk's console (issue 12, "Assisted booking").

The fake camera shows someone else (biden.jpg) than the demo card's chip photo (obama.jpg), so
the real face check fails; the clerk is shown the chip photo, records the in-person check, and
the resident's page books. The clerk's page and every text message its socket received are
checked for the PIN and the card-face items. Screenshots: test-output/e2e/assisted-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django_otp.oath import totp

from tests.e2e import harness, test_staff_e2e
from tests.e2e.test_staff_e2e import PASSWORD, _staff_user
from tests.e2e.test_wizard_e2e import assert_accessible

pytestmark = [pytest.mark.browser]

#: The staff tests' stack fixture (scripts/run.sh on free ports; its database path as db_name).
stack = test_staff_e2e.stack

#: What the resident types and the clerk must never see: the PIN and the card-face items.
SECRETS = (
    harness.DEMO["auth_pin"],
    harness.DEMO["security_code"],
    harness.DEMO["birth_date"],
    harness.DEMO["expiry_date"],
    "1985/07/23",
    "1985-07-23",
    "2034-07-23",
)
UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")


@pytest.fixture(scope="module")
def chromium_other_face(
    tmp_path_factory: pytest.TempPathFactory, stack: harness.Stack
) -> Iterator[Any]:
    """Chromium whose fake camera shows a different person than the chip photo."""
    poses = (("biden", False),) * 4
    y4m = harness.write_y4m(tmp_path_factory.mktemp("camera") / "other.y4m", poses=poses)
    with harness.browser(y4m) as instance:
        yield instance


def _without_ids(text: str, code: str) -> str:
    """Drop UUIDs and the join code: random digits that might contain a 4-digit secret."""
    return UUID.sub("", text).replace(code, "")


def test_a_failed_face_check_is_completed_in_person_by_the_clerk(
    stack: harness.Stack, chromium_other_face: Any
) -> None:
    key = _staff_user(stack, "clerk1", "clerk")

    # The clerk's console.
    desk = chromium_other_face.new_context(locale="ja-JP", viewport={"width": 1100, "height": 900})
    clerk = desk.new_page()
    clerk_shot = harness.shooter(clerk, "assisted-clerk")
    frames: list[str] = []
    clerk.on(
        "websocket",
        lambda ws: ws.on(
            "framereceived",
            lambda payload: frames.append(payload) if isinstance(payload, str) else None,
        ),
    )
    clerk.goto(stack.base_url + "/staff/login/")
    clerk.fill("#id_username", "clerk1")
    clerk.fill("#id_password", PASSWORD)
    clerk.fill("#id_otp_token", f"{totp(key):06d}")
    clerk.click("button[type=submit]:text('ログイン')")
    clerk.wait_for_url(stack.base_url + "/staff/")
    clerk.click("a[href='/staff/assisted/']")
    clerk.click("#assisted-new")
    clerk.wait_for_url("**/staff/assisted/*/")
    code = clerk.inner_text("#join-code").strip()
    assert re.fullmatch(r"[0-9]{8}", code)
    clerk.locator("#assisted-terminal").filter(has_text="端末の接続を待っています").wait_for()
    assert_accessible(clerk, "console waiting")
    clerk_shot("waiting")

    # The counter terminal joins with the code and runs the wizard.
    counter = chromium_other_face.new_context(
        locale="ja-JP", viewport={"width": 1100, "height": 900}
    )
    counter.grant_permissions(["camera"], origin=stack.base_url)
    resident = counter.new_page()
    shot = harness.shooter(resident, "assisted-resident")
    resident.goto(stack.base_url + "/assisted/")
    assert_accessible(resident, "join")
    resident.fill("#id_code", code)
    resident.click("button[type=submit]:text('手続きを始める')")
    resident.wait_for_url("**/reset/choose/")
    assert resident.locator("#assisted-banner").is_visible()
    clerk.locator("#assisted-terminal").filter(has_text="端末が接続されています").wait_for()

    harness.choose(resident, stack.base_url, "sign")
    harness.fill_card_face(resident)
    clerk.locator("#assisted-reader").filter(has_text="カードが置かれるのを待っています").wait_for()
    harness.wait_for_card(resident)
    harness.to_password(resident)
    clerk.locator("#assisted-step").filter(has_text="パスワード入力").wait_for()
    # The known password's tries left, as the card told the terminal's page (a count only).
    clerk.locator("#assisted-pin-tries").filter(has_text=re.compile(r"^[1-3]$")).wait_for()
    harness.submit_password(resident, harness.DEMO["auth_pin"])
    harness.wait_for_face_page(resident)
    clerk.locator("#assisted-reader").filter(
        has_text="ICチップの読み取りと検証が済みました"
    ).wait_for()
    assert clerk.inner_text("#assisted-step") == "顔認証"

    # A different face: the real check fails; the console sees it and offers the in-person check.
    resident.click("#face-start")
    resident.locator("#face-retry").wait_for(state="visible", timeout=180000)
    shot("face-failed")
    clerk.locator("#in-person").wait_for(state="visible", timeout=30000)
    assert clerk.inner_text("#assisted-face").startswith("失敗")
    assert re.fullmatch(r"[0-9]+", clerk.inner_text("#assisted-tries").strip())
    clerk.click("#show-photo")
    clerk.locator("#photo-figure").wait_for(state="visible", timeout=30000)
    assert clerk.evaluate(
        "() => { const i = document.getElementById('chip-photo');"
        " return i.complete && i.naturalWidth > 0 && i.src.startsWith('blob:'); }"
    )
    assert_accessible(clerk, "console with the chip photo")
    clerk_shot("photo")

    # Recorded by the clerk: the resident's page books by itself.
    clerk.select_option("#id_document_type", "drivers_license")
    clerk.select_option("#id_reason", "appearance_changed")
    clerk.click("#in-person-submit")
    resident.wait_for_url(lambda url: "/reset/reservation/" in url, timeout=60000)
    assert "パスワード初期化予約完了" in resident.inner_text("h1")
    shot("done")
    clerk.locator("#assisted-booked").wait_for(state="visible", timeout=30000)
    assert "対面確認を記録しました" in clerk.inner_text("main")
    assert clerk.locator("#photo-figure").is_hidden()  # the photo went with the page
    clerk_shot("booked")
    console_text = clerk.inner_text("body")
    clerk.click("#assisted-booked-link")
    clerk.wait_for_url("**/staff/reservations/*/")
    face = clerk.inner_text("#reservation-face-check")
    assert "窓口職員による対面確認" in face and "運転免許証" in face
    assert "窓口での本人確認" in clerk.inner_text("#history")
    clerk_shot("reservation")

    # Nothing the resident typed reached the clerk: not on the pages, not over the socket.
    assert frames, "the console received no message"
    seen = _without_ids("\n".join([console_text, clerk.content(), *frames]), code)
    for secret in SECRETS:
        assert secret not in seen, secret
    desk.close()
    counter.close()
