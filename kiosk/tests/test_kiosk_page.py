"""The kiosk page: one GET, every screen in it, strict headers, nothing about a resident."""

from __future__ import annotations

import json

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_page_has_every_screen_and_its_configuration(client: Client) -> None:
    response = client.get("/kiosk/")
    assert response.status_code == 200
    html = response.content.decode()
    for screen in ("top", "menu", "choose", "place", "known", "new", "working", "done", "refused"):
        assert f'data-screen="{screen}"' in html
    assert "行政サービス" in html and "マイナンバーカードパスワード初期化" in html
    config = json.loads(html.split('id="kiosk-config" type="application/json">')[1].split("<")[0])
    assert config["socketPath"] == "/ws/issuer/" and config["idleSeconds"] >= 10
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_it_answers_only_get(client: Client) -> None:
    assert client.post("/kiosk/").status_code == 405


def test_it_sets_no_session_cookie(client: Client) -> None:
    response = client.get("/kiosk/")
    assert "sessionid" not in response.cookies
