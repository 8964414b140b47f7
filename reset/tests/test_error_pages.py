"""Server errors and outages: a resident-facing page in the resident's language, JSON for the API.

The database "going down" is its driver raising OperationalError where the session is read (the
first query of nearly every request), which is what a stopped PostgreSQL or a locked SQLite file
give; a genuine bug is a RuntimeError inside a view.
"""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.test import Client

from reset.tests.conftest import put_state
from reset.wizard_state import Step

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> Client:
    return Client(raise_request_exception=False)


@pytest.fixture
def database_down(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.contrib.sessions.backends import db

    def unreachable(self: object) -> dict[str, object]:
        raise OperationalError("connection to server at 127.0.0.1:5432 failed")

    monkeypatch.setattr(db.SessionStore, "load", unreachable)


def test_a_page_during_a_database_outage_says_so_in_japanese(
    client: Client, database_down: None
) -> None:
    client.cookies["sessionid"] = "x" * 32
    response = client.get("/reset/card/")
    assert response.status_code == 503
    assert response["Retry-After"]
    body = response.content.decode()
    assert "ただいま利用できません" in body and "しばらく時間をおいてから" in body
    assert 'lang="ja"' in body and "Server Error" not in body


def test_a_json_endpoint_during_a_database_outage_answers_a_reason_code(
    client: Client, database_down: None
) -> None:
    client.cookies["sessionid"] = "x" * 32
    response = client.post("/reset/progress/", data="{}", content_type="application/json")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json()["reason"] == "service_unavailable"
    assert "しばらく時間をおいてから" in response.json()["message"]


def test_a_bug_gives_a_resident_facing_500_page(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("reservations.kiosk_stores.store_list", broken)
    response = client.get("/help/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "エラーが発生しました" in body and "最初からやり直してください" in body
    assert "Retry-After" not in response
    client.cookies["django_language"] = "en"
    english = client.get("/help/").content.decode()
    assert 'lang="en"' in english and "エラーが発生しました" not in english


def test_a_bug_in_a_json_endpoint_answers_json(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    put_state(client, step=str(Step.CHIP))
    monkeypatch.setattr("reset.nonces.issue", broken)
    response = client.post("/reset/nonce/", data="{}", content_type="application/json")
    assert response.status_code == 500
    assert response.json()["reason"] == "server_error"
