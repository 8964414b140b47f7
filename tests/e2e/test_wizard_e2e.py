"""The whole reservation in real Chromium, as a resident does it, against `make run`'s stack.

daphne (free port) + `myna-bridge --simulate --allow-origin <that origin>` + Debian's Chromium
with a fake camera fed from the fixture photos. Screenshots of every step go to test-output/e2e/.
Every step is also checked with axe-core's WCAG 2.2 A/AA rules, at 100 %, 200 % and 400 % zoom
without horizontal scrolling (issue 18).
"""

from __future__ import annotations

import json
import re
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


#: axe-core's rule tags for WCAG 2.2 level A and AA (issue 18).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
#: Browser zoom as CSS pixels: 100 % and 200 % of a 1280×1024 screen, and 400 % (320 px wide,
#: WCAG 1.4.10 reflow). Zooming changes the CSS viewport exactly like this.
ZOOMS = {"100%": (1280, 1024), "200%": (640, 512), "320px": (320, 256)}


def _axe(page: Any, where: str) -> None:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through DevTools, not as a <script> tag: the pages' Content-Security-Policy
        # (webapp/security_headers.py) rightly blocks inline scripts, and the test keeps it on.
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))",
        WCAG_TAGS,
    )
    assert not result, f"{where}: {result}"


def _no_horizontal_scroll(page: Any, where: str) -> None:
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"{where}: scrolls sideways {widths}"


def assert_accessible(page: Any, where: str, *, zooms: bool = False) -> None:
    """axe-core's WCAG 2.2 A/AA rules on what the resident sees now; with `zooms`, also at 200 %
    and 400 % zoom, each without horizontal scrolling (the viewport is put back afterwards)."""
    if not zooms:
        _axe(page, where)
        return
    before = page.viewport_size
    try:
        for zoom, (width, height) in ZOOMS.items():
            page.set_viewport_size({"width": width, "height": height})
            _no_horizontal_scroll(page, f"{where} at {zoom}")
            _axe(page, f"{where} at {zoom}")
    finally:
        page.set_viewport_size(before)


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
        # The pictures (our own SVGs) load.
        assert page.evaluate(
            "() => [...document.images].length > 0 &&"
            " [...document.images].every(i => i.complete && i.naturalWidth > 0)"
        ), name
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
    # A fixed field stops being red at once; the others stay marked until they are fixed too.
    page.fill("#security_code", "4821")
    assert page.inner_text("#security_code-error") == ""
    assert page.get_attribute("#security_code", "aria-invalid") is None
    assert page.get_attribute("#birth_date", "aria-invalid") == "true"
    assert "元号と年の組み合わせ" in page.inner_text("#birth_date-error")

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
    # Nothing to cancel on the card any more: the button the script hid is not shown.
    assert page.locator("#chip-cancel").is_hidden()
    assert_accessible(page, "chip", zooms=True)
    shot("chip")
    assert len(held) == 1
    held[0].continue_()
    page.unroute("**/reset/evidence/")
    harness.wait_for_face_page(page)
    assert page.evaluate("() => (sessionStorage.getItem('myna.chipPhoto') || '').length") > 100
    # Where the resident is: the stepper stays, focus starts at the heading.
    assert page.get_attribute("[data-step-marker=face]", "aria-current") == "step"
    assert page.evaluate("() => document.activeElement.id") == "face-heading"
    # The prompt icon is a picture (SVG), not an emoji a font may lack.
    assert page.inner_text("#face-prompt-icon").strip() == ""
    icon = page.locator("#face-prompt-icon svg").bounding_box()
    assert icon is not None and icon["width"] >= 40
    assert_accessible(page, "face", zooms=True)
    shot("face")

    # Every progress line the resident is shown during the check (issue 14: 「指示 1 / 3：2 / 3」
    # was cryptic): recorded as it changes, since the page moves on by itself at the end.
    progress_lines: list[str] = []
    page.expose_function("recordFaceProgress", lambda line: progress_lines.append(line))
    page.evaluate(
        "() => { const p = document.getElementById('face-progress');"
        " new MutationObserver(() => window.recordFaceProgress(p.textContent))"
        ".observe(p, {childList: true, characterData: true, subtree: true}); }"
    )
    harness.run_face_check(page)
    prompts = [line for line in progress_lines if "指示" in line]
    assert prompts, progress_lines
    for line in prompts:
        assert not re.search(r"指示\s*\d+\s*/\s*\d+\s*[：:]", line), line
        assert "個の指示のうち" in line and "個目" in line, line
    assert "パスワード初期化予約完了" in page.inner_text("h1")
    assert page.locator(".stepper li.done").count() == 5
    assert page.evaluate("() => document.activeElement.id") == "done-heading"
    deadline = page.inner_text("#done-deadline")
    assert "セブン-イレブン" in page.inner_text("#store-list")
    assert "/reset/reservation.ics?id=" in page.get_attribute("#ics-link", "href")
    assert_accessible(page, "done", zooms=True)
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
    page.fill("#pin", "1111")  # the format is right now: the format error goes at once
    assert page.inner_text("#pin-error") == ""
    assert page.get_attribute("#pin", "aria-invalid") is None

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
    # Back from the face page: not a cached, empty card page whose 次へ then fails, but the
    # server's answer: the resident is at the face step (the pages are never cached).
    page.go_back()
    page.wait_for_url("**/reset/face/")
    page.locator("#face-start").wait_for(state="visible")

    # Without the chip photo (another tab, Back/Forward) the page offers the way back to it.
    page.evaluate("() => sessionStorage.clear()")
    page.reload()
    page.locator("#face-reread").wait_for(state="visible")
    assert "カードの読み取りからやり直してください" in page.inner_text("#face-error")
    assert page.locator("#face-start").is_hidden()
    shot("no-photo")
    page.click("#face-reread button")
    page.wait_for_url("**/reset/card/")
    assert page.locator("#step-card_face").is_visible()
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
    # The card picture's labels are not covered by the value bars in English either.
    label = page.locator("#card-svg-address").bounding_box()
    value = page.locator("#card-svg-address-value").bounding_box()
    assert label is not None and value is not None
    assert label["x"] + label["width"] <= value["x"], (label, value)
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


