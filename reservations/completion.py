"""Finding a card's reservation at the kiosk, and completing it (issue 11).

The kiosk knows the card by its identity (the user-auth certificate, readable without a PIN) and
the password the resident chose; it gets back the usable reservation or the one reason it cannot
be used, each with its own message on the kiosk screen.
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum, unique

from django.db import transaction

from mynacard.targets import TargetPassword
from reservations.audit_log import AuditAction, AuditRecord
from reservations.models import Reservation, ReservationState

logger = logging.getLogger(__name__)

#: Who the audit log names for a kiosk's completion.
KIOSK_ACTOR = "kiosk"


@unique
class KioskRefusal(StrEnum):
    """Why the card in front of the kiosk has no usable reservation (stable codes)."""

    NONE = "no_reservation"
    EXPIRED = "expired"
    USED = "used"
    OTHER_TARGET = "other_target"
    SUPERSEDED = "superseded"
    REVOKED = "revoked"


_BY_STATE = {
    ReservationState.USED: KioskRefusal.USED,
    ReservationState.EXPIRED: KioskRefusal.EXPIRED,
    ReservationState.SUPERSEDED: KioskRefusal.SUPERSEDED,
    ReservationState.REVOKED: KioskRefusal.REVOKED,
}


def find_for_kiosk(
    card_identity: str, target: TargetPassword, *, now: datetime
) -> Reservation | KioskRefusal:
    """The active reservation of this card for ``target``, or why there is none.

    The most recent booking for the target decides the reason (a used one, then an expired one,
    says more than "none"); a booking only for the other password says so.
    """
    mine = Reservation.objects.filter(card_identity=card_identity, target=target)
    latest = mine.order_by("-created").first()
    if latest is not None:
        if latest.is_active(now):
            return latest
        if latest.state == ReservationState.ACTIVE:  # past its deadline, not yet swept
            return KioskRefusal.EXPIRED
        return _BY_STATE.get(ReservationState(latest.state), KioskRefusal.NONE)
    others = Reservation.objects.filter(card_identity=card_identity).exclude(target=target)
    if any(other.is_active(now) for other in others):
        return KioskRefusal.OTHER_TARGET
    return KioskRefusal.NONE


def complete(reservation_id: int, *, now: datetime) -> bool:
    """Mark the reservation used, in one transaction with the check that it still may be.

    Called only once the card's authenticated answer (docs/issuer-channel.md) says the password
    was set; False if the reservation stopped being active meanwhile (then nothing changes).
    """
    with transaction.atomic():
        current = Reservation.objects.select_for_update().filter(pk=reservation_id).first()
        if current is None or not current.is_active(now):
            logger.info("kiosk completion found the reservation no longer active")
            AuditRecord.append(
                actor=KIOSK_ACTOR,
                action=AuditAction.KIOSK_COMPLETION,
                result="not_active",
                reservation=current.public_id if current is not None else None,
                now=now,
            )
            return False
        current.mark_used(now)
        # One audit record per completion, committed with the state change or not at all.
        AuditRecord.append(
            actor=KIOSK_ACTOR,
            action=AuditAction.KIOSK_COMPLETION,
            result="ok",
            reservation=current.public_id,
            detail=current.target,
            now=now,
        )
    logger.info("reservation used at a kiosk target=%s", current.target)
    return True
