"""WebSocket routes of the resident wizard."""

from __future__ import annotations

from typing import Any

websocket_urlpatterns: list[Any] = []