# Recorded in the page (issue 18): every text handed to speechSynthesis.speak, every text that
# appears in an aria-live region, and every tone started. The page's own calls go through; the
# wrappers only report them to the test (window.__a11yRecord, a Playwright binding).
A11Y_RECORDER = """
(() => {
  const record = (kind, value) => { try { window.__a11yRecord(kind, value); } catch (e) {} };
  if (window.speechSynthesis) {
    const speak = window.speechSynthesis.speak.bind(window.speechSynthesis);
    window.speechSynthesis.speak = (u) => {
      record("spoken", {text: u.text, lang: u.lang});
      return speak(u);
    };
  }
  if (window.AudioContext) {
    const create = AudioContext.prototype.createOscillator;
    AudioContext.prototype.createOscillator = function () {
      record("tone", {});
      return create.call(this);
    };
  }
  new MutationObserver((records) => {  // what each live region says after each change
    const changed = new Set();
    for (const r of records) {
      const node = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      const live = node && node.closest("[aria-live]");
      if (live) changed.add(live);
    }
    for (const live of changed) {
      const text = live.textContent.trim();
      if (text) record("live", {id: live.id, text});
    }
  }).observe(document, {subtree: true, childList: true, characterData: true});
})();
"""


def test_the_whole_booking_works_with_the_keyboard_alone(
    stack: harness.Stack, chromium: Any
) -> None:
    context = chromium.new_context(locale="ja-JP")
    context.grant_permissions(["camera"], origin=stack.base_url)
    page = context.new_page()
    records: list[tuple[str, dict[str, str]]] = []
    page.expose_function("__a11yRecord", lambda kind, value: records.append((kind, value)))
    page.add_init_script(A11Y_RECORDER)
    server: list[dict[str, Any]] = []  # what /ws/face/ said to the page

    def on_socket(ws: Any) -> None:
        if "/ws/face/" in ws.url:
            ws.on("framereceived", lambda payload: server.append(json.loads(payload)))

    page.on("websocket", on_socket)
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
    assert "{#" not in page.inner_text("body")  # no template comment shows as text

    # The face step by keyboard as well: speech on, the slow pace, both remembered by the page.
    assert not page.is_checked("#face-voice")  # off by default away from the counter
    _tab_to(page, "face-voice")
    page.keyboard.press("Space")
    _tab_to(page, "face-pace-standard")
    page.keyboard.press("ArrowDown")
    assert page.is_checked("#face-pace-slow")
    page.reload()
    assert page.is_checked("#face-voice") and page.is_checked("#face-pace-slow")
    _tab_to(page, "face-start")
    shot("face")
    page.keyboard.press("Enter")
    # While it runs: the face's place in words, the prompt's time, 「時間を延ばす」 focused.
    page.locator("#face-where:not(:empty)").wait_for(timeout=60000)
    assert page.evaluate("() => document.activeElement.id") == "face-more-time"
    page.keyboard.press("Enter")  # more time (WCAG 2.2.1), given by the server
    # Read from the recorder, not from the region: the next prompt or time warning takes the
    # region's text at once, and on a loaded machine that came before a look at the region did.
    harness.wait_until(
        page,
        lambda: any(k == "live" and v["id"] == "face-announce" and "時間を延ばしました" in v["text"]
                    for k, v in records),
        timeout=60, what=lambda: [v for k, v in records if k == "live"],
    )
    shot("face-running")
    page.wait_for_url(lambda url: "/reset/reservation/" in url, timeout=120000)
    assert "パスワード初期化予約完了" in page.inner_text("h1")
    shot("done")

    # The server chose the prompts' order and applied the pace the page named.
    ready = next(m for m in server if m["type"] == "ready")
    assert ready["seconds"] == 45  # 3 × 15 s to calibrate: "slow", decided by the server
    prompts = [m for m in server if m["type"] == "prompt"]
    assert [m["prompt"] for m in prompts] == ready["prompts"]
    assert {m["seconds"] for m in prompts} == {36}
    extended = [m for m in server if m["type"] == "time"]
    assert len(extended) == 1 and extended[0]["extended"] is True, extended
    # The phase's own time once more: 36 s of a prompt, or 45 s if still calibrating.
    assert 36 < extended[0]["seconds"] <= 90
    texts = [m["text"] for m in prompts]
    # Each prompt, in the server's order, was put in the aria-live region as text and spoken.
    announced = [v["text"] for k, v in records if k == "live" and v["id"] == "face-announce"]
    assert [t for t in announced if t in texts] == texts, announced
    spoken = [v for k, v in records if k == "spoken"]
    assert [v["text"] for v in spoken if v["text"] in texts] == texts, spoken
    assert {v["lang"] for v in spoken} == {"ja-JP"}
    assert "顔認証が完了しました。次の画面に進みます。" in [v["text"] for v in spoken]
    # Where the face is, said in words in its own live region (the clip keeps it in the oval).
    placed = [m["text"] for m in server if m["type"] == "placement"]
    assert placed and placed[0] in [v["text"] for k, v in records if k == "live"]
    # Tones: "hold still" and "done" for each prompt at least.
    assert sum(1 for k, _ in records if k == "tone") >= 2 * len(texts)
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
    # Before the first capture there is nothing to retake.
    assert area.get_by_role("button", name="もう一度撮影する").is_hidden()
    assert_accessible(page, "camera")
    shot("camera-open")
    # The first read in a fresh server loads the OCR engine (26 s seen on a busy machine).
    with page.expect_response("**/reset/cardface/", timeout=90000) as answer:
        capture.click()
    # The fake camera shows a face, not a card: the server says so, the form stays usable.
    assert answer.value.status == 200
    assert answer.value.json().get("ok") is False
    assert page.is_editable("#birth_date") and page.is_editable("#security_code")
    shot("camera-answer")
    context.close()


