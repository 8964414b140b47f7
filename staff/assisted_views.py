"""The clerk's side of an assisted booking (issue 12): open a session, follow it, and complete a
failed face check by an in-person check.

Every page here is a clerk page (staff/access.py: both factors, clerk role) and, beyond that,
answers only the console session that opened the assisted session (`_bound`): another clerk, or
the same clerk from another browser, gets 404. The live part (progress, the chip photo) runs over
staff/assisted_consumer.py; these views only render, and record what the clerk decided.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from reservations.assisted import AssistedSession, session_hash
from reservations.assisted_channel import publish_sync, snapshot, tell_terminal_sync
from reservations.audit_log import AuditAction, AuditRecord
from staff import assisted_labels
from staff.access import clerk_required
from staff.assisted_forms import InPersonForm
from webapp.security_headers import content_security_policy

logger = logging.getLogger(__name__)

#: The clerk's session keeps the join code of each session it opened until the terminal joins
#: (the database keeps only its hash).
CODES_KEY = "staff_assisted_codes"


def _session_hash(request: HttpRequest) -> str:
    if not request.session.session_key:
        request.session.save()
    return session_hash(str(request.session.session_key))


def _bound(request: HttpRequest, public_id: uuid.UUID) -> AssistedSession:
    row = AssistedSession.objects.select_related("reservation").filter(public_id=public_id).first()
    if row is None or not row.bound_to_clerk(request.user.pk, _session_hash(request)):
        raise Http404
    return row


def _audit(request: HttpRequest, action: AuditAction, result: str, detail: str = "") -> None:
    AuditRecord.append(
        actor=request.user.get_username(), action=action, result=result, detail=detail
    )


@clerk_required
@never_cache
@require_GET
def start(request: HttpRequest) -> HttpResponse:
    """This console's open assisted sessions, and the button that opens a new one."""
    mine = [
        row
        for row in AssistedSession.objects.filter(
            clerk=request.user,
            clerk_session_hash=_session_hash(request),
            ended_at__isnull=True,
        )[:20]
        if row.is_open()
    ]
    return render(request, "staff/assisted_start.html", {"sessions": mine})


@clerk_required
@never_cache
@require_POST
def open_session(request: HttpRequest) -> HttpResponse:
    row, code = AssistedSession.open(clerk=request.user, clerk_session_hash=_session_hash(request))
    codes = dict(request.session.get(CODES_KEY) or {})
    codes[str(row.public_id)] = code
    request.session[CODES_KEY] = codes
    _audit(request, AuditAction.ASSISTED_OPENED, "ok")
    logger.info("assisted session opened")
    return redirect("staff:assisted_console", public_id=row.public_id)


def _console(
    request: HttpRequest, row: AssistedSession, form: InPersonForm, status: int = 200
) -> HttpResponse:
    code = "" if row.joined_at else (request.session.get(CODES_KEY) or {}).get(str(row.public_id))
    response = render(
        request,
        "staff/assisted_console.html",
        {
            "row": row,
            "open": row.is_open(),
            "code": code or "",
            "join_url": request.build_absolute_uri(reverse("assisted:join")),
            "snapshot": snapshot(row),
            "labels": assisted_labels.console_labels(),
            "form": form,
            "ws_path": f"/ws/staff/assisted/{row.public_id}/",
        },
        status=status,
    )
    # The chip photo arrives over the socket and is shown from a blob: URL made in the page; it
    # is never served over HTTP, so no cache can keep it (webapp/security_headers.py otherwise).
    response["Content-Security-Policy"] = content_security_policy(request).replace(
        "img-src 'self'", "img-src 'self' blob:"
    )
    return response


@clerk_required
@never_cache
@require_GET
def console(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    return _console(request, _bound(request, public_id), InPersonForm())


def in_person_refusal(row: AssistedSession) -> str:
    """Why the in-person check cannot be recorded now ("" when it can).

    The face step must be the one left: the chip evidence verified (the relay saw step `face`,
    which only `record_evidence` sets), the automated check failed at least once, and the clerk
    was shown the chip photo that the server matched against that evidence.
    """
    if not row.is_live():
        return "not_live"
    if row.in_person_at is not None:
        return "already_recorded"
    if row.step != "face":
        return "not_at_face_step"
    if row.face_failed_at is None:
        return "face_check_not_failed"
    if row.photo_shown_at is None or not row.photo_sha256:
        return "photo_not_shown"
    return ""


def _record(request: HttpRequest, public_id: uuid.UUID, form: InPersonForm) -> tuple[str, Any]:
    """(result, row) — one audit record whatever the result."""
    with transaction.atomic():
        row = AssistedSession.objects.select_for_update().filter(public_id=public_id).first()
        if row is None or not row.bound_to_clerk(request.user.pk, _session_hash(request)):
            _audit(request, AuditAction.IDENTITY_CHECKED, "not_bound", "face")
            return "not_bound", None
        document = form.cleaned_data["document_type"]
        reason = form.cleaned_data["reason"]
        refused = in_person_refusal(row)
        if refused:
            _audit(request, AuditAction.IDENTITY_CHECKED, refused, "face")
            return refused, row
        row.in_person_at = timezone.now()
        row.document_type = document
        row.in_person_reason = reason
        row.save(update_fields=["in_person_at", "document_type", "in_person_reason"])
        _audit(request, AuditAction.IDENTITY_CHECKED, "ok", f"face:{document}:{reason}")
    return "ok", row


@clerk_required
@never_cache
@require_POST
def in_person(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The clerk compared the resident with the chip photo and an identity document."""
    form = InPersonForm(request.POST)
    if not form.is_valid():
        # Nothing was decided yet: no record; the form says what is missing.
        return _console(request, _bound(request, public_id), form, status=400)
    result, row = _record(request, public_id, form)
    if row is None:
        raise Http404
    logger.info("assisted in-person check result=%s", result)
    if result != "ok":
        messages.error(request, _("対面確認を記録できませんでした(%(code)s)。") % {"code": result})
        return redirect("staff:assisted_console", public_id=public_id)
    tell_terminal_sync(row, "in_person_done")
    publish_sync(row)
    messages.success(
        request, _("対面確認を記録しました。住民の方の画面で予約が完了するのを確認してください。")
    )
    return redirect("staff:assisted_console", public_id=public_id)


@clerk_required
@never_cache
@require_POST
def end(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    row = _bound(request, public_id)
    if row.ended_at is None:
        row.ended_at = timezone.now()
        row.save(update_fields=["ended_at"])
        tell_terminal_sync(row, "ended")
        publish_sync(row)
    _audit(request, AuditAction.ASSISTED_ENDED, "ok")
    codes = dict(request.session.get(CODES_KEY) or {})
    codes.pop(str(row.public_id), None)
    request.session[CODES_KEY] = codes
    return redirect("staff:assisted_start")
