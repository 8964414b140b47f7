"""Periodic housekeeping: mark overdue reservations expired, drop old attempt counters."""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand

from reset import limits
from reset.models import Reservation

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Expire reservations past their deadline and prune attempt counters older than 2 days."

    def handle(self, *args: Any, **options: Any) -> None:
        expired = Reservation.expire_due()
        pruned = limits.prune()
        logger.info("housekeeping expired=%d pruned=%d", expired, pruned)
        self.stdout.write(f"expired {expired} reservation(s), pruned {pruned} counter(s)")
