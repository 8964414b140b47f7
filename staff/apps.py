from __future__ import annotations

from django.apps import AppConfig


class StaffConfig(AppConfig):
    """The municipal assisted terminal's staff console (issue 12): clerks and supervisors."""

    name = "staff"
    verbose_name = "職員コンソール"
    default_auto_field = "django.db.models.BigAutoField"
