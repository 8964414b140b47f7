"""Every message the bridge sends to the page, as a typed dataclass (docs/bridge-protocol.md).

Commands are parsed into dataclasses (:mod:`bridge.protocol`); replies get the same treatment so
the protocol reference and the code can be checked against each other
(``bridge/tests/test_messages_documented.py``). Each class knows its ``msg`` name and turns itself
into the JSON object that goes on the wire; nothing else in the bridge builds a reply dict.
Binary fields are base64 (standard alphabet, padded) only here, at the edge.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from bridge.reasons import FIXES, BridgeFailure, BridgeReason, failure_fields
from mynacard.jpki import JpkiKeyName, KeyKind
from mynacard.pins import PinKind, PinStatus

if TYPE_CHECKING:  # bridge.readers builds READER events from these classes
    from bridge.readers import ReaderInfo

logger = logging.getLogger(__name__)

RequestId = str | int | None


def b64(data: bytes) -> str:
    """Binary fields travel as standard, padded base64 (docs/internal-api.md)."""
    return base64.b64encode(data).decode("ascii")


class Message:
    """A message from the bridge to the page: ``{"msg": NAME, ...}``, plus ``id`` on a reply."""

    MSG: ClassVar[str]

    def body(self) -> dict[str, Any]:
        """The fields after ``msg``, in the order docs/bridge-protocol.md shows them."""
        raise NotImplementedError

    @property
    def name(self) -> str:
        return self.MSG

    def to_json(self, request_id: RequestId = None) -> dict[str, Any]:
        message = {"msg": self.name, **self.body()}
        if request_id is not None:
            message["id"] = request_id
        return message


# --- parts shared by several messages --------------------------------------------------------


@dataclass(frozen=True)
class ReaderList:
    """The reader part of HELLO, READERS and DIAGNOSTICS ("GET_READERS" in the reference)."""

    readers: tuple[ReaderInfo, ...]
    selected: str | None
    auto_selected: bool
    service_reason: BridgeReason | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "readers": [r.to_json() for r in self.readers],
            "selected": self.selected,
            "auto_selected": self.auto_selected,
            "service": self.service_reason is None,
        }
        if self.service_reason is not None:
            body["reason"] = self.service_reason.value
            body["fix"] = FIXES[self.service_reason]
        return body


@dataclass(frozen=True)
class Failure:
    """``"ok": false`` with a stable reason, its fix, an optional ``error`` and extra fields."""

    reason: BridgeReason
    extra: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None

    @classmethod
    def of(cls, failure: BridgeFailure) -> Failure:
        return cls(reason=failure.reason, extra=dict(failure.extra))

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False}
        if self.error is not None:
            body["error"] = self.error
        return {**body, **failure_fields(self.reason, self.extra)}


@dataclass(frozen=True)
class Binding:
    """What a result was made for (Web eID: results bound to the nonce and the origin)."""

    origin: str
    purpose: str
    nonce: bytes

    def to_json(self) -> dict[str, Any]:
        return {"origin": self.origin, "purpose": self.purpose, "nonce": b64(self.nonce)}


def pin_status_json(status: PinStatus | None) -> dict[str, Any] | None:
    if status is None:
        return None
    return {"tries_left": status.tries_left, "max_tries": status.max_tries,
            "blocked": status.blocked}


@dataclass(frozen=True)
class Route:
    """Whether this card allows one reservation purpose, and what stands in the way."""

    obstacles: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"possible": not self.obstacles, "obstacles": list(self.obstacles)}


@dataclass(frozen=True)
class AuthCertificate:
    """The user-auth certificate's validity (docs/bridge-protocol.md, GET_CARD_STATUS)."""

    not_before: str
    not_after: str
    expired: bool

    def to_json(self) -> dict[str, Any]:
        return {"not_before": self.not_before, "not_after": self.not_after,
                "expired": self.expired}


@dataclass(frozen=True)
class CardReport:
    """Every counter and certificate fact of one card, read without spending a try."""

    pins: Mapping[PinKind, PinStatus | None]
    certificates: Mapping[KeyKind, bool]
    auth_certificate: AuthCertificate | None
    routes: Mapping[str, Route]

    def to_json(self) -> dict[str, Any]:
        return {
            "pins": {kind.value: pin_status_json(status) for kind, status in self.pins.items()},
            "certificates": {key.key_name: held for key, held in self.certificates.items()},
            "auth_certificate": (
                self.auth_certificate.to_json() if self.auth_certificate else None
            ),
            "routes": {purpose: route.to_json() for purpose, route in self.routes.items()},
        }


@dataclass(frozen=True)
class CardFaceEvidence:
    """The card-face half of the evidence: signed EF 0002, CV certificate, card key signature."""

    card_face: bytes
    cv_certificate: bytes
    card_key_signature: bytes
    photo: bytes
    photo_sha256: str

    def to_json(self) -> dict[str, Any]:
        return {
            "card_face": b64(self.card_face),
            "cv_certificate": b64(self.cv_certificate),
            "card_key_signature": b64(self.card_key_signature),
            "photo": b64(self.photo),
            "photo_sha256": self.photo_sha256,
        }


