"""The face step while the server's face workers are busy, in real Chromium against `make run`'s
stack: the server's `waiting` (reset/face_consumer.py, sent when a start keeps the page waiting)
is shown and spoken, and gives way to the check once it is ready (which the holder's clip
then passes).

The stack's workers are not busy here, so the `waiting` message is laid into the real socket
(Playwright's WebSocket route) while the real `ready` is held back; that the server sends it on a
slow start is reset/tests/test_face_consumer.py's test. This module has its own stack (own
database): the one try it starts is the demo card's.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e import harness, test_wizard_e2e
from tests.e2e.test_wizard_e2e import assert_accessible

pytestmark = [pytest.mark.browser]

stack = test_wizard_e2e.stack
chromium = test_wizard_e2e.chromium

WAITING = "ただいま混み合っています。顔認証の準備ができるまで、このままお待ちください。"


def test_a_busy_server_is_said_and_the_check_starts_when_it_is_ready(
    stack: harness.Stack, chromium: Any
) -> None:
    context = chromium.new_context(locale="ja-JP", viewport={"width": 1100, "height": 900})
    context.grant_permissions(["camera"], origin=stack.base_url)
    page = context.new_page()
    shot = harness.shooter(page, "face-busy")
    harness.to_face_page(page, stack.base_url)
    hold = {"on": True}
    socket = harness.HeldFaceSocket(lambda _message: hold["on"]).route(page)
    page.click("#face-start")
    socket.wait_for_held(page, timeout=120)
    assert page.inner_text("#face-advice") == ""
    socket.send(json.dumps({"type": "waiting"}))
    page.locator("#face-advice").filter(has_text=WAITING).wait_for(timeout=10000)
    assert_accessible(page, "face busy")
    shot("waiting")
    # The workers are ready: the held answers go through and the check runs as ever.
    hold["on"] = False
    for message in socket.held:
        socket.send(message)
    # The holder's clip passes the check and the page moves on to the booked reservation.
    page.wait_for_url("**/reset/reservation/**", timeout=180000)
    shot("booked")
    context.close()
