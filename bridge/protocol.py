"""The JSON protocol between the page and the bridge: parsing and validation of commands.

One envelope each way (style.md, after AusweisApp's SDK): the page sends ``{"cmd": ...}``, the
bridge answers ``{"msg": ...}``. Parsing is strict and happens before any card work, so a bad
argument never costs a PIN try. Secrets (PINs, 照合番号B) are held in fields excluded from
``repr`` and never appear in an error text. What the bridge sends back is in :mod:`bridge.messages`;
docs/bridge-protocol.md is the reference for both.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bridge import messages
from bridge.reasons import BridgeReason
from mynacard.challenge import (
    KEY_FOR_PURPOSE,
    MAX_NONCE_LENGTH,
    MIN_NONCE_LENGTH,
)
from mynacard.errors import InvalidPinFormatError
from mynacard.issuer import is_issuer_apdu
from mynacard.jpki import KeyKind
from mynacard.pins import PinKind, make_pin_b, normalize_pin

logger = logging.getLogger(__name__)
JST = ZoneInfo("Asia/Tokyo")

#: The API level this bridge speaks; HELLO must ask for it (docs/bridge-protocol.md, "HELLO").
API_LEVEL = 1
SUPPORTED_API_LEVELS = frozenset({API_LEVEL})
MAX_ID_LENGTH = 64
MAX_READER_NAME = 256

#: Command → the ``msg`` of its reply (also of its ``"ok": false`` reply, messages.CommandFailed).
REPLIES: Mapping[str, str] = {
    "HELLO": messages.HelloReply.MSG,
    "GET_READERS": messages.Readers.MSG,
    "SELECT_READER": messages.Readers.MSG,
    "GET_CARD_STATUS": messages.CardStatus.MSG,
    "CHECK_CARD_FACE_ITEMS": messages.CardFaceItemsChecked.MSG,
    "READ_CARD_FACE": messages.CardFace.MSG,
    "AUTHENTICATE": messages.Authentication.MSG,
    "RESERVE": messages.Evidence.MSG,
    "CANCEL": messages.Cancelled.MSG,
    "SIM_CARD": messages.SimCardDone.MSG,
    "GET_DIAGNOSTICS": messages.DiagnosticsReport.MSG,
    "GET_AUTH_CERTIFICATE": messages.AuthCertificateReply.MSG,
    "RELAY_APDU": messages.ApduResponse.MSG,
}
#: The longest APDU the relay forwards (issuer-channel commands are short APDUs).
MAX_RELAY_APDU = 261
_COMMAND_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")


class InvalidMessage(Exception):
    """Not a JSON object with a string ``cmd`` (answered with ``INVALID``)."""


class UnknownCommandError(Exception):
    """A well-formed ``cmd`` this bridge does not know (answered with ``UNKNOWN_COMMAND``)."""


class ArgumentError(Exception):
    """A bad argument: the normal reply gets ``error`` (and ``reason``), no card work happens."""

    def __init__(
        self, error: str, *, reason: BridgeReason = BridgeReason.BAD_ARGUMENT, **extra: Any
    ) -> None:
        self.error = error
        self.reason = reason
        self.extra = extra
        super().__init__(error)


@dataclass(frozen=True)
class Challenge:
    """What the card signs over, together with the handshake origin (mynacard.challenge)."""

    purpose: str
    nonce: bytes


@dataclass(frozen=True)
class CardFaceItems:
    """照合番号B built from the three items printed on the card (spec §6.2). Never logged."""

    pin_b: str = field(repr=False)


@dataclass(frozen=True)
class Hello:
    """Handshake: the page names the API level it speaks."""

    api: int


@dataclass(frozen=True)
class GetReaders:
    """List the readers and which one is selected."""


@dataclass(frozen=True)
class SelectReader:
    """Choose the reader that card commands use."""

    reader: str


@dataclass(frozen=True)
class GetCardStatus:
    """Every retry counter and certificate fact, without spending a try."""


@dataclass(frozen=True)
class CheckCardFaceItems:
    """VERIFY 照合番号B alone, right after the card is placed: are the card-face items right?

    Issue 14: a wrong item used to be found only after the PIN was typed. Nothing is read.
    """

    items: CardFaceItems
    confirm_last_try: bool


@dataclass(frozen=True)
class ReadCardFace:
    """Open the 券面AP with 照合番号B, read the signed card face, have the card key sign."""

    items: CardFaceItems
    challenge: Challenge
    confirm_last_try: bool


@dataclass(frozen=True)
class Authenticate:
    """VERIFY one JPKI key's PIN, read its certificate, sign the challenge with it."""

    key: KeyKind
    challenge: Challenge
    pin: str = field(repr=False)
    confirm_last_try: bool = False


