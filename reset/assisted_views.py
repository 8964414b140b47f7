"""The counter terminal's side of an assisted booking: join with the clerk's code, and finish the
face step after the clerk's in-person check (issue 12). Resident pages: no staff login here.

`complete` is the only way the in-person check reaches a wizard, and it trusts nothing the page
says: the terminal session must be the one bound to the assisted session, the clerk must have
recorded the check (staff/assisted_views.py `in_person`, which needs a verified clerk on the
bound console), and the wizard must still hold the very chip evidence whose photo the clerk was
shown.
"""

from __future__ import annotations

import hmac
import logging

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from reservations.assisted import AssistedSession
from reservations.assisted_channel import publish_sync
from reset import limits, wizard_state
from reset.assisted_forms import JoinForm
from reset.assisted_terminal import SESSION_KEY, terminal_row
from reset.wizard_state import Step

logger = logging.getLogger(__name__)

#: Join tries per terminal session, and for the whole site (an 8-digit code lives 10 minutes).
JOIN_SESSION_LIMIT = limits.Limit(kind="assisted_join", attempts=10, window=60 * 60)
JOIN_SITE_LIMIT = limits.Limit(kind="assisted_join_all", attempts=600, window=60 * 60)


def _session_hash(request: HttpRequest) -> str:
    if not request.session.session_key:
        request.session.save()
    return limits.session_key_hash(str(request.session.session_key))


@never_cache
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest) -> HttpResponse:
    form = JoinForm(request.POST if request.method == "POST" else None)
    if request.method != "POST":
        return render(request, "reset/assisted_join.html", {"form": form})
    session_hash = _session_hash(request)
    if not (
        limits.consume(JOIN_SESSION_LIMIT, session_hash) and limits.consume(JOIN_SITE_LIMIT, "site")
    ):
        form.add_error(None, _("試行回数が多すぎます。しばらくしてから、もう一度お試しください。"))
        return render(request, "reset/assisted_join.html", {"form": form}, status=429)
    if not form.is_valid():
        return render(request, "reset/assisted_join.html", {"form": form}, status=400)
    row = AssistedSession.join(form.cleaned_data["code"], terminal_session_hash=session_hash)
    if row is None:
        form.add_error("code", _("この支援コードは使えません。職員にお尋ねください。"))
        return render(request, "reset/assisted_join.html", {"form": form}, status=400)
    request.session[SESSION_KEY] = str(row.public_id)
    # Whatever this browser was doing before is not part of the assisted run.
    wizard_state.clear(request.session)
    logger.info("assisted terminal joined")
    publish_sync(row)
    return redirect("reset:choose")


@never_cache
@require_POST
def complete(request: HttpRequest) -> HttpResponse:
    """The clerk recorded the in-person check: the face step is done, the booking follows."""
    row = terminal_row(request.session)
    state = wizard_state.load(request.session)
    if (
        row is None
        or row.in_person_at is None
        or state is None
        or state.step_enum != Step.FACE
        or state.evidence_at <= 0
        or not hmac.compare_digest(state.photo_sha256, row.photo_sha256)
        or not hmac.compare_digest(state.card_identity, row.card_identity)
    ):
        logger.info("assisted completion refused")
        messages.error(request, _("窓口での確認を反映できませんでした。職員にお尋ねください。"))
        return redirect("reset:face" if state is not None else "reset:home")
    wizard_state.record_in_person_check(request.session, state)
    logger.info("assisted face step completed in person")
    return redirect("reset:done")
