"""Periodic housekeeping: mark overdue reservations expired, drop old counters and nonces."""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand

from reservations.models import Reservation
from reset import limits, nonces

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Expire reservations past their deadline, prune attempt counters older than 2 days "
        "and delete expired server nonces."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        expired = Reservation.expire_due()
        pruned = limits.prune()
        # take() deletes a nonce it is shown; these are the ones never sent back.
        stale = nonces.prune()
        logger.info("housekeeping expired=%d pruned=%d nonces=%d", expired, pruned, stale)
        self.stdout.write(
            f"expired {expired} reservation(s), pruned {pruned} counter(s), "
            f"deleted {stale} expired nonce(s)"
        )