# --- protocol errors -------------------------------------------------------------------------


@dataclass(frozen=True)
class Invalid(Message):
    """Not JSON, not an object, no string ``cmd``, a bad ``id``, or a binary frame."""

    MSG: ClassVar[str] = "INVALID"
    error: str

    def body(self) -> dict[str, Any]:
        return {"error": self.error}


@dataclass(frozen=True)
class UnknownCommand(Message):
    """A well-formed ``cmd`` this bridge does not know; named in ``cmd`` and ``error``."""

    MSG: ClassVar[str] = "UNKNOWN_COMMAND"
    cmd: str

    def body(self) -> dict[str, Any]:
        return {"cmd": self.cmd, "error": self.cmd}


@dataclass(frozen=True)
class BadState(Message):
    """A known command that the current state does not allow."""

    MSG: ClassVar[str] = "BAD_STATE"
    cmd: str
    error: str
    state: str

    def body(self) -> dict[str, Any]:
        return {"cmd": self.cmd, "error": self.error, "state": self.state}


# --- replies to commands ---------------------------------------------------------------------


@dataclass(frozen=True)
class CommandFailed(Message):
    """A command's normal reply with ``"ok": false`` (a bad argument or a final failure)."""

    MSG: ClassVar[str] = ""  # the failing command's reply name, see ``reply``
    reply: str
    failure: Failure
    #: Extra context a failure carries beside its reason (e.g. the reader list on READERS).
    context: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.reply

    def body(self) -> dict[str, Any]:
        return {**self.failure.to_json(), **self.context}


@dataclass(frozen=True)
class HelloReply(Message):
    """HELLO accepted: versions, the backend, the bound origin and the readers."""

    MSG: ClassVar[str] = "HELLO"
    version: str
    api: int
    backend: str
    origin: str
    readers: ReaderList

    def body(self) -> dict[str, Any]:
        return {"version": self.version, "api": self.api, "backend": self.backend,
                "origin": self.origin, **self.readers.to_json()}


@dataclass(frozen=True)
class Readers(Message):
    """The reader list (GET_READERS), or a successful SELECT_READER (``ok`` set)."""

    MSG: ClassVar[str] = "READERS"
    readers: ReaderList
    ok: bool | None = None

    def body(self) -> dict[str, Any]:
        head = {} if self.ok is None else {"ok": self.ok}
        return {**head, **self.readers.to_json()}


@dataclass(frozen=True)
class CardStatus(Message):
    """GET_CARD_STATUS: every counter, no try spent."""

    MSG: ClassVar[str] = "CARD_STATUS"
    reader: str
    card: CardReport

    def body(self) -> dict[str, Any]:
        return {"ok": True, "reader": self.reader, "card": self.card.to_json()}


@dataclass(frozen=True)
class CardFaceItemsChecked(Message):
    """CHECK_CARD_FACE_ITEMS: 照合番号B is right; its counter is back at the maximum (spec §4.4)."""

    MSG: ClassVar[str] = "CARD_FACE_ITEMS"
    pin: PinKind
    max_tries: int | None

    def body(self) -> dict[str, Any]:
        # A right VERIFY restores the counter (spec §4.4); it is not read again, as some cards
        # answer the empty VERIFY with 9000 right after a successful one.
        return {"ok": True, "pin": self.pin.value, "tries_left": self.max_tries,
                "max_tries": self.max_tries}


@dataclass(frozen=True)
class CardFace(Message):
    """READ_CARD_FACE: the signed card face and the chip photo."""

    MSG: ClassVar[str] = "CARD_FACE"
    binding: Binding
    evidence: CardFaceEvidence

    def body(self) -> dict[str, Any]:
        return {"ok": True, **self.binding.to_json(), **self.evidence.to_json()}


@dataclass(frozen=True)
class Authentication(Message):
    """AUTHENTICATE: one JPKI key's certificate and its signature over the challenge."""

    MSG: ClassVar[str] = "AUTHENTICATION"
    binding: Binding
    key: JpkiKeyName
    certificate: bytes
    signature: bytes
    #: EF 000A, read without a PIN: the card's one identity on the server (docs/evidence.md).
    auth_certificate: bytes

    def body(self) -> dict[str, Any]:
        return {"ok": True, **self.binding.to_json(), "key": self.key,
                "certificate": b64(self.certificate), "signature": b64(self.signature),
                "auth_certificate": b64(self.auth_certificate)}


@dataclass(frozen=True)
class Evidence(Message):
    """RESERVE: everything POST /reset/evidence/ needs, under the names it expects."""

    MSG: ClassVar[str] = "EVIDENCE"
    binding: Binding
    jpki_key: JpkiKeyName
    jpki_certificate: bytes
    jpki_signature: bytes
    card_face: CardFaceEvidence
    #: EF 000A, read without a PIN: the card's one identity on the server (docs/evidence.md).
    auth_certificate: bytes

    def body(self) -> dict[str, Any]:
        return {"ok": True, **self.binding.to_json(), "jpki_key": self.jpki_key,
                "jpki_certificate": b64(self.jpki_certificate),
                "jpki_signature": b64(self.jpki_signature),
                "auth_certificate": b64(self.auth_certificate), **self.card_face.to_json()}