def _book(page: Any, base_url: str, target: str) -> None:
    harness.to_face_page(page, base_url, target)
    # The tries left are said before 開始, and a pass uses none up (issue 14, major 3).
    assert "あと 3 回試せます" in page.inner_text("#face-attempts")
    harness.run_face_check(page)


def test_back_after_booking_and_a_second_booking_tell_the_truth(
    stack: harness.Stack, chromium: Any
) -> None:
    context = chromium.new_context(locale="ja-JP", viewport={"width": 1100, "height": 900})
    context.grant_permissions(["camera"], origin=stack.base_url)
    page = context.new_page()
    shot = harness.shooter(page, "truthful")
    _book(page, stack.base_url, "sign")
    booked_url = page.url
    # Back after booking: the booking stays finished, nothing says it was interrupted.
    page.go_back()
    page.wait_for_load_state()
    shot("back-after-booking")
    assert page.url == booked_url
    assert "中断されました" not in page.inner_text("body")
    assert "パスワード初期化予約完了" in page.inner_text("h1")
    page.go_back()
    page.wait_for_load_state()
    assert "中断されました" not in page.inner_text("body")

    # A second booking, of the other password: home shows both, each with its type and deadline.
    _book(page, stack.base_url, "auth")
    page.goto(stack.base_url + "/")
    shown = page.inner_text("#reservation-deadline")
    assert "署名用パスワード初期化予約有効期限" in shown
    assert "利用者証明用パスワード初期化予約有効期限" in shown
    assert page.locator("#reservation-deadline time").count() == 2
    assert_accessible(page, "home-with-two-deadlines")
    shot("home-two-deadlines")
    # A third booking would replace one of them: the choice says so beside each password.
    page.click("#start-reservation")
    page.wait_for_url("**/reset/choose/")
    for target in ("sign", "auth"):
        assert "同じカードでもう一度予約すると" in page.inner_text(f"#{target}-booked")
    assert_accessible(page, "choose-with-bookings")
    shot("choose-with-bookings")
    context.close()


