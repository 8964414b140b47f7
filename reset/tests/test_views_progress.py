"""The card page's sub-step progress: strict order, never twice, no values accepted."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from reset import wizard_state
from reset.tests.conftest import post_json, put_state
from reset.wizard_state import Step

pytestmark = [pytest.mark.django_db, pytest.mark.backends]


def test_it_walks_the_sub_steps_in_order(client: Client) -> None:
    put_state(client, step=str(Step.CARD_FACE))
    for done, step in (("card_face", "reader"), ("reader", "password"), ("password", "chip")):
        response = post_json(client, "/reset/progress/", {"done": done})
        assert response.status_code == 200
        assert response.json() == {"ok": True, "step": step}
    state = wizard_state.load(client.session)
    assert state is not None and state.step == Step.CHIP


def test_it_refuses_a_step_out_of_order(client: Client) -> None:
    put_state(client, step=str(Step.CARD_FACE))
    response = post_json(client, "/reset/progress/", {"done": "password"})
    assert response.status_code == 409
    assert response.json()["reason"] == "wrong_step"


def test_it_refuses_a_step_twice(client: Client) -> None:
    put_state(client, step=str(Step.CARD_FACE))
    assert post_json(client, "/reset/progress/", {"done": "card_face"}).status_code == 200
    again = post_json(client, "/reset/progress/", {"done": "card_face"})
    assert again.status_code == 409


def test_it_rejects_get(client: Client) -> None:
    put_state(client, step=str(Step.CARD_FACE))
    assert client.get("/reset/progress/").status_code == 405


def test_it_rejects_an_expired_session(client: Client) -> None:
    put_state(client, step=str(Step.CARD_FACE), started_at=time.time() - 99999)
    response = post_json(client, "/reset/progress/", {"done": "card_face"})
    assert response.status_code == 409
    assert response.json()["reason"] == "expired_session"


def test_it_rejects_an_unknown_sub_step(client: Client) -> None:
    put_state(client, step=str(Step.CARD_FACE))
    assert post_json(client, "/reset/progress/", {"done": "face"}).status_code == 400
    assert post_json(client, "/reset/progress/", ["card_face"]).status_code == 400


def test_it_requires_the_csrf_token() -> None:
    strict = Client(enforce_csrf_checks=True)
    put_state(strict, step=str(Step.CARD_FACE))
    response = post_json(strict, "/reset/progress/", {"done": "card_face"})
    assert response.status_code == 403