@dataclass(frozen=True)
class Reserve:
    """READ_CARD_FACE and AUTHENTICATE in one round trip: the whole reservation evidence."""

    key: KeyKind
    items: CardFaceItems
    challenge: Challenge
    pin: str = field(repr=False)
    confirm_last_try: bool = False


@dataclass(frozen=True)
class Cancel:
    """Stop the running card operation (accepted at any time)."""


@dataclass(frozen=True)
class GetDiagnostics:
    """A report for support: versions, service, readers, recent failures; no personal data."""


@dataclass(frozen=True)
class SimCard:
    """Development aid, simulate mode only: insert or remove the simulated card."""

    present: bool


@dataclass(frozen=True)
class GetAuthCertificate:
    """Kiosk mode: the user-auth certificate (EF 000A, no PIN), which names the card."""


@dataclass(frozen=True)
class RelayApdu:
    """Kiosk mode: forward one issuer-channel APDU, opaque to the bridge, and return the answer."""

    apdu: bytes


Command = (
    Hello
    | GetReaders
    | SelectReader
    | GetCardStatus
    | CheckCardFaceItems
    | ReadCardFace
    | Authenticate
    | Reserve
    | Cancel
    | SimCard
    | GetDiagnostics
    | GetAuthCertificate
    | RelayApdu
)
CARD_WORKFLOWS = frozenset({
    "GET_CARD_STATUS", "CHECK_CARD_FACE_ITEMS", "READ_CARD_FACE", "AUTHENTICATE", "RESERVE",
    "GET_AUTH_CERTIFICATE", "RELAY_APDU",
})


@dataclass(frozen=True)
class Envelope:
    """A parsed incoming message: the command name, its body, and the optional request id."""

    cmd: str
    body: Mapping[str, Any]
    request_id: str | int | None


def parse_envelope(raw: str | bytes) -> Envelope:
    """JSON text → Envelope, or InvalidMessage (never echoing the text: it may hold a PIN)."""
    if isinstance(raw, bytes):
        raise InvalidMessage("binary frames are not accepted; send JSON text")
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InvalidMessage("not valid JSON") from exc
    if not isinstance(body, dict):
        raise InvalidMessage("a message must be a JSON object")
    cmd = body.get("cmd")
    if not isinstance(cmd, str) or not cmd:
        raise InvalidMessage('a message needs a string "cmd"')
    if not _COMMAND_NAME.match(cmd):
        raise InvalidMessage('"cmd" must be UPPER_SNAKE_CASE')
    request_id = body.get("id")
    if request_id is not None:
        valid_str = isinstance(request_id, str) and len(request_id) <= MAX_ID_LENGTH
        valid_int = isinstance(request_id, int) and not isinstance(request_id, bool)
        if not (valid_str or valid_int):
            raise InvalidMessage('"id" must be a short string or an integer')
    return Envelope(cmd=cmd, body=body, request_id=request_id)


def _bool(body: Mapping[str, Any], name: str, *, default: bool | None = None) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise ArgumentError(f'"{name}" must be true or false')
    return value


def _string(body: Mapping[str, Any], name: str, *, max_length: int = 256) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ArgumentError(f'"{name}" must be a non-empty string')
    if len(value) > max_length:
        raise ArgumentError(f'"{name}" is too long')
    return value


