"""Asking for more time (WCAG 2.2.1, issue 18): the server extends, bounded and rate-limited."""

from __future__ import annotations

import time

import pytest
from django.test import Client, override_settings

from reset import limits, wizard_state
from reset.tests.conftest import post_json, put_state
from reset.wizard_state import Step

pytestmark = [pytest.mark.django_db, pytest.mark.backends]

URL = "/reset/more-time/"


@override_settings(MYNA_WIZARD_MAX_AGE_SECONDS=600)
def test_it_grants_a_fresh_lifetime_and_keeps_the_place(client: Client) -> None:
    # Nine of ten minutes gone, mid-way through the card page.
    started = time.time() - 540
    put_state(client, step=str(Step.PASSWORD), started_at=started)
    response = post_json(client, URL, {})
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True and body["step"] == "password"
    assert 590 <= body["seconds_left"] <= 600
    assert body["extensions_left"] == 9
    state = wizard_state.load(client.session)
    assert state is not None and state.step == Step.PASSWORD and state.started_at == started
    # Past the first deadline, the wizard is still there; without more time it would be gone.
    assert wizard_state.load(client.session, now=started + 700) is not None
    assert wizard_state.load(client.session, now=time.time() + 601) is None


@override_settings(MYNA_WIZARD_MAX_AGE_SECONDS=600, MYNA_WIZARD_EXTENSIONS=10)
def test_it_allows_ten_times_the_default_and_no_more(client: Client) -> None:
    started = time.time()
    put_state(client, step=str(Step.CARD_FACE), started_at=started)
    for left in range(9, -1, -1):
        response = post_json(client, URL, {})
        assert response.status_code == 200 and response.json()["extensions_left"] == left
    refused = post_json(client, URL, {})
    assert refused.status_code == 409
    assert refused.json()["reason"] == "extension_limit"
    assert "延長" in refused.json()["message"]
    # Extending early never moves the deadline backwards, nor stacks lifetimes beyond now + one.
    state = wizard_state.load(client.session)
    assert state is not None and state.extensions == 10
    assert started + 600 <= state.deadline <= time.time() + 600


def test_it_rejects_an_expired_wizard(client: Client) -> None:
    put_state(client, step=str(Step.CARD_FACE), started_at=time.time() - 99999)
    response = post_json(client, URL, {})
    assert response.status_code == 409
    assert response.json()["reason"] == "expired_session"


def test_it_rejects_without_a_wizard(client: Client) -> None:
    assert post_json(client, URL, {}).json()["reason"] == "expired_session"


def test_it_rejects_get(client: Client) -> None:
    put_state(client, step=str(Step.CARD_FACE))
    assert client.get(URL).status_code == 405


def test_it_is_rate_limited(client: Client) -> None:
    put_state(client, step=str(Step.CARD_FACE))
    key = limits.session_key_hash(str(client.session.session_key))
    limit = limits.extension_session_limit()
    for _ in range(limit.attempts):
        assert limits.consume(limit, key)
    response = post_json(client, URL, {})
    assert response.status_code == 429
    assert response.json()["reason"] == "rate_limited"
    assert int(response["Retry-After"]) >= 1


def test_it_requires_the_csrf_token() -> None:
    strict = Client(enforce_csrf_checks=True)
    put_state(strict, step=str(Step.CARD_FACE))
    response = strict.post(URL)
    assert response.status_code == 403
    assert response.json()["reason"] == "csrf_failed"


@override_settings(MYNA_WIZARD_WARN_SECONDS=90)
def test_the_wizard_pages_carry_the_time_left(client: Client) -> None:
    put_state(client, step=str(Step.CARD_FACE))
    page = client.get("/reset/card/").content.decode()
    assert 'id="time-dialog"' in page and 'role="alertdialog"' in page
    assert 'data-warn-seconds="90"' in page
    assert "session-timer.js" in page
