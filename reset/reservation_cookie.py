"""How this browser remembers its reservations: a signed cookie holding only their public UUIDs.

A browser can hold more than one active reservation (署名用 and 利用者証明用 are booked separately
and both stay usable), so the cookie keeps a short list, newest first.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

from reservations.models import Reservation

logger = logging.getLogger(__name__)

COOKIE = "myna_reservation"
SALT = "reset.reservation-cookie"
SEPARATOR = ","
#: Both passwords, plus re-bookings whose deadline is still shown; older ids are dropped.
MAX_REMEMBERED = 4


def _max_age() -> int:
    return int(settings.MYNA_RESERVATION_HOURS) * 3600


def _ids(raw: str) -> list[uuid.UUID]:
    ids: list[uuid.UUID] = []
    for part in raw.split(SEPARATOR)[:MAX_REMEMBERED]:
        try:
            ids.append(uuid.UUID(part))
        except ValueError:
            continue
    return ids


def unsign(value: str) -> list[str]:
    """The ids in a cookie value as set on a response (for tests and diagnostics)."""
    request = HttpRequest()
    request.COOKIES[COOKIE] = value
    return [str(item) for item in remembered_ids(request)]


def remembered_ids(request: HttpRequest) -> list[uuid.UUID]:
    try:
        raw = request.get_signed_cookie(COOKIE, salt=SALT, max_age=_max_age())
    except (KeyError, signing.BadSignature):
        return []
    return _ids(raw)


def find_all(request: HttpRequest) -> list[Reservation]:
    """This browser's reservations whose deadline is still shown, newest first."""
    ids = remembered_ids(request)
    if not ids:
        return []
    found = Reservation.objects.filter(public_id__in=ids).order_by("-created")
    return [reservation for reservation in found if reservation.shows_deadline()]


def find(request: HttpRequest, public_id: str | None = None) -> Reservation | None:
    """One of this browser's shown reservations: the one named, or the newest; else None."""
    shown = find_all(request)
    if public_id is None:
        return shown[0] if shown else None
    return next((item for item in shown if str(item.public_id) == public_id), None)


def remember(request: HttpRequest, response: HttpResponse, reservation: Reservation) -> None:
    """Add `reservation` to the list this browser keeps (the ones still shown stay)."""
    new = str(reservation.public_id)
    kept = [str(item.public_id) for item in find_all(request)]
    ids = [new, *(item for item in kept if item != new)]
    response.set_signed_cookie(
        COOKIE,
        SEPARATOR.join(ids[:MAX_REMEMBERED]),
        salt=SALT,
        max_age=_max_age(),
        httponly=True,
        samesite="Lax",
        secure=bool(settings.SESSION_COOKIE_SECURE),
    )
