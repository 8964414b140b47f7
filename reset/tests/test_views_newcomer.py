"""What a newcomer found on the wizard pages (issue 14, minor items), view by view."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from reset.tests.conftest import put_state
from reset.wizard_state import Step

pytestmark = pytest.mark.django_db

PASSED = {"card_identity": "ab" * 32, "photo_sha256": "cd" * 32, "evidence_at": 1.0}


def test_the_counter_link_of_the_face_page_leads_to_counter_information(client: Client) -> None:
    put_state(client, step=str(Step.FACE), **PASSED)
    face = client.get("/reset/face/").content.decode()
    link = re.search(r'href="/help/#(\w+)">窓口での手続きについて', face)
    assert link is not None
    help_page = client.get("/help/").content.decode()
    section = help_page.split(f'id="{link.group(1)}"', 1)[1].split("<h2", 1)[0]
    assert "市区町村窓口" in section and "マイナンバーカードを持参" in section


def _jpeg() -> bytes:
    import cv2
    import numpy as np

    ok, data = cv2.imencode(".jpg", np.full((240, 320, 3), 128, dtype=np.uint8))
    assert ok
    return bytes(data)


# ids not equal to "reader": conftest.py skips any item with a "reader" keyword (--reader tests).
@pytest.mark.parametrize(
    "step", [Step.READER, Step.PASSWORD, Step.CHIP, Step.FACE], ids=lambda step: f"at-{step}"
)
def test_the_card_face_camera_read_refuses_other_steps(client: Client, step: Step) -> None:
    put_state(client, step=str(step), **PASSED)
    response = client.post("/reset/cardface/", data=_jpeg(), content_type="image/jpeg")
    assert response.status_code == 409
    assert response.json()["reason"] == "wrong_step"


def test_the_card_face_camera_read_refuses_without_a_wizard(client: Client) -> None:
    response = client.post("/reset/cardface/", data=_jpeg(), content_type="image/jpeg")
    assert response.status_code == 409
    assert response.json()["reason"] == "expired_session"


def test_the_card_face_camera_read_is_rate_limited(client: Client, settings: object) -> None:
    setattr(settings, "MYNA_CARDFACE_ATTEMPTS", 2)  # noqa: B010 - pytest-django's settings
    put_state(client, step=str(Step.CARD_FACE))
    for _ in range(2):
        answer = client.post("/reset/cardface/", data=_jpeg(), content_type="image/jpeg")
        assert answer.status_code == 200 and "reason" in answer.json()
    refused = client.post("/reset/cardface/", data=_jpeg(), content_type="image/jpeg")
    assert refused.status_code == 429
    assert refused.json()["reason"] == "rate_limited" and refused["Retry-After"]


def test_a_reloaded_card_page_says_why_its_form_is_empty(client: Client) -> None:
    put_state(client, step=str(Step.CARD_FACE))
    assert 'id="card-rewound"' not in client.get("/reset/card/").content.decode()
    put_state(client, step=str(Step.PASSWORD))
    body = client.get("/reset/card/").content.decode()
    assert 'id="card-rewound"' in body and "もう一度入力してください" in body


def test_the_face_page_offers_the_card_read_again_for_its_target(client: Client) -> None:
    put_state(client, step=str(Step.FACE), target="auth", **PASSED)
    body = client.get("/reset/face/").content.decode()
    form = body.split('id="face-reread"', 1)[1].split("</form>", 1)[0]
    assert 'name="target" value="auth"' in form
    response = client.post("/reset/choose/", {"target": "auth"})
    assert response["Location"] == "/reset/card/"


@pytest.mark.parametrize(("url", "least"), [("/help/", 2), ("/guide/", 4)])
def test_the_help_and_guide_pages_have_pictures_of_our_own(
    client: Client, url: str, least: int
) -> None:
    from xml.etree import ElementTree

    from django.contrib.staticfiles import finders

    body = client.get(url).content.decode()
    images = re.findall(r'<img src="/static/([^"]+)"[^>]*alt="([^"]+)"', body)
    assert len(images) >= least
    for path, alt in images:
        assert alt.strip()
        found = finders.find(path)
        assert found, path
        text = Path(found).read_text(encoding="utf-8")
        ElementTree.fromstring(text)  # noqa: S314 - our own file in the repo: well-formed SVG
        # No external assets: nothing but the SVG namespace names a URL.
        assert re.findall(r"https?://[^\"' ]+", text) == ["http://www.w3.org/2000/svg"], path


def test_the_help_page_is_written_for_residents_not_developers(client: Client) -> None:
    """Issue 14: the desktop help told residents to `pip install myna-reset` and showed a
    ws://127.0.0.1 address. It says what to install, what the reader's light means, and shows
    how to place the card, as the official app does."""
    body = client.get("/help/").content.decode()
    for developer_text in ("pip install", "pip3", "ws://", "127.0.0.1", "localhost", "--port"):
        assert developer_text not in body, developer_text
    assert 'id="reader-light"' in body and "ランプ" in body
    placement = body[body.index('id="card-placement"'):]
    assert placement.count("<img ") >= 2
    assert "インストール" in body


@pytest.mark.parametrize("url", ["/", "/reset/card/", "/reset/face/"])
def test_wizard_pages_are_never_cached_so_back_asks_the_server(client: Client, url: str) -> None:
    """Back/Forward onto a cached wizard page showed a step the server had left (issue 14)."""
    if url == "/reset/face/":
        put_state(client, step=str(Step.FACE), **PASSED)
    else:
        put_state(client, step=str(Step.CARD_FACE))
    response = client.get(url)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
