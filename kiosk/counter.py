"""Counter resets at a municipal assisted terminal (issue 12): what the kiosk cannot do.

A clerk authorises the reset by an in-person identity check (the document's TYPE from a list,
never its number, and a reason from a list) instead of a reservation or the other password. The
resident types each new password on the counter terminal's own keypad; it is checked here
(kiosk.password_rules) before any APDU is built and reaches the card only encrypted inside the
issuer channel (docs/issuer-channel.md). Cases:

- both passwords forgotten: 署名用 and 利用者証明用 reset in one authenticated session;
- a locked key (利用者証明用 after 3 misses, 署名用 after 5): reset with a new value, or only
  unblocked (UNBLOCK) when the resident still knows it;
- the two 4-digit PINs only a counter resets: 券面事項入力補助用 and 住民基本台帳用.

:class:`CounterReset` is sans-IO (APDU out, answer in), so a consumer can relay it through a
bridge; :func:`run_counter_reset` drives it over a direct :class:`CardConnection`. Each step
writes one audit record (reservations.audit_log). Values are never logged or stored.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum, unique

from cryptography import x509

from kiosk.issuer import IssuerBackend, issuer_backend
from kiosk.password_rules import check_new_password
from mynacard.evidence import card_identity
from mynacard.issuer import CounterCredential, IssuerChannel, IssuerChannelError, IssuerResult
from mynacard.jpki import CertificateKind, JpkiSession
from mynacard.transport import CardConnection
from reservations.audit_log import AuditAction, AuditRecord
from reservations.identity_documents import IdentityDocument

logger = logging.getLogger(__name__)

__all__ = [
    "CounterReason",
    "CounterReset",
    "CounterResetError",
    "CredentialChange",
    "IdentityCheck",
    "IdentityDocument",
    "record_identity_check",
    "record_outcome",
    "run_counter_reset",
]


@unique
class CounterReason(StrEnum):
    """Why the resident came to the counter (stable codes; the audit record carries them)."""

    BOTH_FORGOTTEN = "both_forgotten"
    KEY_LOCKED = "key_locked"
    FOUR_DIGIT_PIN = "four_digit_pin"


@dataclass(frozen=True)
class IdentityCheck:
    """The clerk's recorded in-person check: who checked, which document type, why."""

    clerk: str
    document: IdentityDocument
    reason: CounterReason


@dataclass(frozen=True)
class CredentialChange:
    """One credential to reset; ``new_value`` None = only unblock (the resident knows it)."""

    credential: CounterCredential
    new_value: str | None = field(default=None, repr=False)
    confirm: str | None = field(default=None, repr=False)


