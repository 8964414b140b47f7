"""The counter terminal's page (`/kiosk/counter/`): the resident-facing keypad of a counter reset.

It stands at the municipal counter with the card reader behind `myna-bridge --kiosk`; the clerk's
console (staff app) pairs with it by the terminal code it shows. Every screen is a section of the
page, driven by static/kiosk/counter.js over /ws/counter/ (kiosk/counter_consumer.py).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from kiosk.counter_strings import counter_strings


@never_cache
@require_GET
def counter_terminal(request: HttpRequest) -> HttpResponse:
    config = {
        "bridgeUrl": settings.MYNA_BRIDGE_URL,
        "socketPath": "/ws/counter/",
        "idleSeconds": int(settings.MYNA_KIOSK_IDLE_SECONDS),
    }
    return render(
        request,
        "kiosk/counter.html",
        {"counter_config": config, "counter_strings": counter_strings()},
    )
