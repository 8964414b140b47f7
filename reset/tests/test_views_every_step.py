"""Every wizard page against the generic misuses: wrong method, wrong step, expired session."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from reservations.models import Reservation
from reset import wizard_state
from reset.tests.conftest import post_json, put_state
from reset.wizard_state import Step

pytestmark = pytest.mark.django_db

PASSED = {"card_identity": "ab" * 32, "photo_sha256": "cd" * 32}


@pytest.mark.parametrize(
    ("url", "method"),
    [
        ("/", "put"),
        ("/guide/", "post"),
        ("/help/", "post"),
        ("/reset/card/", "post"),
        ("/reset/face/", "post"),
        ("/reset/reservation/", "post"),
        ("/reset/reservation.ics", "post"),
        ("/reset/progress/", "get"),
        ("/reset/nonce/", "get"),
        ("/reset/evidence/", "put"),
        ("/reset/cancel/", "get"),
        ("/sw.js", "post"),
        ("/manifest.webmanifest", "post"),
    ],
)
def test_each_page_rejects_the_wrong_method(client: Client, url: str, method: str) -> None:
    put_state(client, step=str(Step.CHIP))
    assert getattr(client, method)(url).status_code == 405
    # A refused request leaves the wizard where it was.
    state = wizard_state.load(client.session)
    assert state is not None and state.step == Step.CHIP


@pytest.mark.parametrize(
    ("url", "step", "fields"),
    [
        ("/reset/card/", Step.CARD_FACE, {}),
        ("/reset/face/", Step.FACE, PASSED),
        ("/reset/done/", Step.DONE, {**PASSED, "face_passed_at": time.time()}),
    ],
)
def test_each_page_refuses_an_expired_session(
    client: Client, url: str, step: Step, fields: dict[str, object]
) -> None:
    put_state(client, step=str(step), started_at=time.time() - 3600 * 5, **fields)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"] == "/"
    assert wizard_state.SESSION_KEY not in client.session
    assert Reservation.objects.count() == 0


@pytest.mark.parametrize("done", ["card_face", "reader", "password"])
def test_the_json_steps_refuse_an_expired_session(client: Client, done: str) -> None:
    put_state(client, step=done, started_at=time.time() - 3600 * 5)
    response = post_json(client, "/reset/progress/", {"done": done})
    assert response.status_code == 409 and response.json()["reason"] == "expired_session"


@pytest.mark.parametrize(
    ("step", "expected"),
    [(Step.CARD_FACE, "/reset/card/"), (Step.CHIP, "/reset/card/"), (Step.DONE, "/reset/done/")],
)
def test_the_face_page_sends_other_steps_where_they_belong(
    client: Client, step: Step, expected: str
) -> None:
    put_state(client, step=str(step), **PASSED)
    assert client.get("/reset/face/")["Location"] == expected


def test_the_done_step_books_only_once(client: Client) -> None:
    put_state(client, step=str(Step.DONE), face_passed_at=time.time(), **PASSED)
    client.post("/reset/done/")
    client.post("/reset/done/")
    assert Reservation.objects.count() == 1
