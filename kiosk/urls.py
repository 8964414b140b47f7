"""Kiosk URLs: the completion terminal's one page (its WebSocket is in kiosk/routing.py)."""

from __future__ import annotations

from django.urls import path

from kiosk import counter_page, views

app_name = "kiosk"
urlpatterns = [
    path("", views.kiosk, name="kiosk"),
    path("counter/", counter_page.counter_terminal, name="counter"),
]
