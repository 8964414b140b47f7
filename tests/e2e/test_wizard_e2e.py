"""The whole reservation in real Chromium, as a resident does it, against `make run`'s stack.

daphne (free port) + `myna-bridge --simulate --allow-origin <that origin>` + Debian's Chromium
with a fake camera fed from the fixture photos. Screenshots of every step go to test-output/e2e/.
Every step is also checked with axe-core: no serious or critical violation.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import harness
from tests.prerequisites import skip_or_fail

pytestmark = [pytest.mark.browser]

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"


def _skip_reason() -> str | None:
    if not Path(harness.CHROMIUM).exists():
        return "Debian chromium is not installed"
    if not AXE.exists():
        return "axe-core missing: run scripts/setup-node.sh"
    return None


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.Stack]:
    reason = _skip_reason()
    if reason:
        skip_or_fail(reason, what="the browser tests")
    with harness.running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory, stack: harness.Stack) -> Iterator[Any]:
    y4m = harness.write_y4m(tmp_path_factory.mktemp("camera") / "holder.y4m")
    with harness.browser(y4m) as instance:
        yield instance


def assert_accessible(page: Any, where: str) -> None:
    """axe-core on what the resident sees now; serious or critical violations fail the test."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through DevTools, not as a <script> tag: the pages' Content-Security-Policy
        # (webapp/security_headers.py) rightly blocks inline scripts, and the test keeps it on.
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))"
    )
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    assert not bad, f"{where}: {bad}"


def test_a_resident_books_a_reset_and_sees_the_deadline(
    stack: harness.Stack, chromium: Any
) -> None:
    context = chromium.new_context(locale="ja-JP", viewport={"width": 1100, "height": 900})
    context.grant_permissions(["camera"], origin=stack.base_url)
    page = context.new_page()
    shot = harness.shooter(page, "booking")

    page.goto(stack.base_url + "/")
    assert_accessible(page, "home")
    shot("home")
    for path, name in (("/guide/", "guide"), ("/help/", "help")):
        page.goto(stack.base_url + path)
        assert_accessible(page, name)
        shot(name)
    # The store list on the help page comes from reservations/kiosk_stores.json (data, not code).
    assert "セブン-イレブン" in page.inner_text("#store-table")

    def at_choose() -> None:
        assert "個人番号カード用パスワード" in page.inner_text("main")
        assert_accessible(page, "choose")
        shot("choose")

    harness.choose(page, stack.base_url, "sign", at_choose=at_choose)
    shot("card-face")
    assert_accessible(page, "card-face")

    # Card-face validation happens in the page, in Japanese.
    page.fill("#birth_date", "昭和70年1月1日")
    page.fill("#security_code", "12")
    page.click("#card-face-next")
    assert "元号と年の組み合わせ" in page.inner_text("#birth_date-error")
    assert "有効期限を入力" in page.inner_text("#expiry_date-error")
    assert "4桁" in page.inner_text("#security_code-error")
    shot("card-face-errors")

    harness.fill_card_face(page)
    harness.wait_for_card(page)
    assert "マイナンバーカードが置かれています" in page.inner_text("#card-presence")
    assert_accessible(page, "reader")
    shot("reader")

    harness.to_password(page)
    rows = page.inner_text("#status-rows")
    assert "利用者証明用パスワード" in rows and "残り3回" in rows
    assert "このカードは予約できます" in page.inner_text("#route-box")
    assert_accessible(page, "status-password")
    shot("status-password")

    # Hold the evidence request so the chip step (progress bar, live status) can be seen.
    held: list[Any] = []

    def hold(route: Any) -> None:
        held.append(route)

    page.route("**/reset/evidence/", hold)
    harness.submit_password(page, harness.DEMO["auth_pin"])
    page.locator("#chip-status").filter(has_text="サーバーで確認しています").wait_for(timeout=30000)
    assert page.get_attribute("#chip-status", "aria-live") == "polite"
    assert page.evaluate("() => document.getElementById('chip-progress').value") == 85
    assert_accessible(page, "chip")
    shot("chip")
    assert len(held) == 1
    held[0].continue_()
    page.unroute("**/reset/evidence/")
    harness.wait_for_face_page(page)
    assert page.evaluate("() => (sessionStorage.getItem('myna.chipPhoto') || '').length") > 100
    assert_accessible(page, "face")
    shot("face")

    harness.run_face_check(page)
    assert "パスワード初期化予約完了" in page.inner_text("h1")
    deadline = page.inner_text("#done-deadline")
    assert "セブン-イレブン" in page.inner_text("#store-list")
    assert page.get_attribute("#ics-link", "href").endswith("/reset/reservation.ics")
    assert_accessible(page, "done")
    shot("done")

    page.goto(stack.base_url + "/")
    assert deadline in page.inner_text("#reservation-deadline")
    assert "署名用パスワード初期化予約有効期限" in page.inner_text("#reservation-deadline")
    assert_accessible(page, "home-with-deadline")
    shot("home-with-deadline")
    context.close()