def _challenge(body: Mapping[str, Any]) -> Challenge:
    purpose = body.get("purpose")
    # The type first: a list or an object is unhashable, and the lookup would raise TypeError.
    if not isinstance(purpose, str) or purpose not in KEY_FOR_PURPOSE:
        raise ArgumentError('"purpose" must be one of ' + ", ".join(sorted(KEY_FOR_PURPOSE)))
    text = _string(body, "nonce", max_length=4 * MAX_NONCE_LENGTH)
    try:
        nonce = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ArgumentError('"nonce" must be standard base64') from exc
    # The card signs only what mynacard.challenge accepts (architecture.md, trust model: ≥ 256
    # bits from the server), so its bounds are the bridge's.
    if not MIN_NONCE_LENGTH <= len(nonce) <= MAX_NONCE_LENGTH:
        raise ArgumentError(f'"nonce" must decode to {MIN_NONCE_LENGTH}-{MAX_NONCE_LENGTH} bytes')
    return Challenge(purpose=str(purpose), nonce=nonce)


#: A bad card-face item is a malformed 照合番号B: refused before the card sees anything.
_PIN_B_MALFORMED: dict[str, Any] = {
    "reason": BridgeReason.MALFORMED_PIN,
    "pin": PinKind.VISUAL_PIN_B.value,
}


def _iso_date(body: Mapping[str, Any], name: str) -> date:
    value = body.get(name)
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ArgumentError(f'"{name}" must be YYYY-MM-DD', **_PIN_B_MALFORMED)
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ArgumentError(f'"{name}" is not a calendar date', **_PIN_B_MALFORMED) from exc


def _today_in_japan() -> date:
    # The card's printed dates are Japan dates (docs/mynacard-protocol.md §6.2).
    return datetime.now(JST).date()


def _plausible_card_dates(birth: date, expiry: date, today: date) -> None:
    """Dates no valid card carries never reach it: each wrong 照合番号B spends one of its tries.

    The same rules as the page's (static/reset/card-face.js `validateCardFace`): born by today,
    card not yet expired, expiry after birth and at most ~10 years ahead (a card is issued for
    10 years at most, to the birthday after, hence the year's margin).
    """
    if birth > today:
        raise ArgumentError('"birth_date" is in the future', **_PIN_B_MALFORMED)
    if expiry < today:
        raise ArgumentError('"expiry_date" has passed: the card has expired', **_PIN_B_MALFORMED)
    if expiry.year > today.year + 11:
        raise ArgumentError('"expiry_date" is too far ahead for a card', **_PIN_B_MALFORMED)
    if expiry <= birth:
        raise ArgumentError('"expiry_date" is not after "birth_date"', **_PIN_B_MALFORMED)


def _card_face_items(body: Mapping[str, Any]) -> CardFaceItems:
    birth = _iso_date(body, "birth_date")
    expiry = _iso_date(body, "expiry_date")
    _plausible_card_dates(birth, expiry, _today_in_japan())
    code = body.get("security_code")
    if not isinstance(code, str) or not re.fullmatch(r"[0-9]{4}", code):
        raise ArgumentError('"security_code" must be 4 digits', **_PIN_B_MALFORMED)
    try:
        pin_b = make_pin_b(birth, expiry, code)  # already normalised (mynacard.pins)
    except InvalidPinFormatError as exc:
        # The exception text is not forwarded: it could quote the value.
        raise ArgumentError(
            "the card-face items do not form a valid 照合番号B (birth date out of the 和暦 range?)",
            **_PIN_B_MALFORMED,
        ) from exc
    return CardFaceItems(pin_b=pin_b)


