"""How this browser remembers its reservation: a signed cookie holding only the public UUID."""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

from reset.models import Reservation

logger = logging.getLogger(__name__)

COOKIE = "myna_reservation"
SALT = "reset.reservation-cookie"


def remember(response: HttpResponse, reservation: Reservation) -> None:
    hours = int(settings.MYNA_RESERVATION_HOURS)
    response.set_signed_cookie(
        COOKIE,
        str(reservation.public_id),
        salt=SALT,
        max_age=hours * 3600,
        httponly=True,
        samesite="Lax",
        secure=bool(settings.SESSION_COOKIE_SECURE),
    )


def find(request: HttpRequest) -> Reservation | None:
    """This browser's reservation, or None (no cookie, bad signature, or unknown id)."""
    try:
        raw = request.get_signed_cookie(COOKIE, salt=SALT)
    except (KeyError, signing.BadSignature):
        return None
    try:
        public_id = uuid.UUID(raw)
    except ValueError:
        return None
    return Reservation.objects.filter(public_id=public_id).first()
