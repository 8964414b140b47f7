"""POST /reset/cardface/burst/ — a few live frames, read through cardface.burst."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cardface import synth
from cardface.burst import MAX_FRAMES
from cardface.result import CardFaceReading, FieldReading
from reset import cardface_view as view

URL = "/reset/cardface/burst/"


@pytest.fixture(autouse=True)
def _urls(settings: Any) -> None:
    settings.ROOT_URLCONF = "reset.tests.cardface_urls"


@pytest.fixture
def fake_reader(monkeypatch: pytest.MonkeyPatch) -> list[list[bytes]]:
    """Replaces the OCR with a recorder: these tests are about HTTP, not about reading."""
    received: list[list[bytes]] = []

    def fake(frames: list[bytes]) -> CardFaceReading:
        received.append(list(frames))
        return CardFaceReading(
            FieldReading(date(1985, 7, 23), 0.99),
            FieldReading(date(2034, 7, 23), 0.98),
            FieldReading("4821", 0.97),
        )

    monkeypatch.setattr(view, "read_card_burst_bytes", fake)
    return received


def _frames(*payloads: bytes) -> dict[str, list[SimpleUploadedFile]]:
    return {"frame": [SimpleUploadedFile(f"f{i}.jpg", p, content_type="image/jpeg")
                      for i, p in enumerate(payloads)]}


def test_every_frame_reaches_the_reader_in_order(fake_reader: list[list[bytes]]) -> None:
    response = Client().post(URL, _frames(b"\xff\xd8one", b"\xff\xd8two", b"\xff\xd8three"))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response.json()["security_code"] == "4821"
    assert fake_reader == [[b"\xff\xd8one", b"\xff\xd8two", b"\xff\xd8three"]]


def test_it_refuses_an_empty_burst_and_other_content(fake_reader: list[list[bytes]]) -> None:
    assert Client().post(URL, {"other": "x"}).json()["error"] == "missing_image"
    raw = Client().post(URL, data=b"\xff\xd8", content_type="image/jpeg")
    assert raw.status_code == 415
    assert fake_reader == []


def test_it_refuses_too_many_or_too_large_frames(fake_reader: list[list[bytes]]) -> None:
    many = Client().post(URL, _frames(*[b"\xff\xd8x"] * (MAX_FRAMES + 1)))
    assert many.status_code == 400 and many.json()["error"] == "too_many_frames"
    large = Client().post(URL, _frames(b"\xff\xd8" + b"x" * view.MAX_FRAME_BYTES))
    assert large.status_code == 413 and large.json()["error"] == "too_large"
    assert fake_reader == []


def test_it_checks_the_csrf_token(fake_reader: list[list[bytes]]) -> None:
    client = Client(enforce_csrf_checks=True)
    assert client.post(URL, _frames(b"\xff\xd8")).status_code == 403
    assert fake_reader == []
    secret = "k" * 32
    client.cookies["csrftoken"] = secret
    accepted = client.post(URL, _frames(b"\xff\xd8"), headers={"X-CSRFToken": secret})
    assert accepted.status_code == 200
    assert len(fake_reader) == 1


def test_it_reads_a_real_burst_and_logs_no_value(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    front = synth.CardFront()
    frames = [
        synth.render_jpeg(front, synth.Scene(canvas=(1280, 720), card_width=480, motion=smear,
                                             rotation=rot, seed=seed))
        for seed, (smear, rot) in enumerate([(11.0, 4.0), (0.0, -3.0), (0.0, 2.0), (7.0, 0.0)])
    ]
    response = Client().post(URL, _frames(*frames))
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True, body
    assert (body["birth_date"], body["expiry_date"], body["security_code"]) == (
        "1985-07-23", "2034-07-23", "4821")
    logged = " ".join(r.getMessage() for r in caplog.records)
    for value in ("4821", "1985", "2034", "7月23日"):
        assert value not in logged