def test_a_locked_password_stops_the_read_without_a_running_progress_bar(
    stack: harness.Stack, chromium: Any
) -> None:
    context = chromium.new_context(locale="ja-JP", viewport={"width": 1100, "height": 900})
    page = context.new_page()
    # The card locks its password on the third wrong try; the simulated card must stay usable for
    # the other tests, so the bridge's answer to the read is the one a locked card gives.

    def bridge(ws: Any) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            body = json.loads(message)
            if body.get("cmd") == "RESERVE":
                ws.send(json.dumps({
                    "msg": "EVIDENCE", "id": body["id"], "ok": False, "reason": "PIN_BLOCKED",
                    "pin": "jpki_auth", "tries_left": 0,
                }))
                return
            server.send(message)

        ws.on_message(from_page)

    page.route_web_socket(stack.bridge_url, bridge)
    shot = harness.shooter(page, "locked")
    harness.choose(page, stack.base_url, "sign")
    harness.fill_card_face(page)
    harness.wait_for_card(page)
    harness.to_password(page)
    harness.submit_password(page, "1111")
    page.locator("#chip-error").filter(has_text="ロック").wait_for(timeout=30000)
    shot("locked")
    assert page.locator("#chip-progress").is_hidden()
    assert page.locator("#chip-status").is_hidden()
    assert page.locator("#chip-cancel").is_hidden()
    assert "読み取っています" not in page.inner_text("#step-chip")
    assert "動かさないで" not in page.inner_text("#step-chip")
    assert_accessible(page, "locked")
    context.close()


