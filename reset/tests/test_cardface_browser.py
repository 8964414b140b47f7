"""cardface.js in Debian's Chromium with a fake camera showing a synthetic card front.

No server runs: Playwright routes the page's requests to a tiny harness page, the module file and
Django's test Client (the real view and the real OCR). One still must be sent, once, and the three
fields filled — never the form submitted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from django.test import Client

from cardface import synth
from cardface.result import MESSAGES_JA, CardFaceReading, CardFaceReason
from cardface.tests.test_read import engine_loaded_offline
from reset import api_views
from tests.prerequisites import skip_or_fail

pytestmark = [pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "static" / "reset" / "cardface.js"
SHOTS = ROOT / "test-output" / "cardface"  # git-ignored; for a human look at the page
ORIGIN = "http://localhost:8765"
WIDTH, HEIGHT = 1280, 720

HARNESS = """<!doctype html><html lang="ja"><meta charset="utf-8"><title>cardface</title>
<div id="area"></div>
<form id="f" novalidate>
  <input id="birth_date" name="birth_date"><input id="expiry_date" name="expiry_date">
  <input id="security_code" name="security_code"><button type="submit">次へ</button>
</form>
<script type="module">
  window.submitted = 0; window.filled = null;
  document.getElementById("f").addEventListener("submit",
    (e) => { e.preventDefault(); window.submitted++; });
  const m = await import("/static/reset/cardface.js");
  await m.start({ form: document.getElementById("f"), container: document.getElementById("area"),
                  endpoint: "/reset/cardface/", csrfToken: "CSRF_SECRET",
                  onFilled: (names) => { window.filled = names; } });
  window.ready = true;
</script></html>"""
CSRF_SECRET = "c" * 32


def _y4m(path: Path) -> Path:
    """A still Y4M for Chromium's fake camera: the card fills the guide frame, as asked."""
    scene = synth.Scene(card_width=960, canvas=(WIDTH, HEIGHT), rotation=2, seed=51)
    bgr = synth.render_photo(synth.CardFront(), scene)
    i420 = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420)
    frame = b"FRAME\n" + np.ascontiguousarray(i420).tobytes()
    header = f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + frame * 5)
    return path


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not CHROMIUM.exists():
        skip_or_fail("Debian chromium is not installed", what="the browser tests")
    sync_api = pytest.importorskip("playwright.sync_api")
    y4m = _y4m(tmp_path_factory.mktemp("camera") / "card.y4m")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox", "--disable-gpu", "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={y4m}",
                "--disable-background-networking", "--no-first-run",
            ],
        )
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture(scope="module", autouse=True)
def _engine() -> None:
    engine_loaded_offline()  # once per run, and proven offline, whichever module loads it


@pytest.fixture(autouse=True)
def _urls(settings: Any) -> None:
    settings.ROOT_URLCONF = "reset.tests.cardface_urls"


def _forward(client: Client, request: Any) -> Any:
    """Hand a POST the page made to Django's test client, and return Django's response."""
    # The view is async; Django's client must run it outside Playwright's event loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(
            client.post, "/reset/cardface/", data=request.post_data_buffer,
            content_type=request.headers["content-type"],
            headers={"X-CSRFToken": request.headers.get("x-csrftoken", "")},
        ).result()


@contextmanager
def _harness_page(browser: Any, on_post: Callable[[Any], None]) -> Iterator[Any]:
    """The harness page with the camera allowed and the module loaded; `on_post` answers the
    module's POST to /reset/cardface/, everything else off the harness is a 404."""

    def handle(route: Any) -> None:
        path = route.request.url.removeprefix(ORIGIN)
        if path == "/harness/":
            route.fulfill(status=200, content_type="text/html; charset=utf-8",
                          body=HARNESS.replace("CSRF_SECRET", CSRF_SECRET))
        elif path.startswith("/static/reset/cardface.js"):
            route.fulfill(status=200, content_type="text/javascript", body=MODULE.read_text())
        elif path == "/reset/cardface/" and route.request.method == "POST":
            on_post(route)
        else:
            route.fulfill(status=404, body="")

    context = browser.new_context(locale="ja-JP", viewport={"width": 1000, "height": 900})
    context.grant_permissions(["camera"], origin=ORIGIN)
    page = context.new_page()
    page.route(f"{ORIGIN}/**", handle)
    try:
        page.goto(f"{ORIGIN}/harness/")
        page.wait_for_function("window.ready === true", timeout=30000)
        yield page
    finally:
        context.close()


