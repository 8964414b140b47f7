"""GET_DIAGNOSTICS: a support report with versions, service, readers and recent failures only."""

from __future__ import annotations

import asyncio
import json

from bridge.diagnostics import MAX_FAILURES, Diagnostics
from bridge.reasons import BridgeFailure, BridgeReason
from bridge.simulated import SIMULATED_READER
from bridge.tests.helpers import (
    DEMO_FACE,
    DEV_ORIGIN,
    PURPOSE_SIGN_RESET,
    Bridge,
    Client,
    new_nonce,
)

WRONG_PIN = "1357"


async def test_the_report_names_versions_settings_and_readers(client: Client) -> None:
    report = await client.call("GET_DIAGNOSTICS", "DIAGNOSTICS", id="d1")
    assert report["id"] == "d1"
    assert report["environment"]["bridge"]
    assert report["environment"]["packages"]["pyscard"]
    assert report["backend"] == "simulated"
    assert DEV_ORIGIN in report["settings"]["allowed_origins"]
    assert report["readers"][0]["name"] == SIMULATED_READER
    assert report["service"] is True
    assert report["state"] == "READY"
    assert report["failures"] == []


async def test_it_is_refused_before_hello(bridge: Bridge) -> None:
    async with bridge.connect() as ws:
        reply = await Client(ws).call("GET_DIAGNOSTICS")
    assert reply["msg"] == "BAD_STATE"
    assert reply["cmd"] == "GET_DIAGNOSTICS"


async def test_failures_are_recorded_as_codes_without_what_was_typed(client: Client) -> None:
    await client.call("SIM_CARD", "SIM_CARD", present=False)
    await client.call("GET_CARD_STATUS", "CARD_STATUS")
    await client.call("SIM_CARD", "SIM_CARD", present=True)
    wrong = await client.call(
        "AUTHENTICATE", "AUTHENTICATION", purpose=PURPOSE_SIGN_RESET, nonce=new_nonce(),
        key="auth", pin=WRONG_PIN,
    )
    assert wrong["reason"] == "WRONG_PIN"
    report = await client.call("GET_DIAGNOSTICS", "DIAGNOSTICS")
    failures = report["failures"]
    assert [(f["command"], f["reason"]) for f in failures] == [
        ("GET_CARD_STATUS", "NO_CARD"), ("AUTHENTICATE", "WRONG_PIN"),
    ]
    assert failures[1]["pin"] == "jpki_auth"
    assert failures[1]["tries_left"] == 2
    assert WRONG_PIN not in json.dumps(failures)
    assert WRONG_PIN not in json.dumps(report["environment"])


async def test_it_is_answered_while_a_card_command_runs(bridge: Bridge, client: Client) -> None:
    bridge.gate.hold_at_read = 1
    await client.send("READ_CARD_FACE", nonce=new_nonce(), purpose=PURPOSE_SIGN_RESET, **DEMO_FACE)
    await asyncio.to_thread(bridge.gate.reached.wait, 30)
    report = await client.call("GET_DIAGNOSTICS", "DIAGNOSTICS")
    assert report["state"] == "BUSY"
    assert report["workflow"] == "READ_CARD_FACE"
    bridge.gate.release.set()
    assert (await client.until("CARD_FACE"))["ok"] is True


def test_only_code_fields_are_kept_and_the_list_is_bounded() -> None:
    diagnostics = Diagnostics()
    for _ in range(MAX_FAILURES + 5):
        diagnostics.record(
            "AUTHENTICATE",
            BridgeFailure(
                BridgeReason.READER_BUSY, "connect", likely_holders=["x"], pcsc_error="E"
            ),
        )
    failures = diagnostics.failures()
    assert len(failures) == MAX_FAILURES
    assert set(failures[0]) == {"at", "command", "reason", "pcsc_error"}
