"""One resident's completion at the kiosk, as a state machine the consumer feeds (issue 11).

Screens and messages: docs/kiosk.md. Everything lives in this object for the life of one
WebSocket; nothing about the resident is stored, put in a session, or logged (only step names
and reason codes are). The page and the bridge are relays: the server checks the card's
certificate, the signature made with the password the resident still knows, and the card's own
authenticated answer to the issuer channel before the reservation becomes used.
"""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from kiosk.messages import PASSWORD_PROBLEMS, REFUSALS
from kiosk.password_rules import PasswordProblem, check_new_password
from mynacard.challenge import (
    KEY_FOR_PURPOSE,
    PURPOSE_KIOSK_AUTH_RESET,
    PURPOSE_KIOSK_SIGN_RESET,
    challenge_digest,
)
from mynacard.evidence import (
    EvidenceError,
    EvidenceErrorCode,
    card_identity,
    certificate_identity,
    check_auth_certificate,
    sign_certificate_birth_date,
)
from mynacard.issuer import IssuerChannel, IssuerChannelError
from mynacard.pkcs1 import sha256_digest_info, verify_digest_info
from mynacard.targets import TargetPassword
from reservations import kiosk_hours
from reservations.anchors import trust_anchors
from reservations.completion import KioskRefusal, complete, find_for_kiosk
from reservations.models import Reservation

logger = logging.getLogger(__name__)

Reply = dict[str, Any]

PURPOSE_FOR_TARGET: Mapping[TargetPassword, str] = {
    TargetPassword.SIGN: PURPOSE_KIOSK_SIGN_RESET,
    TargetPassword.AUTH: PURPOSE_KIOSK_AUTH_RESET,
}
MAX_BINARY = 8 * 1024  # a certificate is 1–2 KB, an APDU answer a few bytes


