"""WebSocket routes of the resident wizard."""

from __future__ import annotations

from typing import Any

from django.urls import path

from reset.assisted_consumer import TerminalConsumer
from reset.face_consumer import FaceConsumer

websocket_urlpatterns: list[Any] = [
    path("ws/face/", FaceConsumer.as_asgi()),
    path("ws/assisted/terminal/", TerminalConsumer.as_asgi()),
]
