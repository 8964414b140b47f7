"""WebSocket route of the clerk's counter-reset console (the terminal's is in kiosk/routing.py)."""

from __future__ import annotations

from typing import Any

from django.urls import path

from staff.counter_reset_consumer import CounterClerkConsumer

websocket_urlpatterns: list[Any] = [
    path("ws/staff/counter-reset/<str:session>/", CounterClerkConsumer.as_asgi()),
]
