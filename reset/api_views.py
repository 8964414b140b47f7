"""JSON endpoints of the card page: step progress, server nonces and the chip evidence.

Replies follow docs/internal-api.md: `{"ok": true, ...}` or `{"ok": false, "reason": code,
"message": Japanese text}`. Nothing secret arrives here: no PIN and no card-face item, only the
evidence the card signed (architecture.md, trust model).
"""

from __future__ import annotations

import base64
import json
import logging
from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse, RawPostDataException
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views import csrf
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from mynacard.targets import purpose_for
from reset import assisted_terminal, limits, nonces, wizard_state
from reset.cardface_view import read_card_burst, read_card_front
from reset.evidence_check import MESSAGES, EvidenceRejected, decode, verify
from reset.wizard_state import Step

logger = logging.getLogger(__name__)

MAX_BODY = 512 * 1024  # a card face with photo and text images is a few KB; refuse anything huge

#: Client-side sub-steps of the card page and the server step each one leaves.
PROGRESS: dict[str, tuple[Step, Step]] = {
    "card_face": (Step.CARD_FACE, Step.READER),
    "reader": (Step.READER, Step.PASSWORD),
    "password": (Step.PASSWORD, Step.CHIP),
}


def _refuse(reason: str, status: int, **extra: Any) -> JsonResponse:
    return JsonResponse(
        {"ok": False, "reason": reason, "message": str(MESSAGES[reason]), **extra}, status=status
    )


def _limited(reason: str, limit: limits.Limit) -> JsonResponse:
    """A 429 that says when to try again (JST, as every time the resident sees), not "later"."""
    from django.utils.translation import gettext

    from reservations.models import JST

    now = timezone.now()
    until = limits.window_end(limit, now=now)
    wait = max(1, int((until - now).total_seconds()))
    retry = gettext("%(time)s(日本時間)以降に、もう一度お試しください。") % {
        "time": until.astimezone(JST).strftime("%Y/%m/%d %H:%M")
    }
    response = JsonResponse(
        {
            "ok": False,
            "reason": reason,
            "message": f"{MESSAGES[reason]}{retry}",
            "retry_after": wait,
        },
        status=429,
    )
    response["Retry-After"] = str(wait)  # RFC 9110 §10.2.3
    return response


def _json_body(request: HttpRequest) -> Any:
    try:
        # Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE with its own HTML 400; the page
        # needs a reason code (docs/internal-api.md) like for any other bad body.
        body = request.body
    except (RequestDataTooBig, RawPostDataException):
        # RawPostDataException: a form-encoded or multipart body, which the CSRF middleware has
        # already parsed for its token (so the raw bytes are gone); it is not JSON either way.
        raise EvidenceRejected("malformed") from None
    if len(body) > MAX_BODY:
        raise EvidenceRejected("malformed")
    try:
        return json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):
        # RecursionError: a deeply nested body exhausts the parser's stack before any limit of
        # ours could apply; it is bad input like any other, not a server error.
        raise EvidenceRejected("malformed") from None


def public_origin(request: HttpRequest) -> str:
    """The origin the card must have signed (settings, or this request's scheme://host)."""
    configured = settings.MYNA_PUBLIC_ORIGIN  # validated and without a trailing / (settings.py)
    # get_host() is checked against ALLOWED_HOSTS but keeps the header's case; a browser
    # serializes its origin in lower case (RFC 6454 §6.2), and so must we, byte for byte.
    return configured or f"{request.scheme}://{request.get_host()}".lower()


def _session_key(request: HttpRequest) -> str:
    if not request.session.session_key:
        request.session.save()
    return limits.session_key_hash(str(request.session.session_key))


#: The clock certificates are checked against; a function so tests can move it.
def verification_time() -> datetime:
    return timezone.now()