def _to_password_step(chromium: Any, stack: harness.Stack, prefix: str) -> tuple[Any, Any, Any]:
    context = chromium.new_context(locale="ja-JP", viewport={"width": 1100, "height": 900})
    page = context.new_page()
    shot = harness.shooter(page, prefix)
    harness.choose(page, stack.base_url, "sign")
    harness.fill_card_face(page)
    harness.wait_for_card(page)
    harness.to_password(page)
    # Every run starts from a full counter: the previous run's right password restored it.
    assert "残り3回" in page.inner_text("#pin-tries")
    return context, page, shot


def test_a_wrong_password_shows_tries_left(stack: harness.Stack, chromium: Any) -> None:
    context, page, shot = _to_password_step(chromium, stack, "wrong-pin")

    # Client-side format check: nothing reaches the card.
    harness.submit_password(page, "12a")
    assert "数字4桁" in page.inner_text("#pin-error")
    assert "残り3回" in page.inner_text("#pin-tries")
    shot("format")

    harness.submit_password(page, "1111")
    page.locator("#pin-error").filter(has_text="残り2回").wait_for(timeout=30000)
    assert "残り2回" in page.inner_text("#pin-tries")
    assert "残り2回" in page.inner_text("#status-rows")
    assert not page.locator("#last-try-dialog").is_visible()
    assert_accessible(page, "wrong-pin")
    shot("tries-left-2")

    # The right password restores the counter on the card (no dialog: two tries were left).
    harness.submit_password(page, harness.DEMO["auth_pin"])
    harness.wait_for_face_page(page)
    shot("after-right-pin")
    context.close()


def test_at_one_try_left_the_page_asks_before_the_last_try(
    stack: harness.Stack, chromium: Any
) -> None:
    context, page, shot = _to_password_step(chromium, stack, "last-try")
    for wrong, left in (("1111", 2), ("1112", 1)):
        harness.submit_password(page, wrong)
        page.locator("#pin-error").filter(has_text=f"残り{left}回").wait_for(timeout=30000)
    assert "あと1回でロック" in page.inner_text("#status-rows")
    shot("tries-left-1")

    # One try left: the page asks before spending it; cancelling sends nothing.
    harness.submit_password(page, harness.DEMO["auth_pin"])
    dialog = page.locator("#last-try-dialog")
    dialog.wait_for(state="visible")
    assert "残りは1回" in dialog.inner_text()
    assert_accessible(page, "last-try-dialog")
    shot("last-try-dialog")
    page.click("#last-try-cancel")
    assert not dialog.is_visible()
    assert page.locator("#step-password").is_visible()
    assert "残り1回" in page.inner_text("#pin-tries")

    # Confirmed, the right password goes through (and restores the counter on the card).
    harness.submit_password(page, harness.DEMO["auth_pin"])
    dialog.wait_for(state="visible")
    page.click("#last-try-confirm")
    harness.wait_for_face_page(page)
    shot("after-last-try")
    context.close()


def test_english_pages_have_no_untranslated_text(stack: harness.Stack, chromium: Any) -> None:
    context = chromium.new_context(locale="en-US")
    page = context.new_page()
    page.set_extra_http_headers({"Accept-Language": "en"})
    page.goto(stack.base_url + "/")
    page.select_option("#lang-select", "en")
    page.click(".lang-switch button[type=submit]")
    page.wait_for_load_state()
    for path in ("/", "/guide/", "/help/", "/reset/choose/"):
        page.goto(stack.base_url + path)
        text = page.inner_text("main")
        japanese = [ch for ch in text if "\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff"]
        # Era names and the official service name may stay in Japanese; whole sentences may not.
        assert len(japanese) < 40, f"{path}: {''.join(japanese)[:80]}"
    # The card page's client-side texts come from the same catalogue.
    page.goto(stack.base_url + "/reset/choose/")
    page.get_by_role("button", name="Signature password", exact=True).click()
    page.wait_for_url("**/reset/card/")
    page.click("#card-face-next")
    assert "Enter your date of birth." in page.inner_text("#birth_date-error")
    text = page.inner_text("main")
    japanese = [ch for ch in text if "\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff"]
    assert len(japanese) < 60, "".join(japanese)[:80]
    context.close()


def _tab_to(page: Any, element_id: str, limit: int = 60) -> None:
    for _ in range(limit):
        if page.evaluate("() => document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{element_id}")


