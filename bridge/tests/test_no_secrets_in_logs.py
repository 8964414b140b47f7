"""No PIN, password or 照合番号B ever reaches a log, at the most verbose level there is."""

from __future__ import annotations

import json
import logging

import pytest
from websockets.asyncio.client import connect

from bridge.simulated import SimulatedBackend
from bridge.tests.helpers import (
    CLIENT_LOGGER,
    DEMO_FACE,
    DEMO_PASSWORD,
    DEMO_PIN,
    DEV_ORIGIN,
    PURPOSE_AUTH_RESET,
    PURPOSE_SIGN_RESET,
    Client,
    free_port,
    new_nonce,
    start_bridge,
)

WRONG_PIN = "7391"  # a wrong try is as secret as the right one (it may be a near miss)
SECRETS = (DEMO_PIN, DEMO_PASSWORD, "60072320344821", "myna2580", WRONG_PIN)


async def test_secrets_never_reach_the_logs_at_the_lowest_level(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(1)  # below DEBUG and mynacard's TRAFFIC level: everything
    for name in ("websockets", "websockets.server", "mynacard", "bridge", "asyncio"):
        caplog.set_level(1, logger=name)
    port = free_port(avoiding=SECRETS)  # the port is logged
    server = await start_bridge(SimulatedBackend(), port=port)
    try:
        url = f"ws://127.0.0.1:{server.port}/"
        async with connect(url, origin=DEV_ORIGIN, logger=CLIENT_LOGGER) as ws:  # type: ignore[arg-type]
            page = Client(ws)
            await page.hello()
            await page.call("GET_CARD_STATUS", "CARD_STATUS")
            ok = await page.call(
                "RESERVE", "EVIDENCE", purpose=PURPOSE_SIGN_RESET, nonce=new_nonce(),
                pin=DEMO_PIN, **DEMO_FACE,
            )
            assert ok["ok"] is True
            ok = await page.call(
                "RESERVE", "EVIDENCE", purpose=PURPOSE_AUTH_RESET, nonce=new_nonce(),
                pin=DEMO_PASSWORD.lower(), **DEMO_FACE,
            )
            assert ok["ok"] is True
            wrong = await page.call(
                "AUTHENTICATE", "AUTHENTICATION", purpose=PURPOSE_SIGN_RESET, nonce=new_nonce(),
                pin=WRONG_PIN,
            )
            assert wrong["reason"] == "WRONG_PIN"
            await page.call("SIM_CARD", "SIM_CARD", present=False)
            await page.call("SIM_CARD", "SIM_CARD", present=True)
            pushed = await page.until("READER")
            while pushed["event"] != "card_status":  # the counters read after insertion
                pushed = await page.until("READER")
            report = await page.call("GET_DIAGNOSTICS", "DIAGNOSTICS")
            assert report["failures"]
            for secret in SECRETS:
                assert secret not in json.dumps(report["failures"])
            malformed = await page.call(
                "AUTHENTICATE", "AUTHENTICATION", purpose=PURPOSE_AUTH_RESET, nonce=new_nonce(),
                pin=DEMO_PASSWORD + "!",
            )
            assert malformed["reason"] == "MALFORMED_PIN"
            await ws.send('{"cmd": "RESERVE", "pin": "' + DEMO_PIN + '", "oops"')  # bad JSON
            assert (await page.next())["msg"] == "INVALID"
            # A confused page typing the password into the command name: well-formed, unknown.
            unknown = await page.call(DEMO_PASSWORD, "UNKNOWN_COMMAND")
            assert unknown["cmd"] == DEMO_PASSWORD
    finally:
        await server.close()

    records = caplog.records
    assert any(r.name.startswith("mynacard") and r.levelno < logging.DEBUG for r in records), (
        "TRAFFIC-level APDU logs should have been captured; the test would prove nothing"
    )
    assert any(r.name.startswith("bridge") for r in records)
    text = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in records
    )
    for secret in SECRETS:
        assert secret not in text, f"a secret reached the logs ({len(secret)} characters)"


def test_parsed_commands_never_show_secrets_in_repr() -> None:
    from bridge.protocol import parse_command, parse_envelope

    envelope = parse_envelope(json.dumps({
        "cmd": "RESERVE", "purpose": PURPOSE_AUTH_RESET, "nonce": new_nonce(),
        "pin": DEMO_PASSWORD, **DEMO_FACE,
    }))
    command = parse_command(envelope, simulate=False)
    text = repr(command)
    assert "Reserve(" in text
    for secret in SECRETS:
        assert secret not in text
