"""Counter resets from the clerk's console (issue 12): record the in-person identity check and
choose what to reset, then follow the counter terminal's progress live.

The resident types every new value on the counter terminal's own keypad (kiosk/counter_page.py);
this side only authorises and watches (staff/counter_reset_consumer.py). One audit record for
the identity check here; the terminal records the outcome (kiosk/counter_flow.py).
"""

from __future__ import annotations

import logging
import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from kiosk.counter import CounterReason, IdentityCheck, IdentityDocument, record_identity_check
from kiosk.counter_session import PLANS, CounterOperation
from kiosk.counter_strings import CREDENTIAL_LABELS
from reservations import identity_documents
from staff import counter_reset_pending
from staff.access import clerk_required
from staff.counter_reset_forms import (
    OPERATION_LABELS,
    REASON_LABELS,
    CounterResetForm,
)
from staff.counter_reset_strings import progress_strings

logger = logging.getLogger(__name__)


@clerk_required
@never_cache
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    """The identity check and the choice; a valid form records the check and opens the console."""
    form = CounterResetForm(request.POST if request.method == "POST" else None)
    if request.method != "POST" or not form.is_valid():
        status = 400 if request.method == "POST" else 200
        return render(request, "staff/counter_reset.html", {"form": form}, status=status)
    clerk = request.user.get_username()
    fields = {key: str(form.cleaned_data[key]) for key in ("document", "reason", "operation")}
    record_identity_check(
        IdentityCheck(
            clerk=clerk,
            document=IdentityDocument(fields["document"]),
            reason=CounterReason(fields["reason"]),
        )
    )
    public_id = counter_reset_pending.store(
        request.session, clerk=clerk, fields={**fields, "terminal": form.cleaned_data["terminal"]}
    )
    logger.info("counter reset authorised operation=%s", fields["operation"])
    return redirect("staff:counter_reset_progress", public_id=public_id)


@clerk_required
@never_cache
@require_GET
def progress(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The live console of one authorised reset (its socket claims it; a reload finds it gone)."""
    pending = counter_reset_pending.peek(request.session, str(public_id))
    if pending is None:
        return render(request, "staff/counter_reset_gone.html", status=404)
    operation = CounterOperation(pending["operation"])
    context = {
        "public_id": public_id,
        "document": identity_documents.LABELS[IdentityDocument(pending["document"])],
        "reason": REASON_LABELS[CounterReason(pending["reason"])],
        "operation": OPERATION_LABELS[operation],
        "terminal": pending["terminal"],
        "credentials": [
            (credential.value, CREDENTIAL_LABELS[credential])
            for credential in PLANS[operation].credentials
        ],
        "console_config": {"socketPath": f"/ws/staff/counter-reset/{public_id}/"},
        "console_strings": progress_strings(),
    }
    return render(request, "staff/counter_reset_progress.html", context)
