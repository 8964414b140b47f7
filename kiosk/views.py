"""The kiosk's one page: every screen is a section of it, driven by static/kiosk/kiosk.js."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from kiosk.strings import kiosk_strings
from mynacard.targets import TargetPassword
from reservations import kiosk_hours
from reservations.models import target_label

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def kiosk(request: HttpRequest) -> HttpResponse:
    opens, closes = kiosk_hours.kiosk_hours()
    config = {
        "bridgeUrl": settings.MYNA_BRIDGE_URL,
        "socketPath": "/ws/issuer/",
        "idleSeconds": int(settings.MYNA_KIOSK_IDLE_SECONDS),
    }
    return render(
        request,
        "kiosk/kiosk.html",
        {
            "kiosk_config": config,
            "kiosk_strings": kiosk_strings(),
            "targets": [(t.value, target_label(t)) for t in TargetPassword],
            "opens": opens.strftime("%H:%M"),
            "closes": closes.strftime("%H:%M"),
        },
    )
