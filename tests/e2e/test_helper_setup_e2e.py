"""The reader step and the card helper, as a resident meets them, in Debian's Chromium.

The page comes from Django's live server (so the test can set what the page requires of the
helper); the helper is the standalone binary this session built from the tree
(tests/helper_build.py), started with the simulated card. Screenshots: test-output/e2e/helper-*.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bridge import __version__
from bridge.protocol import API_LEVEL
from tests.e2e import harness
from tests.e2e.test_wizard_e2e import AXE, assert_accessible
from tests.helper_build import BuiltHelper, running_helper
from tests.prerequisites import skip_or_fail

pytestmark = [
    pytest.mark.browser,
    pytest.mark.helper_build,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    """One Playwright per module (it cannot be nested): the browsers below are launched from it."""
    if not Path(harness.CHROMIUM).exists() or not AXE.exists():
        skip_or_fail("Debian chromium or axe-core is missing", what="the browser tests")
    from playwright.sync_api import sync_playwright

    # Sync Playwright keeps an event loop in this thread; the test database's set-up and flush
    # (plain sync code, nothing concurrent) would otherwise be refused by Django's async guard.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as instance:
            yield instance
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def chromium(playwright: Any) -> Iterator[Any]:
    instance = playwright.chromium.launch(
        executable_path=harness.CHROMIUM, headless=True, args=BROWSER_ARGS
    )
    try:
        yield instance
    finally:
        instance.close()


@pytest.fixture
def site(settings: Any, live_server: Any, built_helper: BuiltHelper) -> dict[str, Any]:
    """The page offers this session's build and looks for a helper on a free port."""
    port = harness.free_port()
    settings.MYNA_BRIDGE_URL = f"ws://127.0.0.1:{port}/"
    settings.MYNA_HELPER_DOWNLOADS_DIR = built_helper.out
    return {"url": live_server.url, "bridge_port": port}