@csrf_exempt  # read_card_front checks CSRF itself, once its in-memory upload handler is set
@require_POST
async def cardface(request: HttpRequest) -> HttpResponse:
    """The card-face camera read, at the card-face step only and rate-limited like every step.

    One image costs a second or two of CPU (OCR); without these checks any client could make the
    server read images in a loop.
    """
    # Only the session is read here, never the body: read_card_front must choose its in-memory
    # upload handler before anything parses the upload (reset/cardface/view.py).
    refusal = await sync_to_async(_cardface_refusal)(request)
    if refusal is not None:
        return refusal
    return await read_card_front(request)


@csrf_exempt  # read_card_burst checks CSRF itself, once its in-memory upload handler is set
@require_POST
async def cardface_burst(request: HttpRequest) -> HttpResponse:
    """The live camera's burst of frames: the same step check and rate limit as one still."""
    refusal = await sync_to_async(_cardface_refusal)(request)
    if refusal is not None:
        return refusal
    return await read_card_burst(request)


def _cardface_refusal(request: HttpRequest) -> JsonResponse | None:
    state = wizard_state.load(request.session)
    if state is None:
        return _refuse("expired_session", 409)
    if state.step_enum != Step.CARD_FACE:
        return _refuse("wrong_step", 409, step=state.step)
    if not limits.consume(limits.cardface_session_limit(), _session_key(request)):
        return _limited("rate_limited", limits.cardface_session_limit())
    return None


@never_cache
@require_POST
def progress(request: HttpRequest) -> JsonResponse:
    state = wizard_state.load(request.session)
    if state is None:
        return _refuse("expired_session", 409)
    try:
        body = _json_body(request)
    except EvidenceRejected:
        return _refuse("malformed", 400)
    done = body.get("done") if isinstance(body, dict) else None
    # A list or an object is unhashable: check the type before the dict lookup.
    if not isinstance(done, str) or done not in PROGRESS:
        return _refuse("malformed", 400)
    expected, to = PROGRESS[done]
    try:
        wizard_state.advance(request.session, state, expected=expected, to=to)
    except wizard_state.StepError:
        return _refuse("wrong_step", 409, step=state.step)
    return JsonResponse({"ok": True, "step": str(to)})


@never_cache
@require_POST
def tries(request: HttpRequest) -> JsonResponse:
    """An assisted terminal reports the known password's tries left for the clerk's console
    (issue 12; reset/assisted_relay.py relays it). A count only: never a password."""
    state = wizard_state.load(request.session)
    if state is None:
        return _refuse("expired_session", 409)
    if assisted_terminal.SESSION_KEY not in request.session:
        return _refuse("not_assisted", 409)
    try:
        body = _json_body(request)
    except EvidenceRejected:
        return _refuse("malformed", 400)
    left = body.get("tries_left") if isinstance(body, dict) else None
    # bool is an int in Python: refuse it, and anything a card could not have said.
    if type(left) is not int or not 0 <= left <= wizard_state.MAX_REPORTED_TRIES:
        return _refuse("malformed", 400)
    try:
        wizard_state.record_known_tries(request.session, state, left)
    except wizard_state.StepError:
        return _refuse("wrong_step", 409, step=state.step)
    return JsonResponse({"ok": True})


@never_cache
@require_POST
def more_time(request: HttpRequest) -> JsonResponse:
    """The resident asks for more time before the wizard expires (WCAG 2.2.1); step and
    progress stay as they are. Bounded by MYNA_WIZARD_EXTENSIONS and rate-limited."""
    state = wizard_state.load(request.session)
    if state is None:
        return _refuse("expired_session", 409)
    if not limits.consume(limits.extension_session_limit(), _session_key(request)):
        return _limited("rate_limited", limits.extension_session_limit())
    try:
        state = wizard_state.extend(request.session, state)
    except wizard_state.ExtensionRefused as exc:
        return _refuse(exc.code, 409, seconds_left=state.seconds_left())
    logger.info("wizard extended times=%d", state.extensions)
    return JsonResponse(
        {
            "ok": True,
            "step": state.step,
            "seconds_left": state.seconds_left(),
            "extensions_left": wizard_state.max_extensions() - state.extensions,
        }
    )


