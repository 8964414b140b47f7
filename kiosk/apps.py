from __future__ import annotations

from django.apps import AppConfig


class KioskConfig(AppConfig):
    """The completion terminal and staff console."""

    name = "kiosk"
    verbose_name = "キオスク端末"
    default_auto_field = "django.db.models.BigAutoField"
