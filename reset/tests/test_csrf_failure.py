"""settings.CSRF_FAILURE_VIEW: JSON endpoints get a reason code, pages keep Django's HTML page."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory

from reset import api_views
from reset.tests.conftest import put_state
from reset.wizard_state import Step

pytestmark = [pytest.mark.django_db]

EXPECTED_MESSAGE = (
    "画面の有効期限が切れました。ページを再読み込みして、最初からやり直してください。"
)


@pytest.fixture
def strict() -> Client:
    client = Client(enforce_csrf_checks=True)
    put_state(client, step=str(Step.CHIP))
    return client


@pytest.mark.parametrize(
    "url", ["/reset/progress/", "/reset/nonce/", "/reset/evidence/", "/reset/cardface/",
            "/reset/cardface/burst/", "/reset/tries/"]
)
def test_a_json_endpoint_answers_a_csrf_failure_with_json(strict: Client, url: str) -> None:
    if url.startswith("/reset/cardface/"):
        # The camera read refuses every other step before it looks at the upload.
        put_state(strict, step=str(Step.CARD_FACE))
    response = strict.post(url, data="{}", content_type="application/json")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"ok": False, "reason": "csrf_failed", "message": EXPECTED_MESSAGE}


def test_the_card_face_upload_answers_a_csrf_failure_with_json(strict: Client) -> None:
    # The upload's own csrf_protect (not the middleware) refuses it; the same view answers.
    put_state(strict, step=str(Step.CARD_FACE))
    response = strict.post(
        "/reset/cardface/", data=b"\xff\xd8", content_type="image/jpeg",
        headers={"X-CSRFToken": "x" * 32},
    )
    assert response.status_code == 403
    assert response.json()["reason"] == "csrf_failed"


@pytest.mark.parametrize("url", ["/reset/choose/", "/reset/done/", "/reset/cancel/"])
def test_a_page_keeps_an_html_csrf_page(strict: Client, url: str) -> None:
    response = strict.post(url, data={"target": "sign"})
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    # templates/403_csrf.html: the resident's words and a way back, not Django's English page.
    assert "画面の有効期限が切れました" in response.content.decode()
    assert b"csrf_failed" not in response.content


def test_an_unknown_path_keeps_an_html_csrf_page() -> None:
    request = RequestFactory().post("/no/such/path/")
    response = api_views.csrf_failure(request, reason="CSRF cookie not set.")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    assert "画面の有効期限が切れました" in response.content.decode()


def test_a_request_with_the_token_is_not_refused(strict: Client) -> None:
    strict.get("/reset/choose/")
    token = strict.cookies["csrftoken"].value
    response = strict.post(
        "/reset/nonce/", data="{}", content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200
    assert response.json()["ok"] is True