def _key_and_pin(body: Mapping[str, Any], challenge: Challenge) -> tuple[KeyKind, str]:
    # Resetting one password needs the OTHER one (peers.md, cross-credential rule; spec §10).
    expected = KeyKind.named(KEY_FOR_PURPOSE[challenge.purpose])
    name = body.get("key", expected.key_name)
    try:
        if not isinstance(name, str):
            raise ValueError("not a string")
        key = KeyKind.named(name)
    except ValueError as exc:
        raise ArgumentError('"key" must be "auth" or "sign"') from exc
    if key != expected:
        raise ArgumentError(
            f'purpose {challenge.purpose} is proved with the "{expected.key_name}" key (the '
            "password you still know), not the one being reset"
        )
    kind = key.pin_kind
    value = body.get("pin")
    if not isinstance(value, str):
        raise ArgumentError(
            '"pin" must be a string', reason=BridgeReason.MALFORMED_PIN, pin=kind.value
        )
    try:
        pin = normalize_pin(kind, value)
    except InvalidPinFormatError as exc:
        rule = "4 digits" if kind == PinKind.JPKI_AUTH else (
            "6-16 of A-Z and 0-9 with at least one letter and one digit"
        )
        raise ArgumentError(
            f'"pin" must be {rule}', reason=BridgeReason.MALFORMED_PIN, pin=kind.value
        ) from exc
    return expected, pin


def _relayed_apdu(body: Mapping[str, Any]) -> bytes:
    text = _string(body, "apdu", max_length=4 * MAX_RELAY_APDU)
    try:
        apdu = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ArgumentError('"apdu" must be standard base64') from exc
    # Only the issuer channel (docs/issuer-channel.md): the relay can never VERIFY, sign or read.
    if not is_issuer_apdu(apdu) or len(apdu) > MAX_RELAY_APDU:
        raise ArgumentError("only the issuer channel's instructions are relayed")
    return apdu


def parse_command(envelope: Envelope, *, simulate: bool, kiosk: bool = False) -> Command:
    """The typed command for ``envelope``; UnknownCommandError or ArgumentError otherwise.

    ``SIM_CARD`` exists only in simulate mode: in real mode it is an unknown command, so a page
    cannot even learn that the development aid exists.
    """
    body = envelope.body
    match envelope.cmd:
        case "HELLO":
            api = body.get("api")
            if isinstance(api, bool) or not isinstance(api, int):
                raise ArgumentError('"api" must be an integer')
            if api not in SUPPORTED_API_LEVELS:
                raise ArgumentError(
                    f"api level {api} is not supported; this bridge speaks "
                    + ", ".join(str(a) for a in sorted(SUPPORTED_API_LEVELS)),
                    supported=sorted(SUPPORTED_API_LEVELS),
                )
            return Hello(api=api)
        case "GET_READERS":
            return GetReaders()
        case "SELECT_READER":
            return SelectReader(reader=_string(body, "reader", max_length=MAX_READER_NAME))
        case "GET_CARD_STATUS":
            return GetCardStatus()
        case "CHECK_CARD_FACE_ITEMS":
            return CheckCardFaceItems(
                items=_card_face_items(body),
                confirm_last_try=_bool(body, "confirm_last_try", default=False),
            )
        case "READ_CARD_FACE":
            challenge = _challenge(body)
            return ReadCardFace(
                items=_card_face_items(body),
                challenge=challenge,
                confirm_last_try=_bool(body, "confirm_last_try", default=False),
            )
        case "AUTHENTICATE":
            challenge = _challenge(body)
            key, pin = _key_and_pin(body, challenge)
            return Authenticate(
                key=key,
                pin=pin,
                challenge=challenge,
                confirm_last_try=_bool(body, "confirm_last_try", default=False),
            )
        case "RESERVE":
            challenge = _challenge(body)
            key, pin = _key_and_pin(body, challenge)
            return Reserve(
                key=key,
                pin=pin,
                items=_card_face_items(body),
                challenge=challenge,
                confirm_last_try=_bool(body, "confirm_last_try", default=False),
            )
        case "CANCEL":
            return Cancel()
        case "GET_DIAGNOSTICS":
            return GetDiagnostics()
        case "SIM_CARD" if simulate:
            return SimCard(present=_bool(body, "present"))
        case "GET_AUTH_CERTIFICATE" if kiosk:
            return GetAuthCertificate()
        case "RELAY_APDU" if kiosk:
            return RelayApdu(apdu=_relayed_apdu(body))
        case _:
            raise UnknownCommandError(envelope.cmd)


def encode(message: Mapping[str, Any]) -> str:
    """A reply as compact JSON text (UTF-8 kept as is for the Japanese fix texts)."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))
