"""Fixtures for the bridge's protocol tests: a bridge in simulate mode + a client.

The ``bridge`` fixture has two forms (issue 17): ``in_process`` (a BridgeServer in this process,
whose internals tests may inspect) and ``built`` — the standalone helper built by
scripts/build-helper.sh, started as a separate process with ``--simulate``. A test that needs the
in-process internals (the APDU gate, the card's counters) skips in the built form when it touches
them; everything it asserted before that ran against the built binary.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bridge.simulated import SimulatedBackend
from bridge.tests.built import BuiltBridge, start_built_bridge
from bridge.tests.helpers import ApduGate, Bridge, Client, start_bridge


@pytest.fixture
def gate() -> ApduGate:
    return ApduGate()


@pytest.fixture(params=["in_process", pytest.param("built", marks=pytest.mark.helper_build)])
async def bridge(
    request: pytest.FixtureRequest, gate: ApduGate, tmp_path: Path
) -> AsyncIterator[Bridge | BuiltBridge]:
    if request.param == "built":
        built: Any = request.getfixturevalue("built_helper")
        async with start_built_bridge(built.binary, log=tmp_path / "helper.log") as process:
            yield process
        return
    backend = SimulatedBackend(before_apdu=gate)
    server = await start_bridge(backend)
    try:
        yield Bridge(server=server, backend=backend, gate=gate)
    finally:
        gate.release.set()
        await server.close()


@pytest.fixture
async def client(bridge: Bridge) -> AsyncIterator[Client]:
    async with bridge.connect() as ws:
        page = Client(ws)
        await page.hello()
        yield page
