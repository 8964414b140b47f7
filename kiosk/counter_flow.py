"""One counter reset on the counter terminal, as a state machine its consumer feeds (issue 12).

Steps: ``unpaired`` → (the clerk's ``counter.bind``) ``card`` → ``input`` (one new value per
credential, typed on this terminal's keypad) → ``ready`` → (the clerk's ``execute``) ``issuer``
(kiosk.counter.CounterReset's APDUs relayed by the page to the bridge) → ``status`` (the page
reports the counters it reads afterwards) → ``ended``.

The new values live in this object only, from the keypad to the issuer channel's encryption, and
are dropped when the reset is built or the flow ends; they are never sent to the clerk, stored or
logged. Everything the clerk learns is a :func:`kiosk.counter_session.progress` message.
Audit (reservations.audit_log): the console wrote the ``identity_checked`` record; this flow
writes the outcome — one ``counter_reset`` record per credential (kiosk.counter.record_outcome),
or one ``cancelled`` record when the session ends before the reset ran.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kiosk.counter import (
    CounterReason,
    CounterReset,
    CounterResetError,
    CredentialChange,
    IdentityCheck,
    IdentityDocument,
    record_outcome,
)
from kiosk.counter_session import FULL_TRIES, PLANS, CounterOperation, Progress, progress
from kiosk.counter_strings import REFUSALS, password_problem_text
from kiosk.flow import BadMessage, _b64, _binary  # the kiosk's own message decoding
from kiosk.issuer import IssuerBackend
from kiosk.password_rules import PasswordProblem, check_new_password
from mynacard.evidence import EvidenceError, card_identity, check_auth_certificate
from mynacard.issuer import CounterCredential
from reservations.anchors import trust_anchors
from reservations.audit_log import AuditAction, AuditRecord

logger = logging.getLogger(__name__)

Reply = dict[str, Any]


@dataclass
class Out:
    """What one event produces: replies to the terminal page, progress for the clerk."""

    page: list[Reply] = field(default_factory=list)
    progress: list[Reply] = field(default_factory=list)


def refused(reason: str) -> Reply:
    return {"type": "refused", "reason": reason, "text": str(REFUSALS[reason])}


def _tries(message: Mapping[str, Any], wanted: tuple[CounterCredential, ...]) -> dict[
    CounterCredential, int
]:
    """The counters the page read through the bridge (GET_CARD_STATUS), for the wanted keys."""
    raw = message.get("tries")
    if not isinstance(raw, dict):
        raise BadMessage("tries")
    tries: dict[CounterCredential, int] = {}
    for credential in wanted:
        value = raw.get(credential.value)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 15:
            raise BadMessage("tries")
        tries[credential] = value
    return tries


@dataclass
class CounterTerminalFlow:
    """The terminal side of one counter session (see the module docstring for the steps)."""

    now: Callable[[], datetime]
    backend: Callable[[], IssuerBackend]
    step: str = "unpaired"
    session: str = ""
    check: IdentityCheck | None = None
    operation: CounterOperation | None = None
    identity: str = field(default="", repr=False)
    values: dict[CounterCredential, str] = field(default_factory=dict, repr=False)
    changes: list[CredentialChange] = field(default_factory=list, repr=False)
    reset: CounterReset | None = field(default=None, repr=False)

    @property
    def credentials(self) -> tuple[CounterCredential, ...]:
        return PLANS[self.operation].credentials if self.operation else ()

    # --- from the clerk's console (over the channel layer) ---------------------------------

    def bind(self, message: Mapping[str, Any]) -> Out:
        """The clerk's ``counter.bind``: the session's authorisation, made by a verified clerk."""
        if self.step != "unpaired":
            return Out()
        self.session = str(message["session"])
        self.operation = CounterOperation(message["operation"])
        self.check = IdentityCheck(
            clerk=str(message["clerk"]),
            document=IdentityDocument(message["document"]),
            reason=CounterReason(message["reason"]),
        )
        self.step = "card"
        logger.info("counter terminal paired operation=%s", self.operation.value)
        plan = PLANS[self.operation]
        return Out(
            page=[{
                "type": "place_card",
                "credentials": [c.value for c in plan.credentials],
                "new_values": plan.new_values,
            }],
            progress=[progress(Progress.PAIRED)],
        )

    def execute(self) -> Out:
        """The clerk's 「初期化を実行する」: the issuer channel starts, once the input is ready."""
        if self.step != "ready" or self.check is None or self.operation is None:
            return Out()
        self.changes = PLANS[self.operation].changes(self.values)
        self.values = {}
        try:
            self.reset = CounterReset(
                self.identity, self.check, self.changes, backend=self.backend()
            )
        except CounterResetError as exc:  # the values were checked already; defence in depth
            return self._fail(exc.reason)
        self.step = "issuer"
        logger.info("counter reset started credentials=%d", len(self.changes))
        return Out(
            page=[{"type": "apdu", "apdu": _b64(self.reset.first_apdu())}],
            progress=[progress(Progress.WORKING)],
        )

    def cancel(self, reason: str) -> Out:
        """The clerk cancelled, the clerk's console left, or this terminal's page went away."""
        if self.step in ("unpaired", "ended"):
            self.forget()
            return Out()
        if self.step == "issuer":
            # The card may have applied part of it: record what it confirmed, and the break.
            return self._fail(reason)
        if self.step != "status" and reason != "code_collision":
            # (A collision is recorded once, by the console that saw it.)
            self._audit_cancelled(reason)
        self.forget()
        return Out(page=[refused(reason)], progress=[progress(Progress.CANCELLED, reason=reason)])

    # --- from the terminal page -------------------------------------------------------------

    def handle(self, message: Mapping[str, Any]) -> Out:
        """One page message in. Any misuse ends the flow (and cancels a paired session)."""
        kind = str(message.get("type"))
        handler = {
            ("card", "card"): self._card,
            ("input", "new_password"): self._new_password,
            ("issuer", "apdu_response"): self._apdu_response,
            ("status", "status"): self._status,
        }.get((self.step, kind))
        try:
            if handler is None:
                raise BadMessage(kind)
            return handler(message)
        except BadMessage:
            logger.info("counter terminal message refused at step %s", self.step)
            return self.cancel("bad_message")

    def forget(self) -> None:
        self.step = "ended"
        self.identity = ""
        self.values = {}
        self.changes = []
        self.reset = None

    # --- steps --------------------------------------------------------------------------------

    def _card(self, message: Mapping[str, Any]) -> Out:
        der = _binary(message, "certificate")
        tries = _tries(message, self.credentials)
        try:
            certificate = check_auth_certificate(der, trust_anchors(), now=self.now())
        except EvidenceError:
            return self.cancel("untrusted_certificate")
        self.identity = card_identity(certificate)
        out = Out(progress=[progress(Progress.CARD_PRESENT, tries=tries)])
        return self._next_input(out)

    def _next_input(self, out: Out) -> Out:
        assert self.operation is not None  # noqa: S101 - set by bind
        plan = PLANS[self.operation]
        missing = [c for c in plan.credentials if c not in self.values] if plan.new_values else []
        if missing:
            if self.step != "input":
                out.progress.append(progress(Progress.WAITING_INPUT))
            self.step = "input"
            out.page.append({"type": "enter", "credential": missing[0].value})
            return out
        self.step = "ready"
        out.page.append({"type": "wait"})
        out.progress.append(progress(Progress.READY))
        return out

    def _new_password(self, message: Mapping[str, Any]) -> Out:
        value, confirm = message.get("value"), message.get("confirm")
        try:
            credential = CounterCredential(str(message.get("credential")))
        except ValueError:
            raise BadMessage("credential") from None
        if credential not in self.credentials or credential in self.values:
            raise BadMessage("credential")
        if not isinstance(value, str) or not isinstance(confirm, str) or len(value) > 32:
            raise BadMessage("new_password")
        if credential is CounterCredential.SIGN:
            value, confirm = value.upper(), confirm.upper()
        problem = check_new_password(credential, value, confirm)
        if problem is not None:
            logger.info("counter new password refused problem=%s", problem.value)
            key = f"format_{credential.value}" if problem is PasswordProblem.FORMAT else problem
            return Out(page=[{
                "type": "password_refused",
                "credential": credential.value,
                "problem": problem.value,
                "text": password_problem_text(str(key), credential),
            }])
        self.values[credential] = value
        return self._next_input(Out())

    def _apdu_response(self, message: Mapping[str, Any]) -> Out:
        assert self.reset is not None  # noqa: S101 - set by execute
        response = _binary(message, "response", allow_empty=True)
        sw_text = message.get("sw")
        if not isinstance(sw_text, str) or len(sw_text) != 4:
            raise BadMessage("sw")
        try:
            sw = int(sw_text, 16)
        except ValueError:
            raise BadMessage("sw") from None
        try:
            apdu = self.reset.answer(response, sw)
        except CounterResetError as exc:
            return self._fail(exc.reason)
        if apdu is not None:
            return Out(page=[{"type": "apdu", "apdu": _b64(apdu)}])
        assert self.check is not None  # noqa: S101
        record_outcome(self.check, self.changes, self.reset.results)
        logger.info("counter reset done credentials=%d", len(self.reset.results))
        self.changes, self.reset = [], None
        self.step = "status"
        return Out(page=[{"type": "done"}], progress=[progress(Progress.DONE)])

    def _status(self, message: Mapping[str, Any]) -> Out:
        tries = _tries(message, self.credentials)
        full = all(tries[c] == FULL_TRIES[c] for c in self.credentials)
        self.forget()
        return Out(progress=[progress(Progress.COUNTER_FULL, tries=tries, full=full)])

    def _fail(self, reason: str) -> Out:
        assert self.check is not None  # noqa: S101
        results = self.reset.results if self.reset is not None else []
        record_outcome(self.check, self.changes, results, reason)
        logger.info("counter reset failed reason=%s", reason)
        self.forget()
        return Out(
            page=[refused("card_refused")],
            progress=[progress(Progress.FAILED, reason=reason)],
        )

    def _audit_cancelled(self, reason: str) -> None:
        assert self.check is not None and self.operation is not None  # noqa: S101
        AuditRecord.append(
            actor=self.check.clerk,
            action=AuditAction.COUNTER_RESET,
            result="cancelled",
            detail=f"{self.operation.value}:{reason}"[:64],
        )
