"""Kiosk URLs (the completion terminal is a later issue)."""

from __future__ import annotations

from typing import Any

app_name = "kiosk"
urlpatterns: list[Any] = []