def test_a_still_is_sent_once_and_fills_the_form(browser: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = CSRF_SECRET
    posts: list[dict[str, Any]] = []

    def answer(route: Any) -> None:
        response = _forward(client, route.request)
        posts.append({"type": route.request.headers["content-type"],
                      "status": response.status_code, "body": json.loads(response.content)})
        route.fulfill(status=response.status_code, content_type="application/json",
                      body=response.content)

    with _harness_page(browser, answer) as page:
        assert page.locator(".cardface-guide").count() == 1
        shown = page.locator("#area").inner_text()
        # The official app's words (walkthrough step 3), caution included.
        assert "マイナンバーカード(表面)を黒わくにあわせてください" in shown
        assert "有効期限やマイナちゃんマーク" in shown
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.wait_for_timeout(500)  # let a frame arrive so the shot shows the card
        page.screenshot(path=str(SHOTS / "1-camera.png"), full_page=True)
        page.get_by_role("button", name="撮影する").click()
        page.wait_for_function("window.filled !== null", timeout=90000)

        assert len(posts) == 1
        assert posts[0]["type"].startswith("multipart/form-data")
        assert posts[0]["status"] == 200 and posts[0]["body"]["ok"] is True
        assert page.input_value("#birth_date") == "1985/07/23"
        assert page.input_value("#expiry_date") == "2034/07/23"
        assert page.input_value("#security_code") == "4821"
        assert "確からしさ" in page.locator("#security_code-cardface").inner_text()
        assert page.evaluate("window.submitted") == 0
        page.screenshot(path=str(SHOTS / "2-filled.png"), full_page=True)
        # The camera is off once the still is taken.
        assert page.evaluate("document.querySelector('video').srcObject") is None
        assert not page.locator("video").is_visible()


def test_a_reading_that_fails_says_why_and_leaves_the_form_to_the_resident(browser: Any) -> None:
    failed = CardFaceReading.failed(CardFaceReason.GLARE).to_json_dict()
    posts: list[str] = []

    def answer(route: Any) -> None:
        posts.append(route.request.url.removeprefix(ORIGIN))
        route.fulfill(status=200, content_type="application/json",
                      body=json.dumps(failed, ensure_ascii=False))

    with _harness_page(browser, answer) as page:
        page.fill("#security_code", "12")  # the resident had started typing
        page.get_by_role("button", name="撮影する").click()
        page.wait_for_function(
            "document.querySelector('[role=alert]').textContent.length > 0", timeout=30000
        )
        assert posts == ["/reset/cardface/"]
        assert page.locator("[role=alert]").inner_text() == MESSAGES_JA[CardFaceReason.GLARE]
        assert "手で入力" in page.locator("[role=status]").inner_text()
        assert page.input_value("#security_code") == "12"
        assert page.input_value("#birth_date") == ""
        assert page.locator("#f").is_visible() and page.is_editable("#birth_date")
        assert page.get_by_role("button", name="もう一度撮影する").is_visible()
        assert page.evaluate("window.submitted") == 0 and page.evaluate("window.filled") is None


def test_a_csrf_refusal_shows_the_servers_message(browser: Any, settings: Any) -> None:
    # The view under the wizard's name, which settings.CSRF_FAILURE_VIEW knows as a JSON endpoint.
    settings.ROOT_URLCONF = "reset.tests.cardface_wizard_urls"
    client = Client(enforce_csrf_checks=True)  # no CSRF cookie: the token cannot match
    replies: list[int] = []

    def answer(route: Any) -> None:
        response = _forward(client, route.request)
        replies.append(response.status_code)
        route.fulfill(status=response.status_code, content_type=response["Content-Type"],
                      body=response.content)

    with _harness_page(browser, answer) as page:
        page.get_by_role("button", name="撮影する").click()
        page.wait_for_function(
            "document.querySelector('[role=alert]').textContent.length > 0", timeout=30000
        )
        assert replies == [403]
        assert page.locator("[role=alert]").inner_text() == str(api_views.CSRF_FAILED_MESSAGE)
        assert page.locator("#f").is_visible() and page.is_editable("#birth_date")
