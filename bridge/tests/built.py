"""The built standalone helper as a test bridge: a separate process, reached over its socket."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
from websockets.asyncio.client import connect

from bridge.tests.helpers import CLIENT_LOGGER, DEV_ORIGIN

_LISTENING = re.compile(rb"LISTENING ws://127\.0\.0\.1:(\d+)/")


@dataclass
class BuiltBridge:
    """The built binary running ``--simulate``: same ``url`` / ``connect`` as the in-process one."""

    process: asyncio.subprocess.Process
    port: int

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def connect(self, *, origin: str | None = DEV_ORIGIN, **kwargs: Any) -> Any:
        return connect(self.url, origin=origin, logger=CLIENT_LOGGER, **kwargs)  # type: ignore[arg-type]

    def _in_process_only(self, what: str) -> NoReturn:
        pytest.skip(f"inspects the in-process bridge ({what}); the built helper is a process")

    @property
    def server(self) -> NoReturn:
        self._in_process_only("server")

    @property
    def backend(self) -> NoReturn:
        self._in_process_only("backend")

    @property
    def gate(self) -> NoReturn:
        self._in_process_only("APDU gate")

    async def drain(self) -> NoReturn:
        self._in_process_only("card thread")


@contextlib.asynccontextmanager
async def start_built_bridge(
    binary: Path, *, log: Path, args: tuple[str, ...] = ("--simulate",)
) -> AsyncIterator[BuiltBridge]:
    """Start the built helper on a free port and wait for its LISTENING line."""
    with log.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            str(binary), *args, "--port", "0",
            stdout=asyncio.subprocess.PIPE, stderr=stderr,
        )
        try:
            assert process.stdout is not None  # noqa: S101 - PIPE above
            line = await asyncio.wait_for(process.stdout.readline(), timeout=60)
            match = _LISTENING.search(line)
            if match is None:
                raise AssertionError(f"built helper did not start: {line!r}; log in {log}")
            yield BuiltBridge(process, int(match.group(1)))
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), timeout=10)
                except TimeoutError:
                    process.kill()
                    await process.wait()
