"""POST /reset/cardface/burst/ — a few live frames, read through cardface.burst."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
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


def _arm_length_burst() -> list[bytes]:
    """Six frames from a 640x480 webcam of a card held at arm's length (about 230 px wide),
    moved by the hand's tremor between frames: read by averaging them (cardface/fuse.py)."""
    return [
        synth.render_jpeg(FRONT, synth.Scene(canvas=(640, 480), card_width=230 + dw,
                                             rotation=2.0 + turn, jpeg_quality=85, seed=seed))
        for seed, (dw, turn) in enumerate([(0, 0.0), (2, 0.4), (-2, -0.3), (1, 0.8), (-1, -0.6),
                                           (3, 0.2)])
    ]


FRONT = synth.CardFront()


def test_a_real_burst_is_read_in_memory_only_and_logs_no_value(
    caplog: pytest.LogCaptureFixture, settings: Any, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    # With a 1-byte limit Django's default handlers would spool every frame to a temporary file
    # in FILE_UPLOAD_TEMP_DIR; the view must keep them in memory (MemoryOnlyUploadHandler).
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    handlers: list[list[str]] = []
    temp_files: list[str] = []
    new_file = view.MemoryOnlyUploadHandler.new_file

    def watch(self: view.MemoryOnlyUploadHandler, field_name: str, *args: Any,
              **kwargs: Any) -> None:
        handlers.append([type(h).__name__ for h in self.request.upload_handlers])
        new_file(self, field_name, *args, **kwargs)

    def refuse_temp_file(*args: Any, **kwargs: Any) -> None:
        temp_files.append("TemporaryUploadedFile")
        raise AssertionError("a frame was spooled to disk")

    monkeypatch.setattr(view.MemoryOnlyUploadHandler, "new_file", watch)
    monkeypatch.setattr("django.core.files.uploadhandler.TemporaryUploadedFile",
                        refuse_temp_file)
    frames = _arm_length_burst()
    response = Client().post(URL, _frames(*frames))
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True, body
    assert (body["birth_date"], body["expiry_date"], body["security_code"]) == (
        "1985-07-23", "2034-07-23", "4821")
    # Every frame went through the one in-memory handler, and nothing reached the temp dir.
    assert handlers == [["MemoryOnlyUploadHandler"]] * len(frames)
    assert temp_files == [] and list(tmp_path.iterdir()) == []
    logged = " ".join(r.getMessage() for r in caplog.records)
    for value in ("4821", "1985", "2034", "7月23日"):
        assert value not in logged
