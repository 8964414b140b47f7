"""``myna-bridge`` / ``python -m bridge``: start the local helper.

    myna-bridge [--port 9581] [--allow-origin https://reset.example.jp]... [--config FILE]
                [--simulate [PROFILE]] [--kiosk] [--log-level INFO] [-v]

Prints one line ``LISTENING ws://127.0.0.1:PORT/`` on stdout once it accepts connections (tests
and launchers wait for it), then logs to stderr. Exit status 2 on a bad option or config.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from bridge import __version__
from bridge.config import DEFAULT_PORT, BridgeConfig, ConfigError, build_config, load_config_file
from bridge.readers import ReaderBackend
from mynacard.apdu import TRAFFIC

logger = logging.getLogger(__name__)


_LEVELS = {
    "TRAFFIC": TRAFFIC,
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="myna-bridge",
        description="Local helper: exposes the card reader to the myna-reset page over a "
        "WebSocket on 127.0.0.1.",
    )
    parser.add_argument("--version", action="version", version=f"myna-bridge {__version__}")
    parser.add_argument(
        "--port", type=int, default=None, help=f"TCP port on 127.0.0.1 (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--allow-origin", action="append", default=[], metavar="ORIGIN",
        help="page origin allowed to connect (repeatable); default: the development pages "
        "http://localhost:8000 and http://127.0.0.1:8000",
    )
    parser.add_argument("--config", type=Path, help="TOML file with a [bridge] table")
    parser.add_argument(
        "--simulate", nargs="?", const="demo", default=None, metavar="PROFILE",
        help="use the in-process simulated card (the demo card, or a profile TOML) instead of "
        "PC/SC",
    )
    parser.add_argument(
        "--kiosk", action="store_true",
        help="completion-terminal mode: also relay the issuer channel's APDUs between the kiosk "
        "page and the card (docs/issuer-channel.md); never on a resident's desktop",
    )
    parser.add_argument(
        "--log-level", default="INFO", choices=list(_LEVELS),
        help="log level; TRAFFIC (below DEBUG) adds every APDU header. PINs and 照合番号B are "
        "never logged at any level",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="same as --log-level DEBUG")
    return parser


def make_backend(config: BridgeConfig) -> ReaderBackend:
    """The simulated card when asked for, else PC/SC (lazy import: pyscard loads libpcsclite)."""
    if config.simulate is not None:
        from bridge.simulated import SimulatedBackend

        return SimulatedBackend(config.simulate)
    from bridge.pcsc import PcscBackend

    return PcscBackend()


async def _serve(config: BridgeConfig, backend: ReaderBackend) -> None:
    from bridge.server import BridgeServer

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: KeyboardInterrupt instead
            loop.add_signal_handler(signum, stop.set)
    server = BridgeServer(config, backend)
    await server.start()
    # Only now: launchers and tests read this line as "ready", and may signal right after.
    if sys.stdout is not None:  # None in a windowed (no-console) Windows build
        print(f"LISTENING ws://{config.host}:{server.port}/", flush=True)
    try:
        await stop.wait()
    finally:
        await server.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    level = logging.DEBUG if args.verbose else _LEVELS[args.log_level]
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        file_values = load_config_file(args.config) if args.config else None
        config = build_config(
            file_values=file_values,
            port=args.port,
            allow_origins=args.allow_origin,
            simulate=args.simulate,
            allow_port_zero=True,
            kiosk=args.kiosk,
        )
        backend = make_backend(config)
    except (ConfigError, ValueError) as exc:  # ValueError: mynacard.sim.ProfileError
        print(f"myna-bridge: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(config, backend))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"myna-bridge: cannot listen on {config.host}:{config.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
