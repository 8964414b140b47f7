"""Resident wizard pages: thin functions over wizard_state, models and plain modules.

The card-face, reader, password and chip steps are one page with client-side sub-steps, so the
card-face items and the PIN stay in page memory and never reach the server (docs/wizard.md).
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mynacard.targets import TargetPassword
from reservations import kiosk_hours, kiosk_stores
from reservations.models import Reservation, ReservationState
from reset import (
    assisted_terminal,
    booking,
    face_pace,
    limits,
    nonces,
    reservation_cookie,
    wizard_state,
)
from reset.calendar_file import reservation_ics
from reset.evidence_check import MESSAGES
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


#: Session key of the reservation the last wizard run booked (its public id, nothing else).
FINISHED_KEY = "wizard_finished"


#: The stepper of the face and done pages: the card page's four sub-steps, then the face check
#: (templates/reset/card.html shows the same labels and moves the marker itself).
STEPPER: tuple[tuple[str, Promise], ...] = (
    ("card_face", gettext_lazy("券面情報入力")),
    ("reader", gettext_lazy("ICカードセット")),
    ("password", gettext_lazy("パスワード入力")),
    ("chip", gettext_lazy("ICチップ読み取り")),
    ("face", gettext_lazy("顔認証")),
)


def _stepper(current: str) -> dict[str, object]:
    names = [name for name, _label in STEPPER]
    index = names.index(current) if current in names else len(names)
    return {"steps": STEPPER, "current": current, "current_index": index}


def _expired(request: HttpRequest) -> HttpResponseRedirect:
    """No wizard in the session: either it timed out, or it finished with a booking.

    Back or forward after a booking lands on a wizard page whose state is gone; saying the
    procedure was interrupted would be false, and the resident would book again.
    """
    finished = _finished_reservation(request)
    if finished is not None:
        response = _to_reservation(finished)
        reservation_cookie.remember(request, response, finished)
        return response
    if wizard_state.was_cancelled(request.session):
        # Back after 中止: the resident ended it, no time ran out.
        return redirect("reset:home")
    messages.warning(request, str(MESSAGES["expired_session"]))
    return redirect("reset:home")


def _finished_reservation(request: HttpRequest) -> Reservation | None:
    """The booking the session's last wizard run made, while its deadline is shown.

    The session is this browser's own, so it needs no cookie: a twin request of a double submit
    may arrive before the browser has stored the first response's cookie.
    """
    public_id = request.session.get(FINISHED_KEY)
    if not isinstance(public_id, str):
        return None
    try:
        found = Reservation.objects.filter(public_id=uuid.UUID(public_id)).first()
    except ValueError:
        return None
    return found if found is not None and found.shows_deadline() else None


def _to_reservation(reservation: Reservation) -> HttpResponseRedirect:
    return redirect(f"{reverse('reset:reservation')}?id={reservation.public_id}")


def _time_limit(state: wizard_state.WizardState) -> dict[str, int]:
    """What the page's "more time" dialog needs (templates/reset/_session_timer.html)."""
    return {
        "session_seconds_left": state.seconds_left(),
        "session_warn_seconds": int(settings.MYNA_WIZARD_WARN_SECONDS),
    }


def _elsewhere(state: wizard_state.WizardState) -> HttpResponseRedirect:
    return redirect(STEP_URL[state.step_enum])


def _shown_reservation(request: HttpRequest) -> Reservation | None:
    """The reservation named by `?id=` (or this browser's newest) while its deadline is shown."""
    return reservation_cookie.find(request, request.GET.get("id"))