class BadMessage(Exception):
    """A message the current step cannot take; the flow ends."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _binary(message: Mapping[str, Any], name: str, *, allow_empty: bool = False) -> bytes:
    raw = message.get(name)
    if not isinstance(raw, str) or len(raw) > 4 * MAX_BINARY:
        raise BadMessage(name)
    try:
        value = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise BadMessage(name) from None
    if not value and not allow_empty:
        raise BadMessage(name)
    return value


def refused(reason: str, **values: str) -> Reply:
    text = str(REFUSALS[reason])
    return {"type": "refused", "reason": reason, "text": text % values if values else text}


@dataclass
class KioskFlow:
    """The steps of one completion: choose → card → proof → new password → issuer → done."""

    origin: str
    open_channel: Callable[[str], IssuerChannel]
    now: Callable[[], datetime]
    step: str = "choose"
    target: TargetPassword | None = None
    identity: str = field(default="", repr=False)
    reservation_id: int | None = None
    signer_identity: str = field(default="", repr=False)
    nonce: bytes = field(default=b"", repr=False)
    birth_date: date | None = field(default=None, repr=False)
    pending_password: str = field(default="", repr=False)
    channel: IssuerChannel | None = field(default=None, repr=False)
    #: Where the issuer channel is: select → initialize → authenticate → reset.
    _issuer_step: str = "select"

    def handle(self, message: Mapping[str, Any]) -> list[Reply]:
        """One page message in, the replies out. Any misuse ends the flow."""
        kind = message.get("type")
        handler = {
            ("choose", "start"): self._start,
            ("card", "card"): self._card,
            ("proof", "proof"): self._proof,
            ("new_password", "new_password"): self._new_password,
            ("issuer", "apdu_response"): self._apdu_response,
        }.get((self.step, str(kind)))
        try:
            if handler is None:
                raise BadMessage(str(kind))
            return handler(message)
        except BadMessage:
            logger.info("kiosk message refused at step %s", self.step)
            self.forget()
            return [refused("bad_message")]

    def forget(self) -> None:
        """Drop everything about the resident (timeout, card removed, cancel, the end)."""
        self.step = "ended"
        self.target = None
        self.identity = ""
        self.reservation_id = None
        self.signer_identity = ""
        self.nonce = b""
        self.birth_date = None
        self.pending_password = ""
        self.channel = None

    def _end(self, reply: Reply) -> list[Reply]:
        self.forget()
        return [reply]

    def _closed(self) -> Reply | None:
        opens, closes = kiosk_hours.kiosk_hours()
        if kiosk_hours.is_open(self.now(), opens=opens, closes=closes):
            return None
        return refused("closed", opens=opens.strftime("%H:%M"), closes=closes.strftime("%H:%M"))

    # --- steps ----------------------------------------------------------------------------

    def _start(self, message: Mapping[str, Any]) -> list[Reply]:
        try:
            self.target = TargetPassword(str(message.get("target")))
        except ValueError:
            raise BadMessage("target") from None
        closed = self._closed()
        if closed is not None:
            return self._end(closed)
        self.step = "card"
        logger.info("kiosk completion started target=%s", self.target.value)
        return [{"type": "place_card"}]

    def _card(self, message: Mapping[str, Any]) -> list[Reply]:
        assert self.target is not None  # noqa: S101 - set by _start
        der = _binary(message, "certificate")
        try:
            certificate = check_auth_certificate(der, trust_anchors(), now=self.now())
        except EvidenceError as exc:
            reason = (
                "certificate_expired"
                if exc.code is EvidenceErrorCode.CERTIFICATE_EXPIRED
                else "untrusted_certificate"
            )
            return self._end(refused(reason))
        self.identity = card_identity(certificate)
        found = find_for_kiosk(self.identity, self.target, now=self.now())
        if isinstance(found, KioskRefusal):
            logger.info("kiosk found no usable reservation reason=%s", found.value)
            return self._end(refused(found.value))
        self.reservation_id = found.pk
        self.signer_identity = found.signer_identity
        self.nonce = secrets.token_bytes(32)
        self.step = "proof"
        purpose = PURPOSE_FOR_TARGET[self.target]
        return [{
            "type": "reservation",
            "key": KEY_FOR_PURPOSE[purpose],
            "purpose": purpose,
            "nonce": _b64(self.nonce),
            "origin": self.origin,
            "deadline": found.deadline_jst.strftime("%Y/%m/%d %H:%M"),
        }]

    def _proof(self, message: Mapping[str, Any]) -> list[Reply]:
        assert self.target is not None  # noqa: S101
        der, signature = _binary(message, "certificate"), _binary(message, "signature")
        nonce, self.nonce = self.nonce, b""  # single use
        purpose = PURPOSE_FOR_TARGET[self.target]
        try:
            certificate = check_auth_certificate(der, trust_anchors(), now=self.now())
            key = certificate.public_key()
        except (EvidenceError, ValueError):
            return self._end(refused("proof_failed"))
        digest_info = sha256_digest_info(challenge_digest(purpose, self.origin, nonce))
        if not isinstance(key, RSAPublicKey) or not verify_digest_info(
            key, signature, digest_info
        ):
            return self._end(refused("proof_failed"))
        expected = self.signer_identity or self.identity
        if certificate_identity(certificate) != expected:
            # Not the key that signed the booking (docs/evidence.md §2, signer_identity).
            return self._end(refused("wrong_card"))
        if KEY_FOR_PURPOSE[purpose] == "sign":
            self.birth_date = sign_certificate_birth_date(certificate)
        self.step = "new_password"
        logger.info("kiosk proof of the other password accepted")
        return [{"type": "proven"}]

    def _new_password(self, message: Mapping[str, Any]) -> list[Reply]:
        assert self.target is not None and self.reservation_id is not None  # noqa: S101
        value, confirm = message.get("value"), message.get("confirm")
        if not isinstance(value, str) or not isinstance(confirm, str) or len(value) > 32:
            raise BadMessage("new_password")
        if self.target is TargetPassword.SIGN:
            value, confirm = value.upper(), confirm.upper()
        problem = check_new_password(self.target, value, confirm, birth_date=self.birth_date)
        if problem is not None:
            logger.info("kiosk new password refused problem=%s", problem.value)
            key = f"format_{self.target.value}" if problem is PasswordProblem.FORMAT else problem
            return [{
                "type": "password_refused",
                "problem": problem.value,
                "text": str(PASSWORD_PROBLEMS[str(key)]),
            }]
        closed = self._closed()
        if closed is not None:
            return self._end(closed)
        if not Reservation.objects.filter(pk=self.reservation_id, state="active").exists():
            return self._end(refused("reservation_changed"))
        self.pending_password = value
        self.channel = self.open_channel(self.identity)
        self.step = "issuer"
        self._issuer_step = "select"
        return [{"type": "apdu", "apdu": _b64(self.channel.select())}]

    def _apdu_response(self, message: Mapping[str, Any]) -> list[Reply]:
        assert self.channel is not None and self.target is not None  # noqa: S101
        response = _binary(message, "response", allow_empty=True)
        sw_text = message.get("sw")
        if not isinstance(sw_text, str) or len(sw_text) != 4:
            raise BadMessage("sw")
        try:
            sw = int(sw_text, 16)
        except ValueError:
            raise BadMessage("sw") from None
        channel = self.channel
        try:
            if self._issuer_step == "select":
                channel.check_authenticated(sw)  # a plain 9000 check
                self._issuer_step = "initialize"
                return [{"type": "apdu", "apdu": _b64(channel.initialize())}]
            if self._issuer_step == "initialize":
                host = channel.authenticate(response, sw)
                self._issuer_step = "authenticate"
                return [{"type": "apdu", "apdu": _b64(host)}]
            if self._issuer_step == "authenticate":
                channel.check_authenticated(sw)
                command = channel.reset_password(self.target, self.pending_password)
                self.pending_password = ""
                self._issuer_step = "reset"
                return [{"type": "apdu", "apdu": _b64(command)}]
            channel.check_reset(response, sw)
        except IssuerChannelError as exc:
            logger.info("kiosk issuer channel failed reason=%s", exc.reason)
            return self._end(refused("card_refused"))
        assert self.reservation_id is not None  # noqa: S101
        if not complete(self.reservation_id, now=self.now()):
            return self._end(refused("reservation_changed"))
        return self._end({"type": "done"})