def test_the_card_steps_work_with_the_keyboard_alone(stack: harness.Stack, chromium: Any) -> None:
    context = chromium.new_context(locale="ja-JP")
    page = context.new_page()
    shot = harness.shooter(page, "keyboard")
    harness.choose(page, stack.base_url, "sign")
    # Each sub-step moves focus to its heading; from there Tab and Enter do everything.
    assert page.evaluate("() => document.activeElement.id") == "h-card_face"
    _tab_to(page, "birth_date")
    page.keyboard.type("S60.7.23")
    page.keyboard.press("Tab")
    page.keyboard.type("2034-07-23")
    page.keyboard.press("Tab")
    page.keyboard.type("4821")
    page.keyboard.press("Enter")
    page.locator("#step-reader").wait_for(state="visible")
    harness.wait_for_card(page)
    _tab_to(page, "reader-next")
    page.keyboard.press("Enter")
    page.locator("#password-form").wait_for(state="visible", timeout=20000)
    assert page.evaluate("() => document.activeElement.id") == "pin"
    page.keyboard.type(harness.DEMO["auth_pin"])
    shot("password")
    page.keyboard.press("Enter")
    harness.wait_for_face_page(page)
    _tab_to(page, "face-start")
    shot("face")
    context.close()


def test_the_app_is_installable(stack: harness.Stack, chromium: Any) -> None:
    context = chromium.new_context(locale="ja-JP")
    page = context.new_page()
    page.goto(stack.base_url + "/")
    scope = page.evaluate("async () => (await navigator.serviceWorker.ready).scope")
    assert scope == stack.base_url + "/"
    manifest = page.evaluate(
        "async () => (await fetch(document.querySelector('link[rel=manifest]').href)).json()"
    )
    for icon in manifest["icons"]:
        response = page.request.get(stack.base_url + icon["src"])
        assert response.ok and response.headers["content-type"] == "image/png"
    # Offline, a navigation falls back to the cached offline page; nothing under /reset/ is cached.
    page.reload()
    context.set_offline(True)
    page.goto(stack.base_url + "/guide/")
    assert "インターネットに接続されていません" in page.inner_text("main")
    cached = page.evaluate(
        "async () => { const out = []; for (const k of await caches.keys()) {"
        " const c = await caches.open(k); for (const r of await c.keys()) out.push(r.url); }"
        " return out; }"
    )
    paths = [url.removeprefix(stack.base_url) for url in cached]
    assert "/offline/" in paths
    assert not [path for path in paths if path.startswith(("/reset/", "/ws/"))]
    context.set_offline(False)
    context.close()


def test_without_the_bridge_the_page_says_what_to_do(stack: harness.Stack, chromium: Any) -> None:
    context = chromium.new_context(locale="ja-JP")
    page = context.new_page()
    # As if myna-bridge were not running: the connection to it is refused, until it "starts".
    bridge_running = {"yes": False}

    def bridge(ws: Any) -> None:
        if bridge_running["yes"]:
            ws.connect_to_server()
        else:
            ws.close()

    page.route_web_socket(stack.bridge_url, bridge)
    shot = harness.shooter(page, "no-bridge")
    harness.choose(page, stack.base_url, "auth")
    harness.fill_card_face(page)
    page.locator("#helper-missing").wait_for(state="visible", timeout=20000)
    assert "見つかりません" in page.inner_text("#bridge-status")
    assert "インストールしてください" in page.inner_text("#helper-missing")
    assert page.is_disabled("#reader-next")
    assert_accessible(page, "no-bridge")
    shot("missing")
    # Once it runs, "connect again" finds it.
    bridge_running["yes"] = True
    page.click("#bridge-retry")
    harness.wait_for_card(page)
    # This run resets the 利用者証明用 PIN, so the 署名用 password is the one asked for.
    harness.to_password(page)
    assert "署名用パスワード" in page.inner_text("#pin-label")
    assert "対応しているキオスク端末(店舗)は限られます" in page.inner_text("#route-box")
    harness.submit_password(page, harness.DEMO["sign_password"].lower())
    harness.wait_for_face_page(page)
    shot("auth-reset-face")
    context.close()


def test_the_camera_option_reads_a_still_and_keeps_the_manual_form(
    stack: harness.Stack, chromium: Any
) -> None:
    context = chromium.new_context(locale="ja-JP")
    context.grant_permissions(["camera"], origin=stack.base_url)
    page = context.new_page()
    shot = harness.shooter(page, "camera")
    harness.choose(page, stack.base_url, "sign")
    page.click("#cardface-camera")
    area = page.locator("#cardface-camera-area")
    capture = area.get_by_role("button", name="撮影する", exact=True)
    page.locator("#cardface-camera-area button.primary:not([disabled])").wait_for(timeout=20000)
    assert_accessible(page, "camera")
    shot("camera-open")
    with page.expect_response("**/reset/cardface/") as answer:
        capture.click()
    # The fake camera shows a face, not a card: the server says so, the form stays usable.
    assert answer.value.status == 200
    assert answer.value.json().get("ok") is False
    assert page.is_editable("#birth_date") and page.is_editable("#security_code")
    shot("camera-answer")
    context.close()