def _to_reader_step(chromium: Any, url: str) -> Any:
    context = chromium.new_context(locale="ja-JP", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    harness.choose(page, url, "sign")
    harness.fill_card_face(page)
    return page


def test_without_a_helper_the_reader_step_offers_the_linux_install_then_retry_finds_it(
    chromium: Any, site: dict[str, Any], built_helper: BuiltHelper, tmp_path: Path
) -> None:
    page = _to_reader_step(chromium, site["url"])
    shot = harness.shooter(page, "helper-missing")
    missing = page.locator("#helper-missing")
    missing.wait_for(state="visible", timeout=20000)
    assert "カード読み取り用ソフトをインストールしてください" in missing.inner_text()
    # Detected as Linux (the browser's platform), with a choice of the others.
    assert page.is_checked('input[name="helper-os"][value="linux"]')
    linux = page.locator('.helper-os[data-os="linux"]')
    assert linux.is_visible()
    assert not page.locator('.helper-os[data-os="windows"]').is_visible()
    deb = linux.locator('a[data-kind="deb"]')
    assert deb.is_visible()
    assert "アプリの一覧" in linux.inner_text()  # how to start it
    # The download is served by the site, byte for byte what the build produced.
    response = page.request.get(site["url"] + deb.get_attribute("href"))
    assert response.status == 200
    assert response.body() == built_helper.artifact("deb").read_bytes()
    assert page.is_disabled("#reader-next")
    assert_accessible(page, "helper missing")
    shot("linux")
    # Another computer: the choice shows its section (nothing built for it here: it says so).
    page.check('input[name="helper-os"][value="windows"]')
    windows = page.locator('.helper-os[data-os="windows"]')
    assert windows.is_visible() and not linux.is_visible()
    assert "まだ用意されていません" in windows.inner_text()
    page.check('input[name="helper-os"][value="linux"]')

    # The resident installs and starts the helper, then checks again: no reload, form kept.
    page.evaluate("window.notReloaded = true")
    with running_helper(
        built_helper.binary, port=site["bridge_port"], origin=site["url"], log=tmp_path / "h.log"
    ):
        page.click("#bridge-retry")
        page.locator("#reader-area").wait_for(state="visible", timeout=20000)
        harness.wait_for_card(page)
        assert "接続しました" in page.inner_text("#bridge-status")
        assert not missing.is_visible()
        assert page.evaluate("window.notReloaded") is True
        shot("found")
    page.context.close()


def test_a_helper_older_than_the_page_needs_is_asked_to_update(
    chromium: Any, site: dict[str, Any], built_helper: BuiltHelper, settings: Any, tmp_path: Path
) -> None:
    # The page now speaks an API level the built helper does not: the helper answers HELLO with
    # the levels it supports, as an old helper in the field would.
    settings.MYNA_BRIDGE_API_LEVEL = API_LEVEL + 1
    with running_helper(
        built_helper.binary, port=site["bridge_port"], origin=site["url"], log=tmp_path / "h.log"
    ):
        page = _to_reader_step(chromium, site["url"])
        shot = harness.shooter(page, "helper-outdated")
        outdated = page.locator("#helper-outdated")
        outdated.wait_for(state="visible", timeout=20000)
        text = outdated.inner_text()
        assert "更新してください" in text
        assert f"APIレベル {API_LEVEL + 1}" in text and f"APIレベル {API_LEVEL} まで" in text
        assert page.locator('.helper-os[data-os="linux"] a[data-kind="deb"]').is_visible()
        assert not page.locator("#reader-area").is_visible()
        assert_accessible(page, "helper outdated")
        shot("api")
        page.context.close()


def test_a_helper_below_the_minimum_version_is_asked_to_update(
    chromium: Any, site: dict[str, Any], built_helper: BuiltHelper, settings: Any, tmp_path: Path
) -> None:
    settings.MYNA_BRIDGE_MIN_VERSION = "99.0"
    with running_helper(
        built_helper.binary, port=site["bridge_port"], origin=site["url"], log=tmp_path / "h.log"
    ):
        page = _to_reader_step(chromium, site["url"])
        outdated = page.locator("#helper-outdated")
        outdated.wait_for(state="visible", timeout=20000)
        assert f"バージョン {__version__}" in outdated.inner_text()
        assert "99.0" in outdated.inner_text()
        page.context.close()


def test_chromes_local_network_prompt_is_explained_first_and_a_block_is_explained_after(
    playwright: Any, site: dict[str, Any], settings: Any
) -> None:
    # The page as a resident meets it in production: a public, secure origin. Chromium is told
    # so (its documented flags for testing Local Network Access without a public server); its
    # permission prompt then really appears on the first connection to 127.0.0.1, and headless
    # Chromium answers it with "Block", as a resident might.
    port = int(site["url"].rsplit(":", 1)[1])
    origin = f"http://reset.test:{port}"
    settings.ALLOWED_HOSTS = ["reset.test", "localhost", "testserver"]
    args = [
        *BROWSER_ARGS,
        "--host-resolver-rules=MAP reset.test 127.0.0.1",
        f"--ip-address-space-overrides=127.0.0.1:{port}=public",
        f"--unsafely-treat-insecure-origin-as-secure={origin}",
    ]
    chromium = playwright.chromium.launch(
        executable_path=harness.CHROMIUM, headless=True, args=args
    )
    try:
        page = _to_reader_step(chromium, origin)
        sockets: list[str] = []
        page.on("websocket", lambda ws: sockets.append(ws.url))
        shot = harness.shooter(page, "helper-lna")
        explain = page.locator("#lna-explain")
        explain.wait_for(state="visible", timeout=20000)
        assert "許可する" in explain.inner_text()
        assert explain.locator("svg title").count() == 1  # the picture of the prompt
        assert sockets == []  # explained before anything could make the prompt appear
        assert not page.locator("#helper-missing").is_visible()
        assert_accessible(page, "permission explained")
        shot("explained")
        page.click("#lna-continue")
        blocked = page.locator("#lna-blocked")
        blocked.wait_for(state="visible", timeout=20000)
        assert sockets  # the connection was tried, and the browser refused it
        assert "サイトの設定" in blocked.inner_text()
        assert "接続を止めています" in page.inner_text("#bridge-status")
        assert not page.locator("#helper-missing").is_visible()  # not "install it"
        shot("blocked")
        # A later visit starts from the remembered "Block": the undo steps straight away.
        page.reload()
        harness.fill_card_face(page)
        blocked.wait_for(state="visible", timeout=20000)
        assert not page.locator("#lna-explain").is_visible()
        page.context.close()
    finally:
        chromium.close()
