"""What a newcomer found on the wizard pages (issue 14, minor items), view by view."""

from __future__ import annotations

import re

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


@pytest.mark.parametrize("step", [Step.READER, Step.PASSWORD, Step.CHIP, Step.FACE])
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
