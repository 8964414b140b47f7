"""myna-bridge: the local helper that exposes a card reader to the browser over a localhost
WebSocket (docs/bridge-protocol.md). Runs without Django."""

from __future__ import annotations

__version__ = "0.1.0"