def test_the_card_sub_steps_have_an_in_page_back(stack: harness.Stack, chromium: Any) -> None:
    context = chromium.new_context(locale="ja-JP", viewport={"width": 1100, "height": 900})
    page = context.new_page()
    shot = harness.shooter(page, "back")
    harness.choose(page, stack.base_url, "sign")
    harness.fill_card_face(page)
    harness.wait_for_card(page)
    harness.to_password(page)
    page.click("#back-from-password")
    assert page.locator("#step-reader").is_visible()
    assert page.evaluate("() => document.activeElement.id") == "h-reader"
    page.click("#back-from-reader")
    assert page.locator("#step-card_face").is_visible()
    # The items come back from page memory, so one can be corrected without retyping the rest.
    assert page.input_value("#security_code") == harness.DEMO["security_code"]
    assert "1985" in page.inner_text("#birth_date-both")
    shot("back-to-card-face")
    page.click("#card-face-next")
    page.locator("#step-reader").wait_for(state="visible")
    harness.wait_for_card(page)
    harness.to_password(page)  # the server did not lose its place
    assert page.locator("#pin").is_visible()
    context.close()


def test_the_card_face_items_are_checked_on_the_card_before_the_password(
    stack: harness.Stack, chromium: Any
) -> None:
    """Issue 14: a wrong item is found when the card is placed, not after the PIN and chip read;
    the last 照合番号B try is asked for first; a language switch or reload says what it loses."""
    context = chromium.new_context(locale="ja-JP", viewport={"width": 1100, "height": 900})
    page = context.new_page()
    sent: list[dict[str, Any]] = []
    one_pin_b_try_left = {"on": False}
    card_moves_at_the_check = {"on": False}

    # The real bridge and simulated card answer; the page's commands are recorded, and for the
    # last-try part the card status is made to say 照合番号B has one try left (the shared demo
    # card cannot be brought down to one try without risking the other tests).
    def bridge(ws: Any) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            body = json.loads(message)
            sent.append(body)
            if card_moves_at_the_check["on"] and body["cmd"] == "CHECK_CARD_FACE_ITEMS":
                card_moves_at_the_check["on"] = False
                ws.send(json.dumps({
                    "msg": "CARD_FACE_ITEMS", "id": body["id"], "ok": False,
                    "reason": "CARD_REMOVED", "fix": "カードをもう一度置いてください。",
                }))
                return
            server.send(message)

        def from_bridge(message: str | bytes) -> None:
            body = json.loads(message)
            if one_pin_b_try_left["on"] and body.get("msg") == "CARD_STATUS" and body.get("ok"):
                body["card"]["pins"]["visual_pin_b"]["tries_left"] = 1
                message = json.dumps(body)
            ws.send(message)

        ws.on_message(from_page)
        server.on_message(from_bridge)

    page.route_web_socket(stack.bridge_url, bridge)
    shot = harness.shooter(page, "card-face-check")
    harness.choose(page, stack.base_url, "sign")

    # A language switch asks before it empties the form, in both languages.
    page.fill("#birth_date", "S60.7.23")
    page.select_option("#lang-select", "en")
    page.click(".lang-switch button[type=submit]")
    dialog = page.locator("#lang-switch-dialog")
    dialog.wait_for(state="visible")
    assert "券面情報とパスワードは消えます" in dialog.inner_text()
    assert "are lost" in page.inner_text("#lang-switch-text [lang=en]")
    assert_accessible(page, "lang-switch-dialog")
    shot("lang-switch-dialog")
    page.click("#lang-switch-stay")
    assert page.input_value("#birth_date") == "S60.7.23"
    assert page.evaluate("() => document.documentElement.lang") == "ja"
    # A reload loses it too, and the page says so afterwards (only a flag was kept, no value).
    page.reload()
    page.locator("#card-reloaded").wait_for(state="visible")
    assert page.input_value("#birth_date") == ""
    assert "S60" not in page.evaluate("() => JSON.stringify(sessionStorage)")

    # A wrong security code: found as soon as the card is placed, before any password.
    page.fill("#birth_date", harness.DEMO["birth_date"])
    page.fill("#expiry_date", harness.DEMO["expiry_date"])
    page.fill("#security_code", "4812")
    page.click("#card-face-next")
    harness.wait_for_card(page)
    page.click("#reader-next")
    page.locator("#step-card_face").wait_for(state="visible", timeout=30000)
    message = page.inner_text("#card-face-error")
    assert "生年月日・有効期限・セキュリティコードのいずれか" in message
    assert "どの項目が違うかは分かりません" in message and "あと9回" in message
    assert page.locator("#password-form").is_hidden()
    assert [m["cmd"] for m in sent if m["cmd"] in ("RESERVE", "AUTHENTICATE")] == []
    # What was typed comes back as typed (和暦 stays 和暦), so only the wrong item is retyped.
    assert page.input_value("#birth_date") == harness.DEMO["birth_date"]
    assert page.input_value("#security_code") == "4812"
    assert_accessible(page, "wrong-card-face-item")
    shot("wrong-item")

    # One 照合番号B try left: the page asks first; declining sends nothing to the card.
    def checks() -> list[dict[str, Any]]:
        return [m for m in sent if m["cmd"] == "CHECK_CARD_FACE_ITEMS"]

    one_pin_b_try_left["on"] = True
    page.fill("#security_code", harness.DEMO["security_code"])
    page.click("#card-face-next")
    harness.wait_for_card(page)
    page.click("#reader-next")
    last_try = page.locator("#last-try-dialog")
    last_try.wait_for(state="visible", timeout=30000)
    assert "照合番号B" in last_try.inner_text() and "残りは1回" in last_try.inner_text()
    shot("last-pin-b-try")
    page.click("#last-try-cancel")
    page.locator("#step-card_face").wait_for(state="visible")
    assert len(checks()) == 1
    page.click("#card-face-next")
    harness.wait_for_card(page)
    page.click("#reader-next")
    last_try.wait_for(state="visible", timeout=30000)
    page.click("#last-try-confirm")
    page.locator("#password-form").wait_for(state="visible", timeout=30000)
    one_pin_b_try_left["on"] = False
    assert len(checks()) == 2 and checks()[-1]["confirm_last_try"] is True
    assert "一致しました" in page.inner_text("#status-progress")
    assert page.locator("#card-reloaded").is_hidden()  # typed again: no longer true
    assert "{#" not in page.inner_text("body")  # no template comment shows as text
    # The right items restored the counter on the card (the real bridge's answer).
    assert "残り10回" in page.locator("#status-rows tr", has_text="照合番号B").inner_text()
    shot("items-match")

    # The card moved during the check: nothing is known about the items; the page says so and
    # offers the check again, without a way round it to the password.
    page.click("#back-from-password")
    harness.wait_for_card(page)
    card_moves_at_the_check["on"] = True
    page.click("#reader-next")
    page.locator("#status-retry").wait_for(state="visible", timeout=30000)
    assert "照合できませんでした" in page.inner_text("#status-progress")
    assert page.locator("#password-form").is_hidden()
    page.click("#status-retry")
    page.locator("#password-form").wait_for(state="visible", timeout=30000)
    assert page.locator("#status-retry").is_hidden()
    context.close()