@never_cache  # Back/Forward asks the server, which knows the wizard's step (issue 14)
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    # Every reservation of this browser whose deadline is still shown (署名用 and 利用者証明用
    # are booked separately and both stay usable), newest first.
    reservations = reservation_cookie.find_all(request)
    in_progress = wizard_state.load(request.session)
    return render(
        request, "reset/home.html", {"reservations": reservations, "in_progress": in_progress}
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


def _session_hash(request: HttpRequest) -> str:
    if not request.session.session_key:
        request.session.save()
    return limits.session_key_hash(str(request.session.session_key))


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
            return render(request, "reset/choose.html", _choose_context(request), status=400)
        _forget_nonces(request)
        request.session.pop(FINISHED_KEY, None)
        wizard_state.start(request.session, TargetPassword(target))
        logger.info("wizard started target=%s", target)
        return redirect("reset:card")
    return render(request, "reset/choose.html", _choose_context(request))


def _choose_context(request: HttpRequest) -> dict[str, object]:
    """This browser's reservations still usable at a kiosk, by password: booking the same
    password again supersedes it (Reservation.book), which the choice must say beforehand."""
    usable = [r for r in reservation_cookie.find_all(request) if r.state == ReservationState.ACTIVE]
    return {"booked": {r.target: r for r in reversed(usable)}}


@never_cache  # Back/Forward asks the server, which knows the wizard's step (issue 14)
@require_GET
def card(request: HttpRequest) -> HttpResponse:
    state = wizard_state.load(request.session)
    if state is None:
        return _expired(request)
    if state.step_enum not in wizard_state.CARD_PAGE_STEPS:
        return _elsewhere(state)
    rewound = state.step_enum != Step.CARD_FACE
    if rewound:
        # The page's memory (card-face items, PIN) is gone after a reload: start the page over,
        # and say why the form is empty (they are never kept, not even in this browser).
        state = wizard_state.rewind_card_page(request.session, state)
    target = TargetPassword(state.target)
    config = {
        "target": str(target),
        "bridgeUrl": settings.MYNA_BRIDGE_URL,
        "progressUrl": reverse("reset:progress"),
        # Only an assisted terminal tells the server the tries left, for the clerk's console.
        "triesUrl": reverse("reset:tries")
        if request.session.get(assisted_terminal.SESSION_KEY)
        else "",
        "nonceUrl": reverse("reset:nonce"),
        "evidenceUrl": reverse("reset:evidence"),
        "cardfaceModule": static("reset/cardface.js"),
        "cardfaceUrl": reverse("reset:cardface"),
        "cardfaceBurstUrl": reverse("reset:cardface_burst"),
        "nextUrl": reverse("reset:face"),
        "step": str(state.step),
        # Data, not code (peers.md): which chains can finish this reset (reservations.kiosk_stores).
        "stores": kiosk_stores.store_list().names_for(str(target)),
    }
    return render(
        request,
        "reset/card.html",
        {
            # The card is unknown until its chip is read; this browser's own face tries are not.
            # With none left, say so now rather than after card, PIN and chip read.
            "face_attempts_left": limits.face_attempts_left(_session_hash(request)),
            "rewound": rewound,
            "target": target,
            "target_label": target_label(target),
            "wizard_config": config,
            "wizard_strings": card_page_strings(target),
            **_time_limit(state),
        },
    )


@never_cache  # Back/Forward asks the server, which knows the wizard's step (issue 14)
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
            "target": state.target,
            "target_label": target_label(TargetPassword(state.target)),
            "done_url": reverse("reset:done"),
            # Said before 開始 is pressed, not discovered after it (a pass uses none up).
            "attempts_left": limits.face_attempts_left(
                _session_hash(request), state.card_identity
            ),
            "attempts_max": limits.face_card_limit().attempts,
            "face_paces": face_pace.pace_seconds(),
            # Speech on by default at a counter terminal (issue 18): `?assisted=1`, or a session
            # that joined a clerk's assisted booking (reset/assisted_terminal.py).
            "face_assisted": request.GET.get("assisted") == "1"
            or bool(request.session.get(assisted_terminal.SESSION_KEY)),
            **_stepper("face"),
            **_time_limit(state),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def done(request: HttpRequest) -> HttpResponse:
    """The face check passed: book the reservation once, forget the wizard, show the deadline."""
    state = wizard_state.load(request.session)
    if state is None:
        return _expired(request)
    if state.step_enum != Step.DONE or not state.face_passed_at or not state.card_identity:
        return _elsewhere(state)
    reservation = booking.book_once(session_hash=_session_hash(request), state=state)
    wizard_state.clear(request.session)
    request.session[FINISHED_KEY] = str(reservation.public_id)
    _forget_nonces(request)
    response = _to_reservation(reservation)
    reservation_cookie.remember(request, response, reservation)
    return response


@never_cache  # Back/Forward asks the server, which knows the wizard's step (issue 14)
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
            **_stepper("done"),
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
    wizard_state.cancel(request.session)
    _forget_nonces(request)
    logger.info("wizard abandoned")
    return redirect("reset:home")
