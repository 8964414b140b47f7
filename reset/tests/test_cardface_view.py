"""POST /reset/cardface/ — routed here by a test URLconf so the wizard's urls are not needed."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cardface import reader, synth
from cardface.result import MESSAGES_JA, CardFaceReading, CardFaceReason, FieldReading
from reset import cardface_view as view

URL = "/reset/cardface/"


@pytest.fixture(autouse=True)
def _urls(settings: Any) -> None:
    settings.ROOT_URLCONF = "reset.tests.cardface_urls"


@pytest.fixture
def fake_reader(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Replaces the OCR with a recorder: these tests are about HTTP, not about reading."""
    received: list[bytes] = []

    def fake(data: bytes) -> CardFaceReading:
        received.append(data)
        return CardFaceReading(
            FieldReading(date(1985, 7, 23), 0.99),
            FieldReading(date(2034, 7, 23), 0.98),
            FieldReading("4821", 0.97),
        )

    monkeypatch.setattr(view, "read_card_face_image", fake)
    return received


def test_it_refuses_get() -> None:
    assert Client().get(URL).status_code == 405


# What the synthetic card says, in pieces the recogniser returns: none may reach a log.
CARD_TEXT = (
    "4821", "1985", "2034", "昭和", "60年", "7月23日", "まで有効", "花子", "千代田", "霞が関",
)


def test_it_reads_a_real_photo_sent_as_multipart(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    # rapidocr's own logger does not propagate; it writes to stderr, which capfd sees.
    logging.getLogger("RapidOCR").setLevel(logging.DEBUG)
    photo = synth.render_jpeg(synth.CardFront(), synth.Scene(rotation=5, seed=41))
    response = Client().post(
        URL, {"image": SimpleUploadedFile("front.jpg", photo, content_type="image/jpeg")}
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["ok"] is True
    assert (body["birth_date"], body["expiry_date"], body["security_code"]) == (
        "1985-07-23", "2034-07-23", "4821",
    )
    # The log says what happened, never what the card says (values or any recognised text).
    assert "card face read: ok" in caplog.text
    logged = caplog.text + "".join(capfd.readouterr())
    assert [piece for piece in CARD_TEXT if piece in logged] == []


def test_a_failure_inside_the_reading_is_an_answer_not_a_logged_traceback(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)

    def broken(*args: Any, **kwargs: Any) -> list[Any]:
        raise ValueError("recognised 4821 and 昭和60年7月23日生")

    monkeypatch.setattr(reader, "read_lines", broken)
    photo = synth.render_jpeg(synth.CardFront(), synth.Scene(seed=42))
    response = Client().post(URL, data=photo, content_type="image/jpeg")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is False and body["reason"] == CardFaceReason.UNREADABLE
    assert body["message"] and body["security_code"] is None
    assert "card face read failed: ValueError" in caplog.text
    assert "4821" not in caplog.text and "昭和" not in caplog.text


def test_it_accepts_a_raw_jpeg_body(fake_reader: list[bytes]) -> None:
    response = Client().post(URL, data=b"\xff\xd8jpeg-bytes", content_type="image/jpeg")
    assert response.status_code == 200
    assert fake_reader == [b"\xff\xd8jpeg-bytes"]
    assert response.json()["security_code"] == "4821"


def test_it_answers_not_a_card_for_bytes_that_are_no_image() -> None:
    response = Client().post(URL, data=b"hello", content_type="image/jpeg")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is False and body["reason"] == CardFaceReason.NOT_A_CARD
    assert body["message"]


def test_it_refuses_a_missing_image(fake_reader: list[bytes]) -> None:
    response = Client().post(URL, {"other": "x"})
    assert response.status_code == 400
    assert response.json()["error"] == "missing_image"
    assert fake_reader == []


def test_it_refuses_other_content_types(fake_reader: list[bytes]) -> None:
    response = Client().post(URL, data=b"{}", content_type="application/json")
    assert response.status_code == 415
    assert fake_reader == []


def test_it_refuses_more_than_4_mb(fake_reader: list[bytes]) -> None:
    big = b"\xff\xd8" + b"\0" * (4 * 1024 * 1024)
    raw = Client().post(URL, data=big, content_type="image/jpeg")
    assert raw.status_code == 413
    multipart = Client().post(
        URL, {"image": SimpleUploadedFile("big.jpg", big, content_type="image/jpeg")}
    )
    assert multipart.status_code == 413
    assert fake_reader == []


def test_a_multipart_upload_never_touches_the_disk(
    fake_reader: list[bytes], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With a 1-byte memory limit Django's default handlers would spool the upload to a file.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1
    spooled: list[str] = []

    def refuse_temp_file(*args: Any, **kwargs: Any) -> None:
        spooled.append("temp file")
        pytest.fail("spooled to disk")

    monkeypatch.setattr(
        "django.core.files.uploadhandler.TemporaryUploadedFile", refuse_temp_file
    )
    payload = b"\xff\xd8" + bytes(range(256)) * 4000  # ~1 MB
    response = Client().post(
        URL, {"image": SimpleUploadedFile("front.jpg", payload, content_type="image/jpeg")}
    )
    assert response.status_code == 200
    assert fake_reader == [payload]
    assert spooled == []


def test_it_checks_the_csrf_token(fake_reader: list[bytes]) -> None:
    client = Client(enforce_csrf_checks=True)
    refused = client.post(URL, data=b"\xff\xd8", content_type="image/jpeg")
    assert refused.status_code == 403
    multipart = client.post(
        URL, {"image": SimpleUploadedFile("f.jpg", b"\xff\xd8", content_type="image/jpeg")}
    )
    assert multipart.status_code == 403
    assert fake_reader == []
    secret = "k" * 32  # an unmasked CSRF secret is accepted in both cookie and header
    client.cookies["csrftoken"] = secret
    accepted = client.post(
        URL, {"image": SimpleUploadedFile("f.jpg", b"\xff\xd8", content_type="image/jpeg")},
        headers={"X-CSRFToken": secret},
    )
    assert accepted.status_code == 200
    assert fake_reader == [b"\xff\xd8"]


def test_it_still_works_when_wrapped_by_a_view_that_is_not_csrf_exempt(
    fake_reader: list[bytes], caplog: pytest.LogCaptureFixture
) -> None:
    client = Client(enforce_csrf_checks=True)
    secret = "w" * 32
    client.cookies["csrftoken"] = secret
    response = client.post(
        "/wrapped/cardface/",
        {"image": SimpleUploadedFile("f.jpg", b"\xff\xd8jpeg", content_type="image/jpeg")},
        headers={"X-CSRFToken": secret},
    )
    assert response.status_code == 200
    assert fake_reader == [b"\xff\xd8jpeg"]
    assert "route the card face views directly" in caplog.text


def test_messages_go_out_in_the_residents_language(
    fake_reader: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The English catalogue is regenerated by the lead; here only the hand-over is checked.
    monkeypatch.setattr(view, "gettext", lambda message: f"EN[{message}]")
    refused = Client().post(URL, data=b"{}", content_type="application/json")
    assert refused.json()["message"] == f"EN[{view.ERRORS_JA['unsupported_type']}]"
    monkeypatch.setattr(
        view, "read_card_face_image", lambda data: CardFaceReading.failed(CardFaceReason.GLARE)
    )
    body = Client().post(URL, data=b"\xff\xd8", content_type="image/jpeg").json()
    assert body["reason"] == "glare"
    assert body["message"] == f"EN[{MESSAGES_JA[CardFaceReason.GLARE]}]"