@dataclass(frozen=True)
class AuthCertificateReply(Message):
    """GET_AUTH_CERTIFICATE (kiosk mode): EF 000A, which the server names the card by."""

    MSG: ClassVar[str] = "AUTH_CERTIFICATE"
    certificate: bytes

    def body(self) -> dict[str, Any]:
        return {"ok": True, "certificate": b64(self.certificate)}


@dataclass(frozen=True)
class ApduResponse(Message):
    """RELAY_APDU (kiosk mode): the card's answer, as opaque to the bridge as the command."""

    MSG: ClassVar[str] = "APDU"
    response: bytes
    sw: int

    def body(self) -> dict[str, Any]:
        return {"ok": True, "response": b64(self.response), "sw": f"{self.sw:04X}"}


@dataclass(frozen=True)
class Cancelled(Message):
    """CANCEL acknowledged, naming the workflow it stopped (None when nothing ran)."""

    MSG: ClassVar[str] = "CANCEL"
    workflow: str | None

    def body(self) -> dict[str, Any]:
        return {"workflow": self.workflow}


@dataclass(frozen=True)
class DiagnosticsReport(Message):
    """GET_DIAGNOSTICS: a support report without personal data."""

    MSG: ClassVar[str] = "DIAGNOSTICS"
    environment: Mapping[str, Any]
    api: int
    backend: str
    settings: Mapping[str, Any]
    state: str
    workflow: str | None
    readers: ReaderList
    failures: list[dict[str, Any]]

    def body(self) -> dict[str, Any]:
        return {"environment": dict(self.environment), "api": self.api, "backend": self.backend,
                "settings": dict(self.settings), "state": self.state, "workflow": self.workflow,
                **self.readers.to_json(), "failures": self.failures}


@dataclass(frozen=True)
class SimCardDone(Message):
    """SIM_CARD (simulate mode only): the simulated card is now present or not."""

    MSG: ClassVar[str] = "SIM_CARD"
    present: bool

    def body(self) -> dict[str, Any]:
        return {"present": self.present}


# --- pushed messages -------------------------------------------------------------------------

ReaderEventName = Literal[
    "attached", "detached", "card_inserted", "card_removed", "card_mute", "card_status"
]


@dataclass(frozen=True)
class ReaderEvent(Message):
    """A reader attached or detached, a card inserted, removed or found mute."""

    MSG: ClassVar[str] = "READER"
    event: ReaderEventName
    reader: str
    #: None for a detached reader: it has no card state any more.
    info: ReaderInfo | None

    def body(self) -> dict[str, Any]:
        if self.info is None:
            state: dict[str, Any] = {"card_present": False, "card_mute": False}
        else:
            state = self.info.to_json()
        return {"event": self.event, "reader": self.reader, "attached": self.info is not None,
                **state}


@dataclass(frozen=True)
class CardStatusEvent(Message):
    """READER ``card_status``: the counters of a card just inserted, or why they are unknown."""

    MSG: ClassVar[str] = "READER"
    reader: str
    info: ReaderInfo | None
    card: CardReport | None
    failure: Failure | None = None

    def body(self) -> dict[str, Any]:
        # A reader that vanished meanwhile is reported as it was: attached, with a card.
        state = self.info.to_json() if self.info else {"card_present": True, "card_mute": False}
        head = {"event": "card_status", "reader": self.reader, "attached": True, **state}
        if self.failure is not None:  # ok false, card null, then reason, fix and extras
            result = self.failure.to_json()
            return {**head, "ok": result.pop("ok"), "card": None, **result}
        card = self.card.to_json() if self.card is not None else None
        return {**head, "ok": True, "card": card}


@dataclass(frozen=True)
class Service(Message):
    """The PC/SC service went away (``reason`` says why) or came back."""

    MSG: ClassVar[str] = "SERVICE"
    reason: BridgeReason | None

    def body(self) -> dict[str, Any]:
        if self.reason is None:
            return {"available": True}
        return {"available": False, "reason": self.reason.value, "fix": FIXES[self.reason]}


@dataclass(frozen=True)
class Status(Message):
    """Progress of the running card command; always before its final reply."""

    MSG: ClassVar[str] = "STATUS"
    workflow: str
    step: str
    progress: int
    apdus: int | None = None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"workflow": self.workflow, "step": self.step,
                                "progress": self.progress}
        if self.apdus is not None:
            body["apdus"] = self.apdus
        return body


#: Every message class, for the test that checks them against docs/bridge-protocol.md.
MESSAGE_TYPES: tuple[type[Message], ...] = (
    Invalid, UnknownCommand, BadState, CommandFailed, HelloReply, Readers, CardStatus,
    CardFaceItemsChecked, CardFace,
    Authentication, Evidence, AuthCertificateReply, ApduResponse, Cancelled, DiagnosticsReport,
    SimCardDone, ReaderEvent,
    CardStatusEvent, Service, Status,
)
