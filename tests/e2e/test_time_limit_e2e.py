"""Time that can be extended (WCAG 2.2.1, issue 18), in real Chromium against `make run`'s stack.

The stack runs with the shortest wizard lifetime settings allow (60 s) and a 50 s warning, so the
warning shows about ten seconds into the wizard: no minutes of waiting, and the server's own
limit (reset/wizard_state.py) is the one the page counts down.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e import harness
from tests.e2e.test_wizard_e2e import _axe, _skip_reason
from tests.prerequisites import skip_or_fail

pytestmark = [pytest.mark.browser]

LIFETIME = {"MYNA_WIZARD_MAX_AGE_SECONDS": "60", "MYNA_WIZARD_WARN_SECONDS": "50"}


@pytest.fixture(scope="module")
def short_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.Stack]:
    reason = _skip_reason()
    if reason:
        skip_or_fail(reason, what="the browser tests")
    with harness.running_stack(tmp_path_factory.mktemp("stack"), extra_env=LIFETIME) as running:
        yield running


def test_more_time_keeps_the_residents_place(
    short_stack: harness.Stack, tmp_path_factory: pytest.TempPathFactory
) -> None:
    y4m = harness.write_y4m(tmp_path_factory.mktemp("camera") / "holder.y4m", seconds_per_pose=0.2)
    with harness.browser(y4m) as chromium:
        context = chromium.new_context(locale="ja-JP", viewport={"width": 320, "height": 480})
        page = context.new_page()
        shot = harness.shooter(page, "more-time")
        harness.choose(page, short_stack.base_url, "sign")
        page.fill("#birth_date", harness.DEMO["birth_date"])
        page.fill("#security_code", harness.DEMO["security_code"])
        page.focus("#security_code")

        # Before the time runs out: a modal alert dialog, focus on "more time", the time left.
        dialog = page.locator("#time-dialog")
        dialog.wait_for(state="visible", timeout=45000)
        assert dialog.get_attribute("role") == "alertdialog"
        assert "まもなく時間切れ" in dialog.inner_text()
        assert page.evaluate("() => document.activeElement.id") == "time-extend"
        assert "秒" in page.inner_text("#time-left")
        _axe(page, "time dialog at 320px")
        shot("warning")

        with page.expect_response("**/reset/more-time/") as answer:
            page.keyboard.press("Enter")
        body = answer.value.json()
        assert body["ok"] is True and body["step"] == "card_face"
        assert body["seconds_left"] > 50 and body["extensions_left"] == 9
        dialog.wait_for(state="hidden")
        # Back where the resident was, with what they typed; the change is announced.
        assert page.evaluate("() => document.activeElement.id") == "security_code"
        assert page.input_value("#birth_date") == harness.DEMO["birth_date"]
        assert page.input_value("#security_code") == harness.DEMO["security_code"]
        assert "延長しました" in page.inner_text("#time-announce")
        shot("extended")

        # The server kept its place too: the card-face step goes on from here.
        page.fill("#expiry_date", harness.DEMO["expiry_date"])
        page.click("#card-face-next")
        page.locator("#step-reader").wait_for(state="visible")

        # When the wizard is gone on the server (here: abandoned in another tab), "more time"
        # cannot bring it back: the dialog says the time is up and offers the way to the menu.
        token = page.input_value("#csrf-token")
        page.request.post(
            short_stack.base_url + "/reset/cancel/", form={"csrfmiddlewaretoken": token}
        )
        dialog.wait_for(state="visible", timeout=45000)  # the next warning, 50 s before the end
        page.keyboard.press("Enter")
        page.locator("#time-restart").wait_for(state="visible")
        assert "時間切れになりました" in page.inner_text("#time-dialog-title")
        assert page.evaluate("() => document.activeElement.id") == "time-restart"
        assert page.locator("#time-extend").is_hidden()
        shot("expired")
        page.keyboard.press("Enter")
        page.wait_for_url(short_stack.base_url + "/")
        context.close()
