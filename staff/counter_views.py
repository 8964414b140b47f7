"""Counter pages: find a reservation by its ID, see its history, revoke it (clerks).

Every action writes exactly one audit record (reservations/audit_log.py) in the same transaction
as its effect. Pages show the reservation's public ID, target, state and times only: the database
holds no personal data, and the card identity hash is not shown either.
"""

from __future__ import annotations

import logging
import uuid

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from reservations.audit_log import AuditAction, AuditRecord
from reservations.models import Reservation, ReservationState
from staff.access import clerk_required
from staff.counter_forms import LookupForm, RevokeForm
from staff.revoke_reasons import RevokeReason

logger = logging.getLogger(__name__)


@clerk_required
@never_cache
@require_GET
def lookup(request: HttpRequest) -> HttpResponse:
    """The look-up form; a typed (or scanned) ID opens that reservation's page."""
    if "reservation_id" not in request.GET:
        return render(request, "staff/lookup.html", {"form": LookupForm()})
    form = LookupForm(request.GET)
    if not form.is_valid():
        return render(request, "staff/lookup.html", {"form": form}, status=400)
    wanted: uuid.UUID = form.cleaned_data["reservation_id"]
    found = Reservation.objects.filter(public_id=wanted).exists()
    # The look-up is the audited action; the page it opens (and reopens after a revoke) is not
    # recorded again, so one action is one record.
    AuditRecord.append(
        actor=request.user.get_username(),
        action=AuditAction.RESERVATION_VIEWED,
        result="ok" if found else "not_found",
        reservation=wanted,
    )
    if not found:
        form.add_error("reservation_id", _("この予約番号の予約はありません。"))
        return render(request, "staff/lookup.html", {"form": form}, status=404)
    return redirect("staff:reservation", public_id=wanted)


@clerk_required
@never_cache
@require_GET
def reservation(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    found = Reservation.objects.filter(public_id=public_id).first()
    if found is None:
        form = LookupForm(initial={"reservation_id": public_id})
        return render(request, "staff/lookup.html", {"form": form, "not_found": True}, status=404)
    return _detail(request, found, RevokeForm())


def _detail(
    request: HttpRequest, found: Reservation, form: RevokeForm, status: int = 200
) -> HttpResponse:
    history = AuditRecord.objects.filter(reservation=found.public_id).order_by("sequence")
    return render(
        request,
        "staff/reservation.html",
        {
            "reservation": found,
            "history": history,
            "revoke_form": form,
            "can_revoke": found.state == ReservationState.ACTIVE,
            "reason_labels": dict(RevokeReason.choices),
        },
        status=status,
    )


@clerk_required
@never_cache
@require_POST
def revoke(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = request.user.get_username()
    form = RevokeForm(request.POST)
    with transaction.atomic():
        found = Reservation.objects.select_for_update().filter(public_id=public_id).first()
        if found is None:
            AuditRecord.append(
                actor=actor,
                action=AuditAction.RESERVATION_REVOKED,
                result="not_found",
                reservation=public_id,
            )
            messages.error(request, _("この予約番号の予約はありません。"))
            return redirect("staff:lookup")
        if not form.is_valid():
            # Nothing happened: no record (the clerk has not acted yet), the form says why.
            return _detail(request, found, form, status=400)
        reason = form.cleaned_data["reason"]
        if found.state != ReservationState.ACTIVE:
            result = "not_active"
        else:
            found.revoke()
            result = "ok"
        AuditRecord.append(
            actor=actor,
            action=AuditAction.RESERVATION_REVOKED,
            result=result,
            reservation=public_id,
            detail=reason,
        )
    logger.info("reservation revoke by staff result=%s", result)
    if result == "ok":
        messages.success(request, _("予約を取り消しました。"))
    else:
        messages.error(request, _("この予約は有効ではないため、取り消せません。"))
    return redirect("staff:reservation", public_id=public_id)
