"""Admin for reservations: staff may look, not edit; only verified evidence makes a booking."""

from __future__ import annotations

import logging

from django.contrib import admin
from django.http import HttpRequest

from reservations.models import Reservation

logger = logging.getLogger(__name__)


@admin.register(Reservation)
class ReservationAdmin(admin.ModelAdmin):
    """Read-only view of reservations (no personal data is stored, only a card identity hash)."""

    list_display = ("public_id", "target", "state", "created", "expires")
    list_filter = ("state", "target")
    search_fields = ("public_id", "card_identity")
    readonly_fields = (
        "public_id",
        "card_identity",
        "target",
        "created",
        "expires",
        "state",
        "state_changed",
    )
    date_hierarchy = "created"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        # The change page is still shown (read-only fields) to users with view permission.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False
