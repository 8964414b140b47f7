"""What the page says when the camera or the card goes away in the middle of a step, in real
Chromium against `make run`'s stack (a walk from a fresh `make run` found both pages stale).

- The face step: the video track ends mid-check (unplugged, taken by another app). No prompt or
  progress may stay on screen, and the tries left shown are the server's own count: the try was
  charged when it started and is not given back. The final failure leaves no progress line and no
  pace or voice options either.
- The chip step: the card leaves the reader during RESERVE and is put back. The "not on the
  reader" error goes and the page says the card is back; the read waits for the resident's
  「もう一度読み取る」 (each read may spend the server's limits).

This module has its own stack (own database): the face tries it spends are the demo card's.
Screenshots: test-output/e2e/camera-lost-*.png, card-back-*.png.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any

import pytest

from tests.e2e import harness, test_wizard_e2e
from tests.e2e.test_wizard_e2e import assert_accessible

pytestmark = [pytest.mark.browser]

#: The wizard tests' fixtures: scripts/run.sh on free ports, Chromium whose camera shows the holder.
stack = test_wizard_e2e.stack
chromium = test_wizard_e2e.chromium

# The camera goes away: what Chromium does when a webcam is unplugged (stop() alone fires no
# "ended", so the event is dispatched as the browser would).
END_TRACK = """() => document.getElementById('face-video').srcObject.getVideoTracks()
  .forEach((t) => { t.stop(); t.dispatchEvent(new Event('ended')); })"""
# The picture freezes (a photo held up): the server decides "static".
FREEZE = "() => document.getElementById('face-video').pause()"


def during_a_prompt(action: str) -> str:
    """`action`, run in the page the moment a prompt is under way (waiting from Python could let
    the holder's clip pass the whole check first); resolves with what was on screen then."""
    return """() => new Promise((resolve) => {
  const line = document.getElementById('face-progress');
  const watch = new MutationObserver(() => {
    if (!line.textContent.includes('個の指示のうち')) return;
    watch.disconnect();
    const seen = {prompt: document.getElementById('face-prompt-text').textContent,
      progress: line.textContent};
    (ACTION)();
    resolve(seen);
  });
  watch.observe(line, {childList: true, characterData: true, subtree: true});
  setTimeout(() => resolve({timedOut: true,
    error: document.getElementById('face-error').textContent}), 120000);
})""".replace("ACTION", action)


def _face_context(browser: Any, base_url: str) -> Any:
    context = browser.new_context(locale="ja-JP", viewport={"width": 1100, "height": 900})
    context.grant_permissions(["camera"], origin=base_url)
    return context


def test_a_face_check_cut_short_leaves_no_prompt_and_shows_the_servers_count(
    stack: harness.Stack, chromium: Any
) -> None:
    context = _face_context(chromium, stack.base_url)
    page = context.new_page()
    shot = harness.shooter(page, "camera-lost")
    harness.to_face_page(page, stack.base_url)
    assert "あと 3 回" in page.inner_text("#face-attempts")

    # 1. The camera goes away while a prompt is under way: the server has counted this try.
    page.click("#face-start")
    before = page.evaluate(during_a_prompt(END_TRACK))
    assert before["prompt"] and "個の指示のうち" in before["progress"], before
    page.locator("#face-retry").wait_for(state="visible")
    error = page.inner_text("#face-error")
    assert "カメラを開けません" in error
    assert "中断したこの回も、1回として数えられました" in error and "あと 2 回" in error
    assert page.inner_text("#face-prompt-text") == "顔認証を中断しました。"
    assert page.inner_text("#face-progress") == ""
    assert "あと 2 回" in page.inner_text("#face-attempts")
    assert page.evaluate("() => document.activeElement.id") == "face-retry"
    assert page.locator("#face-more-time").is_hidden() and page.locator("#face-time").is_hidden()
    assert page.locator("#face-options").is_visible()  # a next try may change them
    assert_accessible(page, "camera lost")
    shot("lost-during-a-prompt")
    page.reload()  # the server says the same
    assert "あと 2 回" in page.inner_text("#face-attempts")

    # 2. The camera goes away after the photo was sent but before the server answered: the page
    # does not guess, it waits for the server's count.
    hold = {"ready": True}

    def ready(message: str | bytes) -> bool:
        return (hold["ready"] and isinstance(message, str)
                and json.loads(message).get("type") == "ready")

    socket = harness.HeldFaceSocket(ready).route(page)
    page.click("#face-start")
    socket.wait_for_held(page)
    page.evaluate(END_TRACK)
    page.locator("#face-error").filter(has_text="カメラを開けません").wait_for()
    assert page.inner_text("#face-prompt-text") == "顔認証を中断しました。"
    assert page.locator("#face-retry").is_hidden()  # not before the count is known
    assert "あと 2 回" in page.inner_text("#face-attempts")
    socket.send(socket.held[0])
    page.locator("#face-retry").wait_for(state="visible")
    assert "1回として数えられました" in page.inner_text("#face-error")
    assert "あと 1 回" in page.inner_text("#face-error")
    assert "あと 1 回" in page.inner_text("#face-attempts")
    shot("lost-before-the-answer")
    hold["ready"] = False

    # 3. The last try fails for real (the picture freezes mid-prompt, like a photo held up): no
    # prompt, progress, pace or voice option of it stays on screen, nor a way to try again.
    page.click("#face-retry")
    before = page.evaluate(during_a_prompt(FREEZE))
    assert "個の指示のうち" in before["progress"], before
    page.locator("#face-counter").wait_for(state="visible", timeout=180000)
    assert page.inner_text("#face-prompt-text") == "顔認証を完了できませんでした。"
    assert page.inner_text("#face-progress") == ""
    assert page.inner_text("#face-advice") == ""
    assert page.locator("#face-options").is_hidden()
    assert page.locator("#face-retry").is_hidden() and page.locator("#face-start").is_hidden()
    assert "上限に達しています" in page.inner_text("#face-attempts")
    assert_accessible(page, "final failure")
    shot("final-failure")
    page.reload()  # and so it stays
    assert page.locator("#face-options").is_hidden() and page.locator("#face-start").is_hidden()
    context.close()


def test_a_card_put_back_after_the_chip_read_stopped_says_so(
    stack: harness.Stack, chromium: Any
) -> None:
    context = chromium.new_context(
        locale="ja-JP", viewport={"width": 1100, "height": 900}
    )
    page = context.new_page()
    shot = harness.shooter(page, "card-back")
    commands: list[str] = []
    bridge: dict[str, Any] = {}

    # The real bridge and simulated card; the card is taken off the reader (SIM_CARD, simulate
    # mode) as the chip read reaches the bridge, the way a resident lifts it too early.
    def route(ws: Any) -> None:
        server = ws.connect_to_server()
        bridge["server"] = server

        def from_page(message: str | bytes) -> None:
            body = json.loads(message)
            commands.append(body["cmd"])
            if body["cmd"] == "RESERVE" and commands.count("RESERVE") == 1:
                server.send(json.dumps({"cmd": "SIM_CARD", "present": False}))
            server.send(message)

        ws.on_message(from_page)

    def card(present: bool) -> None:
        bridge["server"].send(json.dumps({"cmd": "SIM_CARD", "present": present}))

    page.route_web_socket(stack.bridge_url, route)
    try:
        harness.choose(page, stack.base_url, "sign")
        harness.fill_card_face(page)
        harness.wait_for_card(page)
        harness.to_password(page)
        harness.submit_password(page, harness.DEMO["auth_pin"])
        page.locator("#chip-error").filter(has_text="置かれていません").wait_for(timeout=30000)
        assert page.locator("#chip-card-back").is_hidden()
        shot("card-gone")

        card(True)
        note = page.locator("#chip-card-back")
        note.wait_for(state="visible", timeout=15000)
        assert note.inner_text() == "カードが置かれました。「もう一度読み取る」を押してください。"
        assert page.inner_text("#chip-error") == ""
        assert page.locator("#chip-retry").is_visible()
        assert_accessible(page, "card back")
        shot("card-back")
        # Taken away again: said again.
        card(False)
        page.locator("#chip-error").filter(has_text="置かれていません").wait_for(timeout=15000)
        assert note.is_hidden()
        card(True)
        note.wait_for(state="visible", timeout=15000)
        page.wait_for_timeout(1500)
        assert commands.count("RESERVE") == 1  # never read again without the resident

        page.click("#chip-retry")
        harness.wait_for_face_page(page)
        assert commands.count("RESERVE") == 2
    finally:
        if "server" in bridge and not page.is_closed() and "/reset/card/" in page.url:
            card(True)  # the shared demo card stays on the reader for whatever runs next
        context.close()


def _wrong_authenticate(test_id: str) -> str:
    """An AUTHENTICATE with a wrong 利用者証明用 PIN: one try spent, the way another program (or
    the VERIFY the removal cut short) would spend it behind the page's back."""
    return json.dumps(
        {
            "cmd": "AUTHENTICATE",
            "id": test_id,
            "key": "auth",
            "pin": "1111",
            "purpose": "myna-reset/reserve/sign",
            "nonce": base64.b64encode(secrets.token_bytes(32)).decode(),
        }
    )


def test_a_card_put_back_shows_its_own_tries_left_and_asks_before_the_last(
    stack: harness.Stack, chromium: Any
) -> None:
    """The page knew 3 tries; the card lost two before the chip read stopped for want of it.
    Once the card is back the page reads the card's count (GET_CARD_STATUS, no try spent), shows
    it, and 「もう一度読み取る」 asks before the last try instead of sending the password held."""
    context = chromium.new_context(locale="ja-JP", viewport={"width": 1100, "height": 900})
    page = context.new_page()
    shot = harness.shooter(page, "card-back-tries")
    sent: list[dict[str, Any]] = []  # the page's commands
    held: list[str | bytes] = []  # the page's first RESERVE, until the card has lost its tries
    ours: dict[str, dict[str, Any]] = {}  # replies to the test's own commands (never the page's)
    bridge: dict[str, Any] = {}

    def route(ws: Any) -> None:
        server = ws.connect_to_server()
        bridge["server"] = server

        def from_page(message: str | bytes) -> None:
            body = json.loads(message)
            sent.append(body)
            if body["cmd"] == "RESERVE" and not held:
                held.append(message)
                return
            server.send(message)

        def from_server(message: str | bytes) -> None:
            body = json.loads(message)
            if str(body.get("id", "")).startswith("test-"):
                ours[body["id"]] = body
            elif body.get("workflow") != "AUTHENTICATE":  # its progress is not the page's
                ws.send(message)

        ws.on_message(from_page)
        server.on_message(from_server)

    def ask_bridge(test_id: str, message: str) -> dict[str, Any]:
        bridge["server"].send(message)
        deadline = time.monotonic() + 30
        while test_id not in ours and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        return ours[test_id]

    def card(present: bool) -> None:
        bridge["server"].send(json.dumps({"cmd": "SIM_CARD", "present": present}))

    def count(cmd: str) -> int:
        return sum(1 for body in sent if body["cmd"] == cmd)

    page.route_web_socket(stack.bridge_url, route)
    try:
        harness.choose(page, stack.base_url, "sign")
        harness.fill_card_face(page)
        harness.wait_for_card(page)
        harness.to_password(page)
        assert page.inner_text("#pin-tries") == "残り3回入力できます。"
        harness.submit_password(page, harness.DEMO["auth_pin"])
        harness.wait_until(page, lambda: bool(held), timeout=30,
                           what="the page never sent RESERVE")

        # The card loses two tries the page does not hear of, then leaves the reader as the read
        # reaches the bridge.
        for n, left in ((1, 2), (2, 1)):
            reply = ask_bridge(f"test-{n}", _wrong_authenticate(f"test-{n}"))
            assert (reply["reason"], reply["tries_left"]) == ("WRONG_PIN", left), reply
        card(False)
        bridge["server"].send(held[0])
        page.locator("#chip-error").filter(has_text="置かれていません").wait_for(timeout=30000)
        statuses = count("GET_CARD_STATUS")

        card(True)
        page.locator("#chip-card-back").wait_for(state="visible", timeout=15000)
        tries = page.locator("#chip-tries")
        tries.filter(has_text="残り1回").wait_for(timeout=15000)
        assert tries.inner_text() == (
            "カードで確かめると、利用者証明用パスワードは残り1回入力できます。"
        )
        assert count("GET_CARD_STATUS") == statuses + 1
        assert page.evaluate("() => document.getElementById('pin-tries').textContent") == (
            "残り1回入力できます。"
        )
        assert_accessible(page, "card back, one try left")
        shot("one-try-left")

        # 「もう一度読み取る」 asks first; "no" drops the password held and sends nothing.
        page.click("#chip-retry")
        dialog = page.locator("#last-try-dialog")
        dialog.wait_for(state="visible", timeout=15000)
        assert "残りは1回です" in page.inner_text("#last-try-text")
        shot("last-try-asked")
        page.click("#last-try-cancel")
        page.locator("#password-form").wait_for(state="visible")
        assert page.inner_text("#pin-tries") == "残り1回入力できます。"
        assert page.input_value("#pin") == ""
        page.wait_for_timeout(1000)
        assert count("RESERVE") == 1

        # Typed again and confirmed: the read goes with the resident's say-so (and the right
        # password gives the demo card its three tries back for whatever runs next).
        harness.submit_password(page, harness.DEMO["auth_pin"])
        dialog.wait_for(state="visible", timeout=15000)
        page.click("#last-try-confirm")
        harness.wait_for_face_page(page)
        assert count("RESERVE") == 2
        confirmed = [body.get("confirm_last_try") for body in sent if body["cmd"] == "RESERVE"]
        assert confirmed == [False, True]
    finally:
        if "server" in bridge and not page.is_closed() and "/reset/card/" in page.url:
            card(True)  # the shared demo card stays on the reader for whatever runs next
        context.close()
