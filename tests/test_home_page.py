from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
def test_home_page_is_japanese_by_default(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="ja">' in body
    assert "パスワード初期化予約" in body
    # Landmarks a screen reader navigates by: banner, navigation (language switch), main, footer.
    for landmark in ("<header", "<nav", '<main id="main"', "<footer"):
        assert landmark in body


@pytest.mark.django_db
def test_home_page_switches_to_english(client: Client) -> None:
    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert switched.status_code == 302
    body = client.get("/").content.decode()
    assert '<html lang="en">' in body
    assert "Book a password reset" in body
    assert "パスワード初期化予約</a>" not in body


@pytest.mark.django_db
def test_home_page_refuses_post(client: Client) -> None:
    assert client.post("/").status_code == 405