class CounterResetError(Exception):
    """A counter reset was refused or failed; ``reason`` is a stable code (no value in it)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _check_changes(check: IdentityCheck, changes: Sequence[CredentialChange]) -> None:
    if not check.clerk:
        raise CounterResetError("no_clerk")
    credentials = [change.credential for change in changes]
    if not credentials or len(set(credentials)) != len(credentials):
        raise CounterResetError("bad_credentials")
    if check.reason is CounterReason.BOTH_FORGOTTEN and set(credentials) != {
        CounterCredential.SIGN,
        CounterCredential.AUTH,
    }:
        raise CounterResetError("bad_credentials")
    for change in changes:
        if change.new_value is None:
            if check.reason is not CounterReason.KEY_LOCKED:
                raise CounterResetError("new_password_required")
            continue
        problem = check_new_password(change.credential, change.new_value, change.confirm or "")
        if problem is not None:
            # Checked before any APDU exists: a bad value never reaches the card (issue 12).
            raise CounterResetError(f"password_{problem.value}")


class CounterReset:
    """The server side of one counter reset: SELECT → INITIALIZE → AUTHENTICATE → one order per
    credential. Feed each card answer to :meth:`answer`; it returns the next APDU or None."""

    def __init__(
        self,
        identity: str,
        check: IdentityCheck,
        changes: Sequence[CredentialChange],
        *,
        backend: IssuerBackend | None = None,
    ) -> None:
        _check_changes(check, changes)
        self.check = check
        self._changes = list(changes)
        self._channel: IssuerChannel = (backend or issuer_backend()).open_channel(identity)
        self._step = "select"
        self.results: list[IssuerResult] = []

    def __repr__(self) -> str:
        return f"CounterReset(step={self._step!r}, done={len(self.results)})"

    @property
    def done(self) -> bool:
        return self._step == "done"

    def first_apdu(self) -> bytes:
        return self._channel.select()

    def answer(self, response: bytes, sw: int) -> bytes | None:
        """The card's answer to the last APDU; the next APDU, or None when every order is done."""
        try:
            return self._advance(response, sw)
        except IssuerChannelError as exc:
            self._step = "failed"
            raise CounterResetError(exc.reason) from None

    def _advance(self, response: bytes, sw: int) -> bytes | None:
        if self._step == "select":
            if sw != 0x9000:
                raise IssuerChannelError("card_refused", sw)
            self._step = "initialize"
            return self._channel.initialize()
        if self._step == "initialize":
            self._step = "authenticate"
            return self._channel.authenticate(response, sw)
        if self._step == "authenticate":
            self._channel.check_authenticated(sw)
        elif self._step == "order":
            self.results.append(self._channel.check_reset(response, sw))
        else:
            raise IssuerChannelError("finished")
        if len(self.results) == len(self._changes):
            self._step = "done"
            return None
        self._step = "order"
        change = self._changes[len(self.results)]
        if change.new_value is None:
            return self._channel.unblock(change.credential)
        return self._channel.reset_password(change.credential, change.new_value)


def read_card_identity(connection: CardConnection) -> str:
    """The card identity from the user-auth certificate (EF 000A, readable without a PIN)."""
    der = JpkiSession(connection).read_certificate(CertificateKind.AUTH)
    return card_identity(x509.load_der_x509_certificate(der))


def _audit(check: IdentityCheck, action: AuditAction, result: str, detail: str) -> None:
    AuditRecord.append(actor=check.clerk, action=action, result=result, detail=detail)


def record_identity_check(check: IdentityCheck) -> None:
    """The one ``identity_checked`` record of the clerk's in-person check (codes only)."""
    _audit(check, AuditAction.IDENTITY_CHECKED, "ok", f"{check.document}:{check.reason}")


def record_outcome(
    check: IdentityCheck,
    changes: Sequence[CredentialChange],
    results: Sequence[IssuerResult],
    failure: str | None = None,
) -> None:
    """One ``counter_reset`` record per credential the card confirmed, and one for the first
    that failed (its reason code). Shared by the direct run and the counter terminal's relay."""
    for result in results:
        _audit(check, AuditAction.COUNTER_RESET, "ok", _detail(result))
    if failure is not None:
        failed = changes[len(results)].credential
        _audit(check, AuditAction.COUNTER_RESET, failure[:32], f"{failed}:failed")


def run_counter_reset(
    connection: CardConnection,
    check: IdentityCheck,
    changes: Sequence[CredentialChange],
    *,
    backend: IssuerBackend | None = None,
) -> list[IssuerResult]:
    """Run a whole counter reset over a direct connection to the counter terminal's reader.

    Audit: one ``identity_checked`` record for the clerk's check, then one ``counter_reset``
    record per credential (``ok``, or the failure's reason code for the first that failed).
    """
    record_identity_check(check)
    identity = read_card_identity(connection)
    reset = CounterReset(identity, check, changes, backend=backend)
    apdu: bytes | None = reset.first_apdu()
    try:
        while apdu is not None:
            response, sw = connection.send_and_receive(apdu)
            apdu = reset.answer(response, sw)
    except CounterResetError as exc:
        record_outcome(check, changes, reset.results, exc.reason)
        logger.info("counter reset failed reason=%s", exc.reason)
        raise
    record_outcome(check, changes, reset.results)
    logger.info("counter reset done credentials=%d", len(reset.results))
    return reset.results


def _detail(result: IssuerResult) -> str:
    return f"{result.credential}:{'reset' if result.new_value else 'unblock'}"
