"""The pages' security headers and chip-photo hygiene, in Debian's Chromium.

Pages come from Django's test Client (the real views, templates and middleware, so the real
Content-Security-Policy header); Playwright hands them to the browser, which enforces the policy.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.prerequisites import skip_or_fail

pytestmark = [pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ORIGIN = "http://localhost:8766"
PHOTO_KEY = "myna.chipPhoto"
# A page shaped like the face step (it holds #face-check) with the site's module on it.
FACE_HARNESS = """<!doctype html><html lang="ja"><meta charset="utf-8"><title>face</title>
<section id="face-check"></section>
<script type="module" src="/static/reset/chip-photo-hygiene.js"></script>
<script type="module">window.loaded = true;</script></html>"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        skip_or_fail("Debian chromium is not installed", what="the browser tests")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield instance
        finally:
            instance.close()


def _handler(client: Client) -> Any:
    def handle(route: Any) -> None:
        path = route.request.url.removeprefix(ORIGIN)
        if path.startswith("/static/"):
            file = ROOT / "static" / path.removeprefix("/static/").split("?")[0]
            if file.suffix in (".js", ".css") and file.is_file():
                kind = "text/javascript" if file.suffix == ".js" else "text/css"
                route.fulfill(status=200, content_type=kind, body=file.read_text())
            else:
                route.fulfill(status=404, body="")
        elif path == "/face-harness/":
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=FACE_HARNESS)
        elif path in ("/", "/help/", "/guide/"):
            # Django's sync client must run outside Playwright's event loop.
            with ThreadPoolExecutor(max_workers=1) as pool:
                response = pool.submit(client.get, path).result()
            route.fulfill(
                status=response.status_code,
                headers={key: value for key, value in response.items()},
                body=response.content,
            )
        else:
            route.fulfill(status=404, body="")

    return handle


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="ja-JP")
    page = context.new_page()
    page.route(f"{ORIGIN}/**", _handler(Client()))
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text)
        if "Content Security Policy" in message.text else None,
    )
    page.violations = violations
    try:
        yield page
    finally:
        context.close()


def test_the_pages_run_under_their_policy_without_a_violation(page: Any) -> None:
    for path in ("/", "/help/", "/guide/"):
        response = page.goto(f"{ORIGIN}{path}")
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
        assert response.headers["permissions-policy"].startswith("camera=(self)")
        page.wait_for_load_state("load")
    assert page.violations == []


def test_an_injected_inline_script_does_not_run(page: Any) -> None:
    page.goto(f"{ORIGIN}/")
    ran = page.evaluate(
        """() => new Promise((resolve) => {
             window.injected = false;
             const script = document.createElement("script");
             script.textContent = "window.injected = true";
             document.body.append(script);
             setTimeout(() => resolve(window.injected), 200);
           })"""
    )
    assert ran is False
    assert any("Content Security Policy" in text for text in page.violations)


def test_the_chip_photo_is_dropped_once_the_face_step_is_left(page: Any) -> None:
    page.goto(f"{ORIGIN}/face-harness/")
    page.wait_for_function("window.loaded === true")
    page.evaluate(f"sessionStorage.setItem('{PHOTO_KEY}', 'AAAA')")
    # Reloading the face step keeps it: the check may still need it.
    page.reload()
    page.wait_for_function("window.loaded === true")
    assert page.evaluate(f"sessionStorage.getItem('{PHOTO_KEY}')") == "AAAA"
    # Any other page of the site (the home page after 中止, say) drops it.
    page.goto(f"{ORIGIN}/")
    page.wait_for_load_state("load")
    page.wait_for_function(f"sessionStorage.getItem('{PHOTO_KEY}') === null", timeout=5000)