def _rendered_error_page(name: str) -> str:
    """500.html and 503.html as the server's handler renders them (a crash cannot be ordered)."""
    from django.template import loader

    return loader.get_template(name).render({"home": "/"})


@pytest.mark.parametrize("zoom", list(ZOOMS))
def test_every_resident_page_passes_axe_and_reflows(
    stack: harness.Stack, chromium: Any, zoom: str
) -> None:
    """Every resident page at one zoom: axe-core's WCAG 2.2 A/AA rules, no sideways scrolling.

    The chip, face and done pages need a booking: the booking walk above checks them at every
    zoom. Here the card page goes as far as the password form, which spends no try.
    """
    width, height = ZOOMS[zoom]
    context = chromium.new_context(locale="ja-JP", viewport={"width": width, "height": height})
    page = context.new_page()

    def check(where: str) -> None:
        _no_horizontal_scroll(page, f"{where} at {zoom}")
        _axe(page, f"{where} at {zoom}")

    for path in ("/", "/guide/", "/help/", "/offline/", "/no-such-page/"):
        page.goto(stack.base_url + path)
        check(path)
    for name in ("500.html", "503.html"):
        body = _rendered_error_page(name)
        page.route(f"**/{name}", lambda route, body=body: route.fulfill(
            body=body, content_type="text/html; charset=utf-8"))
        page.goto(f"{stack.base_url}/{name}")
        check(name)
    harness.choose(page, stack.base_url, "sign", at_choose=lambda: check("choose"))
    check("card-face")
    page.click("#card-face-next")  # empty: every item's error, and focus on the first
    assert page.evaluate("() => document.activeElement.id") == "birth_date"
    check("card-face errors")
    harness.fill_card_face(page)
    harness.wait_for_card(page)
    check("reader")
    harness.to_password(page)
    check("password")
    # A server-side error message takes the focus, so it is read out and seen at any zoom.
    page.goto(stack.base_url + "/reset/choose/")
    with page.expect_navigation():
        page.evaluate("() => document.querySelector('.choose-form').submit()")  # no target
    assert page.evaluate("() => document.activeElement.classList.contains('messages')")
    assert "選んでください" in page.inner_text(".messages")
    check("choose error")
    # A form sent without its CSRF cookie (expired, another tab): the resident's 403 page.
    page.goto(stack.base_url + "/reset/choose/")
    context.clear_cookies()
    page.get_by_role("button", name="署名用パスワード", exact=True).click()
    assert "画面の有効期限が切れました" in page.inner_text("h1")
    check("403 csrf")
    context.close()


