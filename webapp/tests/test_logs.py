"""Structured logs: one JSON object per event, with the request ID, and still no personal data."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.testing import WebsocketCommunicator
from django.test import Client, override_settings

from webapp import request_id
from webapp.logs import JsonFormatter, event_name
from webapp.tests.test_settings import PRODUCTION_ENV, run_manage

SECRET = "4821 昭和60年7月23日"  # what a careless exception text might quote


def lines_of(handler_stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in handler_stream.getvalue().splitlines()]


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("reset.models", logging.INFO, __file__, 1, msg, args, None)
    made.__dict__.update(extra)
    return made


# --------------------------------------------------------------------------- the format
def test_one_line_of_json_with_level_logger_event_and_fields() -> None:
    line = JsonFormatter().format(
        record("reservation booked target=%s superseded=%d", "sign", 1)
    )
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "INFO" and entry["logger"] == "reset.models"
    assert entry["event"] == "reservation booked"
    assert entry["message"] == "reservation booked target=sign superseded=1"
    assert entry["fields"] == {"target": "sign", "superseded": "1"}
    assert entry["request_id"] == "-"  # outside a request
    assert entry["time"].endswith("+00:00")


@pytest.mark.parametrize(
    ("template", "event"),
    [
        ("wizard abandoned", "wizard abandoned"),
        ("card face request refused: %s", "card face request refused"),
        ("housekeeping expired=%d pruned=%d nonces=%d", "housekeeping"),
        ("Listening on TCP address %s:%s", "Listening on TCP address"),
    ],
)
def test_the_event_name_is_the_template_before_its_first_value(template: str, event: str) -> None:
    assert event_name(record(template)) == event


def test_a_call_may_name_its_event() -> None:
    assert event_name(record("whatever %s", "x", event="face.result")) == "face.result"


def test_an_exception_is_logged_as_its_class_and_frames_never_its_text() -> None:
    try:
        raise ValueError(f"recognised {SECRET}")
    except ValueError:
        failing = logging.LogRecord(
            "reset.face_consumer", logging.ERROR, __file__, 1, "face frame could not be analysed",
            (), sys.exc_info(),
        )
    entry = json.loads(JsonFormatter().format(failing))
    assert entry["exception"] == "ValueError"
    assert any("test_logs.py" in frame for frame in entry["stack"])
    assert "4821" not in json.dumps(entry) and "昭和" not in json.dumps(entry, ensure_ascii=False)


# --------------------------------------------------------------------------- request IDs
@pytest.mark.django_db
def test_every_line_of_a_request_carries_its_id_and_the_response_names_it(
    captured: io.StringIO,
) -> None:
    response = Client().post("/reset/choose/", {"target": "sign"})
    assert response.status_code == 302
    given = response["X-Request-ID"]
    assert len(given) == 32
    entries = lines_of(captured)
    started = [e for e in entries if e["event"] == "wizard started"]
    finished = [e for e in entries if e["event"] == "request finished"]
    assert started and finished
    assert {e["request_id"] for e in started + finished} == {given}
    assert finished[0]["fields"]["path"] == "/reset/choose/"
    assert finished[0]["fields"]["status"] == "302"
    # After the request, code runs outside it again.
    assert request_id.current.get() == "-"


@pytest.mark.django_db
def test_the_access_line_never_holds_the_query_string(captured: io.StringIO) -> None:
    Client().get("/guide/?birth=19850723&code=4821")
    text = captured.getvalue()
    assert '"path=/guide/' in text or "path=/guide/ " in text
    assert "4821" not in text and "19850723" not in text


@pytest.mark.django_db
def test_healthy_probes_leave_no_access_line_but_a_failing_one_does(
    captured: io.StringIO,
) -> None:
    Client().get("/healthz")
    Client().get("/readyz")
    assert "request finished" not in captured.getvalue()
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        assert Client().get("/readyz").status_code == 503
    finished = [e for e in lines_of(captured) if e["event"] == "request finished"]
    assert [e["fields"]["status"] for e in finished] == ["503"]


@pytest.mark.django_db
@override_settings(MYNA_TRUST_REQUEST_ID=True)
def test_a_trusted_proxys_id_is_kept() -> None:
    response = Client().get("/guide/", HTTP_X_REQUEST_ID="0f1e2d3c4b5a69788796a5b4c3d2e1f0")
    assert response["X-Request-ID"] == "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


@pytest.mark.django_db
@override_settings(MYNA_TRUST_REQUEST_ID=True)
@pytest.mark.parametrize("offered", ["short", "a" * 65, "abc def 12345", "x\n{\"level\":\"E\"}"])
def test_an_id_in_any_other_form_is_replaced(offered: str) -> None:
    response = Client().get("/guide/", HTTP_X_REQUEST_ID=offered)
    assert response["X-Request-ID"] != offered and len(response["X-Request-ID"]) == 32


@pytest.mark.django_db
@override_settings(MYNA_TRUST_REQUEST_ID=False)
def test_without_a_trusted_proxy_a_clients_id_is_ignored() -> None:
    response = Client().get("/guide/", HTTP_X_REQUEST_ID="0f1e2d3c4b5a69788796a5b4c3d2e1f0")
    assert response["X-Request-ID"] != "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


class _SaysItsId(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        await self.accept()
        await self.send(text_data=request_id.current.get())


@pytest.mark.django_db(transaction=True)  # Channels closes old connections around a consumer
@pytest.mark.parametrize(("trust", "kept"), [(True, True), (False, False)])
async def test_a_websocket_connection_has_one_id_from_its_handshake(
    trust: bool, kept: bool
) -> None:
    app = request_id.WebSocketRequestIdMiddleware(_SaysItsId.as_asgi())
    offered = "7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d"
    with override_settings(MYNA_TRUST_REQUEST_ID=trust):
        communicator = WebsocketCommunicator(
            app, "/ws/face/", headers=[(b"x-request-id", offered.encode())]
        )
        connected, _ = await communicator.connect()
        assert connected
        said = await communicator.receive_from()
        await communicator.disconnect()
    assert (said == offered) is kept
    assert len(said) == 32


# --------------------------------------------------------------------------- the settings
def test_production_logs_json_and_a_bad_format_stops_start_up(tmp_path: Path) -> None:
    result = run_manage(["check"], PRODUCTION_ENV, tmp_path)
    assert result.returncode == 0, result.stderr
    logged = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert any(e["event"] == "kiosk store list loaded" for e in logged), result.stderr
    bad = run_manage(["check"], {**PRODUCTION_ENV, "LOG_FORMAT": "xml"}, tmp_path)
    assert bad.returncode != 0 and "LOG_FORMAT" in bad.stderr
