"""The supervisor's audit view: filter the log, export what is shown as CSV (one record itself)."""

from __future__ import annotations

import csv
import logging
from datetime import datetime, time, timedelta

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from reservations.audit_log import AuditAction, AuditRecord
from reservations.models import JST
from staff.access import supervisor_required
from staff.counter_forms import AuditFilterForm

logger = logging.getLogger(__name__)

#: The page shows the newest records; the CSV carries every matching one.
PAGE_ROWS = 200
CSV_COLUMNS = ("sequence", "created", "actor", "action", "reservation", "result", "detail", "hash")


def _filtered(form: AuditFilterForm) -> QuerySet[AuditRecord]:
    records = AuditRecord.objects.all()
    if not form.is_valid():
        return records.none()
    data = form.cleaned_data
    if data["action"]:
        records = records.filter(action=data["action"])
    if data["actor"]:
        records = records.filter(actor=data["actor"])
    if data["reservation"]:
        records = records.filter(reservation=data["reservation"])
    if data["since"]:
        records = records.filter(created__gte=datetime.combine(data["since"], time(), JST))
    if data["until"]:
        end = datetime.combine(data["until"], time(), JST) + timedelta(days=1)
        records = records.filter(created__lt=end)
    return records


@supervisor_required
@never_cache
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    records = _filtered(form) if request.GET else AuditRecord.objects.all()
    shown = list(records.order_by("-sequence")[:PAGE_ROWS])
    return render(
        request,
        "staff/audit.html",
        {
            "form": form,
            "records": shown,
            "total": records.count(),
            "page_rows": PAGE_ROWS,
            "query": request.GET.urlencode(),
        },
        status=400 if request.GET and not form.is_valid() else 200,
    )


@supervisor_required
@never_cache
@require_GET
def audit_csv(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    records = _filtered(form).order_by("sequence")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.now().astimezone(JST).strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for record in records.iterator():
        count += 1
        writer.writerow(
            [
                record.sequence,
                record.created.astimezone(JST).isoformat(),
                record.actor,
                record.action,
                record.reservation or "",
                record.result,
                record.detail,
                record.hash,
            ]
        )
    # The export is itself an action: recorded after the rows are written, so not in them.
    AuditRecord.append(
        actor=request.user.get_username(),
        action=AuditAction.AUDIT_EXPORTED,
        result="ok",
        detail=f"rows={count}",
    )
    logger.info("audit exported rows=%d", count)
    return response
