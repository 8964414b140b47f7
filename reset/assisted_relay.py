"""Relays an assisted resident's wizard progress to the clerk's console (issue 12).

A middleware, so the resident wizard (reset/) needs no knowledge of the console: after every
wizard request of a terminal session bound to an assisted session, the step the session is at
now and, for a refused JSON request, its reason code (docs/internal-api.md) are compared with
what the console last saw, and any change is stored on the row and published. It reads only the
session's wizard state and the response's `reason`: what the server already knows, nothing the
page keeps to itself. A booking (`/reset/done/`) ends the assisted session.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from reservations.assisted import AssistedSession
from reservations.assisted_channel import publish_sync, tell_terminal_sync
from reservations.models import Reservation
from reset import wizard_state
from reset.assisted_terminal import SESSION_KEY, terminal_row
from reset.views import FINISHED_KEY

logger = logging.getLogger(__name__)

WIZARD_PREFIX = "/reset/"


class AssistedProgressMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(WIZARD_PREFIX) and SESSION_KEY in request.session:
            try:
                follow(request, response)
            except Exception:
                # The console misses an update; the resident's response is already made.
                logger.exception("assisted progress not recorded")
        return response


def _refusal(response: HttpResponse) -> str:
    if response.status_code < 400 or response.get("Content-Type") != "application/json":
        return ""
    try:
        reason = json.loads(response.content).get("reason")
    except (ValueError, AttributeError):
        return ""
    return reason[:32] if isinstance(reason, str) else ""


def _booked(request: HttpRequest, row: AssistedSession) -> Reservation | None:
    """The booking this session made since the terminal joined (not an earlier one of its own)."""
    public_id = request.session.get(FINISHED_KEY)
    if not isinstance(public_id, str) or row.joined_at is None:
        return None
    return Reservation.objects.filter(
        public_id=uuid.UUID(public_id), created__gte=row.joined_at
    ).first()


def follow(request: HttpRequest, response: HttpResponse) -> None:
    row = terminal_row(request.session)
    if row is None:
        return
    state = wizard_state.load(request.session)
    step = state.step if state is not None else ""
    refusal = _refusal(response)
    booked = _booked(request, row) if state is None else None
    if booked is not None and row.reservation_id is None:
        _end_with_booking(request, row, booked)
        return
    tries = state.known_tries_left if state is not None and state.known_tries_left >= 0 else None
    if step == row.step and refusal == row.last_refusal and tries == row.pin_tries_left:
        return
    row.step, row.last_refusal, row.pin_tries_left = step, refusal, tries
    row.save(update_fields=["step", "last_refusal", "pin_tries_left"])
    publish_sync(row)


def _end_with_booking(request: HttpRequest, row: AssistedSession, booked: Reservation) -> None:
    """The one booking of this assisted session: the console names it, the terminal is freed."""
    row.reservation = booked
    row.step = "booked"
    row.last_refusal = ""
    row.ended_at = timezone.now()
    row.save(update_fields=["reservation", "step", "last_refusal", "ended_at"])
    request.session.pop(SESSION_KEY, None)
    logger.info("assisted booking done face_check=%s", booked.face_check)
    publish_sync(row)
    tell_terminal_sync(row, "ended")
