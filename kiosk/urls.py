"""Kiosk URLs: the completion terminal's one page (its WebSocket is in kiosk/routing.py)."""

from __future__ import annotations

from django.urls import path

from kiosk import views

app_name = "kiosk"
urlpatterns = [
    path("", views.kiosk, name="kiosk"),
]