@never_cache
@require_POST
def nonce(request: HttpRequest) -> JsonResponse:
    state = wizard_state.load(request.session)
    if state is None:
        return _refuse("expired_session", 409)
    if state.step_enum != Step.CHIP:
        return _refuse("wrong_step", 409, step=state.step)
    purpose = purpose_for(state.target_enum)
    value = nonces.issue(_session_key(request), purpose)
    return JsonResponse(
        {
            "ok": True,
            "nonce": base64.b64encode(value).decode(),
            "purpose": purpose,
            "origin": public_origin(request),
            "expires_in": nonces.ttl_seconds(),
        }
    )


@never_cache
@require_POST
def evidence(request: HttpRequest) -> JsonResponse:
    state = wizard_state.load(request.session)
    if state is None:
        return _refuse("expired_session", 409)
    if state.step_enum != Step.CHIP:
        return _refuse("wrong_step", 409, step=state.step)
    if not limits.consume(limits.evidence_session_limit(), _session_key(request)):
        return _limited("rate_limited", limits.evidence_session_limit())
    return _check_evidence(request, state)


def _check_evidence(request: HttpRequest, state: wizard_state.WizardState) -> JsonResponse:
    try:
        fields = decode(_json_body(request))
    except EvidenceRejected as exc:
        return _refuse(exc.code, 400)
    purpose = purpose_for(state.target_enum)
    taken = nonces.take(_session_key(request), fields.nonce, purpose)
    if taken is not nonces.NonceCheck.OK:
        logger.info("evidence refused nonce=%s", taken)
        return _refuse(str(taken), 400)
    try:
        accepted = verify(
            fields, target=state.target, origin=public_origin(request), now=verification_time()
        )
    except EvidenceRejected as exc:
        return _refuse(exc.code, 400)
    if not limits.consume(limits.evidence_card_limit(), accepted.card_identity):
        return _limited("card_rate_limited", limits.evidence_card_limit())
    wizard_state.record_evidence(
        request.session,
        state,
        card_identity=accepted.card_identity,
        signer_identity=accepted.signer_identity,
        photo_sha256=accepted.photo_sha256,
        certificate_not_after=accepted.certificate_not_after,
    )
    logger.info("evidence accepted target=%s", state.target)
    return JsonResponse({"ok": True, "next": reverse("reset:face")})


#: The endpoints the card page calls with fetch() and whose replies it reads as JSON
#: (static/reset/wizard.js, static/reset/cardface.js).
JSON_API_VIEWS = frozenset({
    "reset:progress", "reset:nonce", "reset:evidence", "reset:cardface", "reset:cardface_burst",
    "reset:more_time", "reset:tries",
})
CSRF_FAILED_MESSAGE = gettext_lazy(
    "画面の有効期限が切れました。ページを再読み込みして、最初からやり直してください。"
)


def view_name(request: HttpRequest) -> str | None:
    """The request's namespaced view name, resolved now if routing has not run yet."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return None
    return str(match.view_name)


def csrf_failure(
    request: HttpRequest, reason: str = "", template_name: str = csrf.CSRF_FAILURE_TEMPLATE_NAME
) -> HttpResponse:
    """settings.CSRF_FAILURE_VIEW: a JSON 403 the card page can show, Django's page elsewhere.

    The page's fetch() calls read `message` from a JSON reply; Django's HTML 403 would leave the
    resident with a generic error instead of the way out (reload the page and start again).
    """
    if view_name(request) not in JSON_API_VIEWS:
        return csrf.csrf_failure(request, reason=reason, template_name=template_name)
    logger.info("csrf refused view=%s", view_name(request))
    return JsonResponse(
        {"ok": False, "reason": "csrf_failed", "message": str(CSRF_FAILED_MESSAGE)}, status=403
    )
