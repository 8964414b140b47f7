"""The helper runs from login to logout: with no page connected it must not poll the readers."""

from __future__ import annotations

import asyncio

from bridge.readers import ReaderInfo
from bridge.simulated import SimulatedBackend
from bridge.tests.helpers import Client, start_bridge


class _CountingBackend(SimulatedBackend):
    """The simulated reader, counting how often the monitor asks for the reader list."""

    def __init__(self) -> None:
        super().__init__()
        self.polls = 0

    def list_readers(self) -> tuple[ReaderInfo, ...]:
        self.polls += 1
        return super().list_readers()


async def test_the_reader_monitor_sleeps_while_no_page_is_connected() -> None:
    backend = _CountingBackend()
    server = await start_bridge(backend)
    try:
        await asyncio.sleep(1.0)  # four poll intervals
        idle_polls = backend.polls
        assert idle_polls <= 1  # the start-up snapshot only

        from websockets.asyncio.client import connect

        async with connect(f"ws://127.0.0.1:{server.port}/", origin="http://localhost:8000") as ws:  # type: ignore[arg-type]
            await Client(ws).hello()
            await asyncio.sleep(1.0)
            assert backend.polls >= idle_polls + 3  # polling while the page is there
        await asyncio.sleep(0.5)  # the disconnect is handled; a poll in progress ends
        after_close = backend.polls
        await asyncio.sleep(1.0)
        assert backend.polls == after_close  # and asleep again once it left
    finally:
        await server.close()
