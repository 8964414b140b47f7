"""Live reading in Debian's Chromium: a fake camera shows a card moving into the guide frame and
settling; the page reads it by itself (a burst to /reset/cardface/burst/, the real view and the
real OCR) and fills the form without 撮影する being pressed, and never submits it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from django.test import Client

from cardface import synth
from cardface.tests.test_read import engine_loaded_offline
from reset.tests.test_cardface_browser import CHROMIUM, CSRF_SECRET, HARNESS, MODULE, ORIGIN
from tests.prerequisites import skip_or_fail

pytestmark = [pytest.mark.browser]

WIDTH, HEIGHT = 1280, 720
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "cardface"
LIVE_HARNESS = HARNESS.replace(
    'endpoint: "/reset/cardface/",',
    'endpoint: "/reset/cardface/", burstEndpoint: "/reset/cardface/burst/",',
)
FRONT = synth.CardFront(birth_date=date(1990, 3, 14), expiry_date=date(2030, 3, 14),
                        security_code="6047")


def _moving_card_y4m(path: Path) -> Path:
    """An empty table, the card sliding in from the right (smeared by the motion), then held
    still in the guide frame for a few seconds; Chromium plays the file in a loop."""
    header = f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode()
    settled = synth.Scene(card_width=960, canvas=(WIDTH, HEIGHT), rotation=2, seed=51)
    still = synth.render_photo(FRONT, settled)
    frames: list[np.ndarray] = [np.full((HEIGHT, WIDTH, 3), 50, dtype=np.uint8)] * 3
    for step in (6, 5, 4, 3, 2, 1):
        # The settled photo shifted right: the card slides in, smeared along its motion.
        shift = np.array([[1, 0, step * 110], [0, 1, 0]], dtype=np.float32)
        moved = cv2.warpAffine(still, shift, (WIDTH, HEIGHT), borderValue=(50, 50, 50))
        smear = np.ones((1, 21), np.float32) / 21
        frames.append(np.asarray(cv2.filter2D(moved, -1, smear)))
    frames += [still] * 40
    with path.open("wb") as out:
        out.write(header)
        for bgr in frames:
            out.write(b"FRAME\n" + np.ascontiguousarray(
                cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420)).tobytes())
    return path


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not CHROMIUM.exists():
        skip_or_fail("Debian chromium is not installed", what="the browser tests")
    sync_api = pytest.importorskip("playwright.sync_api")
    y4m = _moving_card_y4m(tmp_path_factory.mktemp("camera") / "moving.y4m")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--use-fake-ui-for-media-stream",
                  "--use-fake-device-for-media-stream",
                  f"--use-file-for-fake-video-capture={y4m}",
                  "--disable-background-networking", "--no-first-run"],
        )
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture(scope="module", autouse=True)
def _engine() -> None:
    engine_loaded_offline()


@pytest.fixture(autouse=True)
def _urls(settings: Any) -> None:
    settings.ROOT_URLCONF = "reset.tests.cardface_urls"


def test_a_card_moving_in_and_settling_is_read_without_pressing_capture(browser: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = CSRF_SECRET
    posts: list[dict[str, Any]] = []
    statuses: list[str] = []

    def forward(route: Any) -> None:
        request = route.request
        with ThreadPoolExecutor(max_workers=1) as pool:
            response = pool.submit(
                client.post, request.url.removeprefix(ORIGIN), data=request.post_data_buffer,
                content_type=request.headers["content-type"],
                headers={"X-CSRFToken": request.headers.get("x-csrftoken", "")},
            ).result()
        posts.append({"path": request.url.removeprefix(ORIGIN),
                      "frames": request.post_data_buffer.count(b'name="frame"'),
                      "body": json.loads(response.content)})
        route.fulfill(status=response.status_code, content_type="application/json",
                      body=response.content)

    def handle(route: Any) -> None:
        path = route.request.url.removeprefix(ORIGIN)
        if path == "/harness/":
            route.fulfill(status=200, content_type="text/html; charset=utf-8",
                          body=LIVE_HARNESS.replace("CSRF_SECRET", CSRF_SECRET))
        elif path.startswith("/static/reset/cardface.js"):
            route.fulfill(status=200, content_type="text/javascript", body=MODULE.read_text())
        elif path.startswith("/reset/cardface/") and route.request.method == "POST":
            forward(route)
        else:
            route.fulfill(status=404, body="")

    context = browser.new_context(locale="ja-JP", viewport={"width": 1000, "height": 900})
    context.grant_permissions(["camera"], origin=ORIGIN)
    page = context.new_page()
    page.route(f"{ORIGIN}/**", handle)
    def note_status(text: str) -> None:
        statuses.append(text)

    page.expose_function("noteStatus", note_status)
    try:
        page.goto(f"{ORIGIN}/harness/")
        page.wait_for_function("window.ready === true", timeout=30000)
        page.evaluate("""() => new MutationObserver(() => {
            const s = document.querySelector('.status-line');
            if (s) window.noteStatus(s.textContent);
        }).observe(document.body, {subtree: true, childList: true, characterData: true})""")
        page.wait_for_function("window.filled !== null", timeout=240000)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "live-filled.png"), full_page=True)
        values = page.evaluate("""() => ['birth_date', 'expiry_date', 'security_code']
            .map((n) => document.getElementById(n).value)""")
        assert values == ["1990/03/14", "2030/03/14", "6047"], posts
        assert [p["path"] for p in posts] == ["/reset/cardface/burst/"]
        assert 2 <= posts[0]["frames"] <= 15
        assert page.evaluate("window.submitted") == 0
        # The frame was shown green while the card was steady, and the camera is off now.
        assert "そのまま動かさないでください。読み取っています…" in statuses
        assert page.evaluate("document.querySelector('video').srcObject") is None
    finally:
        context.close()
