"""WebSocket routes; each app contributes its own list."""

from __future__ import annotations

from typing import Any

from kiosk.routing import websocket_urlpatterns as kiosk_ws
from reset.routing import websocket_urlpatterns as reset_ws
from staff.counter_reset_routing import websocket_urlpatterns as counter_reset_ws
from staff.routing import websocket_urlpatterns as staff_ws

websocket_urlpatterns: list[Any] = [*reset_ws, *kiosk_ws, *staff_ws, *counter_reset_ws]
