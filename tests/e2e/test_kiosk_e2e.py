"""Book in the wizard, then finish at /kiosk/ with the same simulated card, in real Chromium.

`make run`'s stack (scripts/run.sh: daphne + `myna-bridge --simulate --kiosk`). At the kiosk only
the on-screen keypad is used (a kiosk has no keyboard). axe-core checks every kiosk screen. The
card is then asked directly through the bridge: the new password verifies, the old one does
not, and the counter is full again.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e import harness
from tests.e2e.test_wizard_e2e import _skip_reason, assert_accessible
from tests.kiosk_open import hours_around_now
from tests.prerequisites import skip_or_fail

pytestmark = [pytest.mark.browser]

NEW_PASSWORD = "KIOSK123"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.Stack]:
    reason = _skip_reason()
    if reason:
        skip_or_fail(reason, what="the browser tests")
    # Open whatever the hour of the run (tests/kiosk_open.py).
    hours = hours_around_now()
    with harness.running_stack(tmp_path_factory.mktemp("stack"), extra_env=hours) as running:
        yield running


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory, stack: harness.Stack) -> Iterator[Any]:
    y4m = harness.write_y4m(tmp_path_factory.mktemp("camera") / "holder.y4m")
    with harness.browser(y4m) as instance:
        yield instance


def _book(chromium: Any, stack: harness.Stack) -> None:
    context = chromium.new_context(locale="ja-JP", viewport={"width": 1100, "height": 900})
    context.grant_permissions(["camera"], origin=stack.base_url)
    page = context.new_page()
    harness.choose(page, stack.base_url, "sign")
    harness.fill_card_face(page)
    harness.wait_for_card(page)
    harness.to_password(page)
    harness.submit_password(page, harness.DEMO["auth_pin"])
    harness.wait_for_face_page(page)
    harness.run_face_check(page)
    assert "パスワード初期化予約完了" in page.inner_text("h1")
    context.close()  # the bridge serves one page at a time


def _keypad(page: Any, field: str, value: str) -> None:
    page.click(f"#{field}")
    pad = page.locator("[data-screen]:not([hidden]) .keypad")
    for char in value:
        pad.locator(f'button[data-key="{char}"]').click()


def _screen(page: Any, name: str, timeout: float = 30000) -> None:
    page.locator(f'[data-screen="{name}"]:not([hidden])').wait_for(timeout=timeout)


def _bridge_check(url: str, origin: str, pin: str) -> dict[str, Any]:
    # Playwright's sync API keeps an event loop in this thread: run the client in another one.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _ask_bridge(url, origin, pin)).result(timeout=60)


async def _ask_bridge(url: str, origin: str, pin: str) -> dict[str, Any]:
    """VERIFY the signature password through the bridge (as any signing page would)."""
    async with harness.bridge_session(url, origin) as call:
        nonce = base64.b64encode(os.urandom(32)).decode()
        reply = await call(
            "AUTHENTICATE", purpose="myna-reset/reserve/auth", nonce=nonce, key="sign", pin=pin
        )
        status = await call("GET_CARD_STATUS")
        return {"auth": reply, "tries": status["card"]["pins"]["jpki_sign"]["tries_left"]}


def test_a_booked_reset_is_finished_at_the_kiosk_with_the_keypad(
    stack: harness.Stack, chromium: Any
) -> None:
    _book(chromium, stack)
    context = chromium.new_context(locale="ja-JP", viewport={"width": 1280, "height": 1024})
    page = context.new_page()
    shot = harness.shooter(page, "kiosk")
    page.goto(stack.base_url + "/kiosk/")
    _screen(page, "top")
    assert_accessible(page, "kiosk-top")
    shot("top")
    page.get_by_role("button", name="行政サービス", exact=True).click()
    _screen(page, "menu")
    assert_accessible(page, "kiosk-menu")
    shot("menu")
    page.get_by_role("button", name="マイナンバーカードパスワード初期化").click()
    _screen(page, "choose")
    assert_accessible(page, "kiosk-choose")
    shot("choose")
    page.get_by_role("button", name="署名用パスワード", exact=True).click()

    # The card is on the reader: identified by its user-auth certificate, the booking is found.
    _screen(page, "known")
    assert "利用者証明用パスワード" in page.inner_text("#known-title")
    assert "3回" in page.inner_text("#known-tries")
    assert_accessible(page, "kiosk-known")
    shot("known")
    _keypad(page, "known-input", "25")
    page.click("#known-next")  # malformed: refused in the page, no try spent
    assert "数字4桁" in page.inner_text("#known-error")
    page.locator('[data-screen="known"] button[data-action="clear"]').click()
    _keypad(page, "known-input", harness.DEMO["auth_pin"])
    page.click("#known-next")

    _screen(page, "new")
    assert_accessible(page, "kiosk-new")
    _keypad(page, "new-input", "ABCDEF")  # no digit: refused before anything is sent
    _keypad(page, "confirm-input", "ABCDEF")
    page.click("#new-next")
    assert "英大文字" in page.inner_text("#new-error")
    shot("new-refused")
    _keypad(page, "new-input", NEW_PASSWORD)
    _keypad(page, "confirm-input", NEW_PASSWORD)
    shot("new")
    page.click("#new-next")

    _screen(page, "done")
    assert_accessible(page, "kiosk-done")
    shot("done")
    # Nothing about the resident stays in the page.
    assert page.evaluate(
        "() => [...document.querySelectorAll('input')].every(i => i.value === '')"
    )

    # A second visit with the same card: the reservation is used.
    page.click("#done-top")
    page.get_by_role("button", name="行政サービス", exact=True).click()
    page.get_by_role("button", name="マイナンバーカードパスワード初期化").click()
    page.get_by_role("button", name="署名用パスワード", exact=True).click()
    _screen(page, "refused")
    assert "すでに使用されています" in page.inner_text("#refused-text")
    assert_accessible(page, "kiosk-refused")
    shot("refused-used")
    context.close()

    # The card itself: the new password verifies, the old one does not, the counter is full.
    fresh = _bridge_check(stack.bridge_url, stack.base_url, NEW_PASSWORD)
    assert fresh["auth"]["ok"] is True and fresh["tries"] == 5
    old = _bridge_check(stack.bridge_url, stack.base_url, harness.DEMO["sign_password"])
    assert old["auth"]["ok"] is False and old["auth"]["reason"] == "WRONG_PIN"
    again = _bridge_check(stack.bridge_url, stack.base_url, NEW_PASSWORD)
    assert again["auth"]["ok"] is True and again["tries"] == 5


def test_the_kiosk_forgets_everything_after_the_inactivity_timeout(
    stack: harness.Stack, chromium: Any
) -> None:
    context = chromium.new_context(locale="ja-JP", viewport={"width": 1280, "height": 1024})
    page = context.new_page()

    def short_timeout(route: Any) -> None:
        # The page's configured timeout (MYNA_KIOSK_IDLE_SECONDS, 90 s) shortened for the test.
        response = route.fetch()
        body = response.text().replace('"idleSeconds": 90', '"idleSeconds": 3')
        route.fulfill(response=response, body=body)

    page.route("**/kiosk/", short_timeout)
    page.goto(stack.base_url + "/kiosk/")
    page.get_by_role("button", name="行政サービス", exact=True).click()
    page.get_by_role("button", name="マイナンバーカードパスワード初期化").click()
    page.get_by_role("button", name="利用者証明用パスワード", exact=True).click()
    # No reservation for this target on the demo card: the refusal is shown...
    _screen(page, "refused")
    assert page.inner_text("#refused-text")
    # ...and after the idle time, the top screen with nothing left of it.
    _screen(page, "top", timeout=15000)
    assert page.inner_text("#refused-text") == ""
    context.close()
