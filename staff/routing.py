"""WebSocket routes of the staff app: the assisted booking's console."""

from __future__ import annotations

from typing import Any

from django.urls import path

from staff.assisted_consumer import ConsoleConsumer

websocket_urlpatterns: list[Any] = [
    path("ws/staff/assisted/<uuid:public_id>/", ConsoleConsumer.as_asgi()),
]
