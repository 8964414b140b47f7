from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class KioskConfig(AppConfig):
    """The completion terminal and staff console."""

    name = "kiosk"
    verbose_name = "キオスク端末"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core import checks

        checks.register(check_issuer_backend)


def check_issuer_backend(**_: Any) -> list[Any]:
    """Start-up check: the configured issuer can be built (the production slot cannot)."""
    from django.core.checks import Error
    from django.core.exceptions import ImproperlyConfigured

    from kiosk.issuer import issuer_backend

    try:
        issuer_backend()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), hint="See docs/issuer-channel.md.", id="kiosk.E001")]
    return []
