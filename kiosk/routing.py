"""WebSocket routes of the kiosk."""

from __future__ import annotations

from typing import Any

from django.urls import path

from kiosk.consumer import IssuerConsumer
from kiosk.counter_consumer import CounterTerminalConsumer

websocket_urlpatterns: list[Any] = [
    path("ws/issuer/", IssuerConsumer.as_asgi()),
    path("ws/counter/", CounterTerminalConsumer.as_asgi()),
]
