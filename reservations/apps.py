from __future__ import annotations

from django.apps import AppConfig


class ReservationsConfig(AppConfig):
    """Reservations, kiosk stores and hours: shared by the wizard (`reset`) and `kiosk`."""

    name = "reservations"
    verbose_name = "初期化予約"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core import checks

        from reservations.kiosk_stores import check_store_list

        checks.register(check_store_list)