def test_the_high_contrast_mode_is_remembered_across_pages(
    stack: harness.Stack, chromium: Any
) -> None:
    context = chromium.new_context(locale="ja-JP", viewport={"width": 320, "height": 256})
    page = context.new_page()
    shot = harness.shooter(page, "contrast")
    page.goto(stack.base_url + "/")
    toggle = page.locator("#display-toggle")
    assert toggle.is_visible() and toggle.get_attribute("aria-pressed") == "false"
    assert page.evaluate("() => getComputedStyle(document.documentElement).fontSize") == "18px"
    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "true"
    # Only the preference is stored: one key, one fixed value, nothing about the resident.
    assert page.evaluate("() => Object.entries(localStorage)") == [["myna.display", "contrast"]]
    for path in ("/guide/", "/reset/choose/", "/no-such-page/"):
        page.goto(stack.base_url + path)
        assert page.evaluate("() => document.documentElement.classList.contains('high-contrast')")
        assert page.evaluate("() => getComputedStyle(document.documentElement).fontSize") == "22px"
        assert page.get_attribute("#display-toggle", "aria-pressed") == "true", path
        _no_horizontal_scroll(page, f"{path} high contrast")
        _axe(page, f"{path} high contrast")
    shot("choose-320")
    # Focus is drawn in two tones, visible on the white page and the blue header alike.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    ring = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert ring == "solid"
    page.click("#display-toggle")
    page.goto(stack.base_url + "/")
    assert not page.evaluate("() => document.documentElement.classList.contains('high-contrast')")
    assert page.evaluate("() => localStorage.length") == 0
    context.close()
