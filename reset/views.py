"""Resident wizard pages: thin functions over wizard_state, models and plain modules.

The card-face, reader, password and chip steps are one page with client-side sub-steps, so the
card-face items and the PIN stay in page memory and never reach the server (docs/wizard.md).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mynacard.targets import TargetPassword
from reset import kiosk_hours, kiosk_stores, limits, nonces, reservation_cookie, wizard_state
from reset.calendar_file import reservation_ics
from reset.evidence_check import MESSAGES
from reset.models import Reservation
from reset.page_strings import card_page_strings, target_label
from reset.wizard_state import Step

logger = logging.getLogger(__name__)

STEP_URL = {
    Step.CHOOSE: "reset:choose",
    Step.CARD_FACE: "reset:card",
    Step.READER: "reset:card",
    Step.PASSWORD: "reset:card",
    Step.CHIP: "reset:card",
    Step.FACE: "reset:face",
    Step.DONE: "reset:done",
}


def _expired(request: HttpRequest) -> HttpResponseRedirect:
    messages.warning(request, str(MESSAGES["expired_session"]))
    return redirect("reset:home")


def _elsewhere(state: wizard_state.WizardState) -> HttpResponseRedirect:
    return redirect(STEP_URL[state.step_enum])


def _shown_reservation(request: HttpRequest) -> Reservation | None:
    """This browser's reservation while its deadline is still shown, else None."""
    booked = reservation_cookie.find(request)
    return booked if booked is not None and booked.shows_deadline() else None


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    reservation = _shown_reservation(request)
    in_progress = wizard_state.load(request.session)
    return render(
        request, "reset/home.html", {"reservation": reservation, "in_progress": in_progress}
    )


@require_GET
def guide(request: HttpRequest) -> HttpResponse:
    return render(request, "reset/guide.html")


@require_GET
def help_page(request: HttpRequest) -> HttpResponse:
    opens, closes = kiosk_hours.kiosk_hours()
    return render(
        request,
        "reset/help.html",
        {
            # bridge_url comes from webapp.context_processors.site.
            "opens": f"{opens:%H:%M}",
            "closes": f"{closes:%H:%M}",
            "stores": kiosk_stores.store_list(),
        },
    )


def _forget_nonces(request: HttpRequest) -> None:
    """Drop the session's outstanding nonces (a session without a key never had any)."""
    if request.session.session_key:
        nonces.clear(limits.session_key_hash(request.session.session_key))


@require_http_methods(["GET", "POST"])
def choose(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        target = request.POST.get("target", "")
        if target not in TargetPassword.__members__.values():
            messages.error(request, gettext("初期化するパスワードを選んでください。"))
            return render(request, "reset/choose.html", status=400)
        _forget_nonces(request)
        wizard_state.start(request.session, TargetPassword(target))
        logger.info("wizard started target=%s", target)
        return redirect("reset:card")
    return render(request, "reset/choose.html")


@require_GET
def card(request: HttpRequest) -> HttpResponse:
    state = wizard_state.load(request.session)
    if state is None:
        return _expired(request)
    if state.step_enum not in wizard_state.CARD_PAGE_STEPS:
        return _elsewhere(state)
    if state.step_enum != Step.CARD_FACE:
        # The page's memory (card-face items, PIN) is gone after a reload: start the page over.
        state = wizard_state.rewind_card_page(request.session, state)
    target = TargetPassword(state.target)
    config = {
        "target": str(target),
        "bridgeUrl": settings.MYNA_BRIDGE_URL,
        "progressUrl": reverse("reset:progress"),
        "nonceUrl": reverse("reset:nonce"),
        "evidenceUrl": reverse("reset:evidence"),
        "cardfaceModule": static("reset/cardface.js"),
        "cardfaceUrl": reverse("reset:cardface"),
        "cardfaceBurstUrl": reverse("reset:cardface_burst"),
        "nextUrl": reverse("reset:face"),
        "step": str(state.step),
        # Data, not code (peers.md): which chains can finish this reset, from kiosk_stores.json.
        "stores": kiosk_stores.store_list().names_for(str(target)),
    }
    return render(
        request,
        "reset/card.html",
        {
            "target": target,
            "target_label": target_label(target),
            "wizard_config": config,
            "wizard_strings": card_page_strings(target),
        },
    )


@require_GET
def face(request: HttpRequest) -> HttpResponse:
    state = wizard_state.load(request.session)
    if state is None:
        return _expired(request)
    if state.step_enum != Step.FACE:
        return _elsewhere(state)
    return render(
        request,
        "reset/face.html",
        {
            "target_label": target_label(TargetPassword(state.target)),
            "done_url": reverse("reset:done"),
        },
    )


@require_http_methods(["GET", "POST"])
def done(request: HttpRequest) -> HttpResponse:
    """The face check passed: book the reservation once, forget the wizard, show the deadline."""
    state = wizard_state.load(request.session)
    if state is None:
        if reservation_cookie.find(request) is not None:
            return redirect("reset:reservation")
        return _expired(request)
    if state.step_enum != Step.DONE or not state.face_passed_at or not state.card_identity:
        return _elsewhere(state)
    reservation = Reservation.book(card_identity=state.card_identity, target=state.target)
    wizard_state.clear(request.session)
    _forget_nonces(request)
    response = redirect("reset:reservation")
    reservation_cookie.remember(response, reservation)
    return response


@require_GET
def reservation(request: HttpRequest) -> HttpResponse:
    booked = _shown_reservation(request)
    if booked is None:
        return redirect("reset:home")
    now = timezone.now()
    window = kiosk_hours.for_reservation(max(now, booked.created), booked.expires)
    stores = kiosk_stores.store_list()
    return render(
        request,
        "reset/done.html",
        {
            "reservation": booked,
            "window": window,
            "now": now,
            "stores": stores.for_target(booked.target),
            "store_list": stores,
        },
    )


@require_GET
def reservation_ics_view(request: HttpRequest) -> HttpResponse:
    booked = _shown_reservation(request)
    if booked is None:
        return redirect("reset:home")
    opens, closes = kiosk_hours.kiosk_hours()
    body = reservation_ics(
        booked, now=timezone.now(), opens_text=f"{opens:%H:%M}–{closes:%H:%M}"
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="myna-reset-reservation.ics"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def cancel(request: HttpRequest) -> HttpResponse:
    """The resident abandons the wizard: drop every trace of it from the session."""
    wizard_state.clear(request.session)
    _forget_nonces(request)
    logger.info("wizard abandoned")
    return redirect("reset:home")
