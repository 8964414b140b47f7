"""Fixtures for the bridge's protocol tests: an in-process bridge in simulate mode + a client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bridge.simulated import SimulatedBackend
from bridge.tests.helpers import ApduGate, Bridge, Client, start_bridge


@pytest.fixture
def gate() -> ApduGate:
    return ApduGate()


@pytest.fixture
async def bridge(gate: ApduGate) -> AsyncIterator[Bridge]:
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
