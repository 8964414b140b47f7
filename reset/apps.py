from __future__ import annotations

from django.apps import AppConfig


class ResetConfig(AppConfig):
    """The resident wizard: booking a password reset."""

    name = "reset"
    verbose_name = "パスワード初期化予約"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # An assisted booking's console follows the face check (reset/signals.py).
        from reset.assisted_terminal import connect_signals

        connect_signals()
