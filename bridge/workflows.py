"""Card operations on ``mynacard`` sessions, run in the card worker thread.

Every workflow opens one link, does all its work on it, and closes it in ``finally`` (a link
that VERIFYed is closed with a card reset, so no verified PIN survives: no half state). Each
VERIFY happens at most once per command and is preceded by a retry-counter read that spends no
try (spec §4.4), which is what the last-try guard needs.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509

from bridge.messages import (
    ApduResponse,
    AuthCertificate,
    AuthCertificateReply,
    Authentication,
    Binding,
    CardFace,
    CardFaceEvidence,
    CardFaceItemsChecked,
    CardReport,
    CardStatus,
    Evidence,
    Route,
    Status,
)
from bridge.protocol import (
    Authenticate,
    CardFaceItems,
    Challenge,
    CheckCardFaceItems,
    ReadCardFace,
    RelayApdu,
    Reserve,
)
from bridge.readers import CancelToken, GuardedConnection, ReaderBackend
from bridge.reasons import BridgeFailure, BridgeReason
from mynacard.challenge import challenge_digest, sha256_digest_info
from mynacard.errors import (
    ApduError,
    ApplicationNotFoundError,
    BadResponseError,
    CardError,
    FileNotFoundOnCardError,
    InvalidPinFormatError,
    NotMyNumberCardError,
    PinBlockedError,
    SecurityStatusError,
    WrongPinError,
)
from mynacard.jpki import CertificateKind, JpkiSession, KeyKind
from mynacard.juki import JukiSession
from mynacard.pins import PinKind, PinStatus
from mynacard.records import parse_card_face
from mynacard.targets import TargetPassword, key_for, purpose_for
from mynacard.textap import TextApSession
from mynacard.visual import VisualApSession

logger = logging.getLogger(__name__)

#: Sends one STATUS message (thread-safe; provided by the session).
Emit = Callable[[Status], None]
#: STATUS during the long card-face read: one message per this many APDUs.
APDU_PROGRESS_EVERY = 4


@dataclass(frozen=True)
class WorkflowContext:
    """What a workflow needs besides its command: where the card is and how to report."""

    backend: ReaderBackend
    reader: str
    origin: str  # the handshake's Origin header, never one the page claims
    cancel: CancelToken
    emit: Emit
    workflow: str


class _Progress:
    """Turns steps and APDU counts into STATUS messages (style.md: STATUS {workflow, progress})."""

    def __init__(self, context: WorkflowContext, steps: tuple[str, ...]) -> None:
        self._context = context
        self._steps = steps
        self._current = ""
        self._apdus_at_step = 0
        self._apdus = 0

    def step(self, name: str) -> None:
        self._context.cancel.raise_if_cancelled()
        self._current = name
        self._apdus_at_step = self._apdus
        self._emit()

    def on_apdu(self, count: int) -> None:
        self._apdus = count
        in_step = count - self._apdus_at_step
        if self._current == "reading_card_face" and in_step and in_step % APDU_PROGRESS_EVERY == 0:
            self._emit(apdus=in_step)

    def _emit(self, **extra: int) -> None:
        index = self._steps.index(self._current)
        self._context.emit(
            Status(
                workflow=self._context.workflow,
                step=self._current,
                progress=round(100 * index / len(self._steps)),
                **extra,
            )
        )


@contextlib.contextmanager
def _card_errors() -> Iterator[None]:
    """Translate what the sessions raise into stable reasons (only here, once)."""
    try:
        yield
    except ApplicationNotFoundError as exc:
        raise BridgeFailure(BridgeReason.NOT_MY_NUMBER_CARD, "application not found") from exc
    except NotMyNumberCardError as exc:
        # The label is a constant of the card type (e.g. JPKIAPICCTOKEN on an old 住基カード,
        # spec §4.2), not personal data: it tells support which card was placed.
        raise BridgeFailure(
            BridgeReason.NOT_MY_NUMBER_CARD, "JPKI token label", token_label=exc.label
        ) from exc
    except InvalidPinFormatError as exc:  # validated earlier; kept as a last line of defence
        raise BridgeFailure(BridgeReason.MALFORMED_PIN, "malformed PIN") from exc
    except PinBlockedError as exc:
        raise BridgeFailure(BridgeReason.PIN_BLOCKED, "PIN blocked") from exc
    except SecurityStatusError as exc:
        raise BridgeFailure(BridgeReason.INTERNAL_ERROR, "card refused: security status") from exc
    except (BadResponseError, FileNotFoundOnCardError) as exc:
        raise BridgeFailure(BridgeReason.CARD_COMMUNICATION_ERROR, type(exc).__name__) from exc
    except ApduError as exc:
        raise BridgeFailure(
            BridgeReason.CARD_COMMUNICATION_ERROR, f"SW={exc.sw:04X}", sw=f"{exc.sw:04X}"
        ) from exc
    except CardError as exc:
        raise BridgeFailure(BridgeReason.CARD_COMMUNICATION_ERROR, type(exc).__name__) from exc


@contextlib.contextmanager
def _open(
    context: WorkflowContext, progress: _Progress, *, exclusive_required: bool
) -> Iterator[GuardedConnection]:
    progress.step("connecting")
    link = context.backend.open(
        context.reader, exclusive_required=exclusive_required, cancel=context.cancel
    )
    connection = GuardedConnection(link, context.cancel, on_apdu=progress.on_apdu)
    try:
        with _card_errors():
            yield connection
    finally:
        connection.close()


def _my_number_card(connection: GuardedConnection) -> JpkiSession:
    """Select the JPKI AP and check its token label before anything else touches the card.

    The card is recognised by the label ``JPKIAPICCTOKEN2`` (spec §4.2, §12), never by its ATR
    (§1): an old 住基カード has the JPKI AP too, with ``JPKIAPICCTOKEN``. Checked first in every
    workflow, so another card gets NOT_MY_NUMBER_CARD and never sees a VERIFY.
    """
    try:
        jpki = JpkiSession(connection)
    except ApplicationNotFoundError as exc:  # every "no such application" SW (mynacard.session)
        raise BridgeFailure(
            BridgeReason.NOT_MY_NUMBER_CARD, f"JPKI SELECT: SW={exc.sw:04X}", sw=f"{exc.sw:04X}"
        ) from exc
    try:
        jpki.check_token()
    except FileNotFoundOnCardError as exc:  # a JPKI AP without the token EF: not ours either
        raise BridgeFailure(BridgeReason.NOT_MY_NUMBER_CARD, "no JPKI token EF") from exc
    return jpki


def _check_last_try(status: PinStatus, *, confirm_last_try: bool) -> None:
    """The last-try guard (issue 4; peers.md "warn at the last try"): a blocked key is never
    sent a VERIFY, and a VERIFY that could lock the key (one try left) needs ``confirm_last_try``.
    """
    pin = status.kind.value
    if status.blocked or status.tries_left == 0:
        raise BridgeFailure(BridgeReason.PIN_BLOCKED, "PIN blocked", pin=pin, tries_left=0)
    if status.tries_left == 1 and not confirm_last_try:
        raise BridgeFailure(
            BridgeReason.LAST_TRY_CONFIRMATION_REQUIRED,
            "one try left; confirm_last_try is required",
            pin=pin,
            tries_left=1,
        )


def _guarded_verify(
    status: PinStatus, *, confirm_last_try: bool, verify: Callable[[], None]
) -> None:
    """The last-try guard, then exactly one VERIFY; a wrong value is reported, never retried."""
    _check_last_try(status, confirm_last_try=confirm_last_try)
    pin = status.kind.value
    try:
        verify()
    except WrongPinError as exc:
        if exc.tries_left == 0:
            # That was the last try: the key is now locked (spec §4.4, 63C0).
            raise BridgeFailure(
                BridgeReason.PIN_BLOCKED, "PIN just blocked",
                pin=pin, tries_left=0, just_blocked=True,
            ) from exc
        raise BridgeFailure(
            BridgeReason.WRONG_PIN, "wrong PIN", pin=pin, tries_left=exc.tries_left
        ) from exc
    except PinBlockedError as exc:
        raise BridgeFailure(BridgeReason.PIN_BLOCKED, "PIN blocked", pin=pin, tries_left=0) from exc


def _digest_info(context: WorkflowContext, challenge: Challenge) -> bytes:
    try:
        digest = challenge_digest(challenge.purpose, context.origin, challenge.nonce)
    except ValueError as exc:  # the origin was normalised at startup; a nonce was checked
        raise BridgeFailure(BridgeReason.BAD_ARGUMENT, "challenge not accepted") from exc
    return sha256_digest_info(digest)


def _binding(context: WorkflowContext, challenge: Challenge) -> Binding:
    """Every result names what it was made for (Web eID: results bound to nonce and origin)."""
    return Binding(origin=context.origin, purpose=challenge.purpose, nonce=challenge.nonce)


# --- card status ---------------------------------------------------------------------------


def _optional_status(read: Callable[[], PinStatus]) -> PinStatus | None:
    """A counter of an AP that some cards may lack: None instead of failing the whole status."""
    try:
        return read()
    except ApplicationNotFoundError:
        return None


def _routes(
    pins: dict[PinKind, PinStatus | None],
    certificates: dict[KeyKind, bool],
    auth_expired: bool | None,
) -> dict[str, Route]:
    """Which reservation this card allows, and what stands in the way (peers.md, ideas)."""

    def usable(kind: PinKind) -> bool:
        status = pins.get(kind)
        return status is not None and not status.blocked

    routes: dict[str, Route] = {}
    for target in TargetPassword:
        key = key_for(target)  # the other password's key proves the holder
        obstacles = []
        if not certificates.get(key, False):
            obstacles.append(f"{key.key_name}_certificate_missing")
        if key is KeyKind.AUTH and auth_expired:
            obstacles.append("auth_certificate_expired")
        if not usable(key.pin_kind):
            obstacles.append(f"{key.pin_kind.value}_blocked")
        if not usable(PinKind.VISUAL_PIN_B):
            obstacles.append(f"{PinKind.VISUAL_PIN_B.value}_blocked")
        routes[purpose_for(target)] = Route(obstacles=tuple(obstacles))
    return routes


def card_status(context: WorkflowContext) -> CardStatus:
    """All retry counters, certificate availability and the auth certificate's validity.

    Read-only and spends no try (empty VERIFY, spec §4.4), so it may use a shared connection.
    """
    progress = _Progress(context, ("connecting", "reading_jpki", "reading_other_aps"))
    with _open(context, progress, exclusive_required=False) as connection:
        progress.step("reading_jpki")
        jpki = _my_number_card(connection)
        pins: dict[PinKind, PinStatus | None] = {
            key.pin_kind: jpki.pin_status(key.pin_kind) for key in KeyKind
        }
        availability = jpki.certificate_availability()
        certificates = {KeyKind.AUTH: availability.auth, KeyKind.SIGN: availability.sign}
        auth_certificate: AuthCertificate | None = None
        expired: bool | None = None
        if availability.auth:
            der = jpki.read_certificate(CertificateKind.AUTH)
            try:
                cert = x509.load_der_x509_certificate(der)
            except ValueError as exc:
                raise BridgeFailure(
                    BridgeReason.CARD_COMMUNICATION_ERROR, "auth certificate unreadable"
                ) from exc
            expired = datetime.now(UTC) > cert.not_valid_after_utc
            auth_certificate = AuthCertificate(
                not_before=cert.not_valid_before_utc.isoformat(),
                not_after=cert.not_valid_after_utc.isoformat(),
                expired=expired,
            )
        progress.step("reading_other_aps")
        pins[PinKind.VISUAL_PIN_B] = VisualApSession(connection).pin_b_status()
        pins[PinKind.TEXT_PIN] = _optional_status(lambda: TextApSession(connection).pin_status())
        pins[PinKind.JUKI_PIN] = _optional_status(lambda: JukiSession(connection).pin_status())
    return CardStatus(
        reader=context.reader,
        card=CardReport(
            pins=pins,
            certificates=certificates,
            auth_certificate=auth_certificate,
            routes=_routes(pins, certificates, expired),
        ),
    )


# --- card face and authentication --------------------------------------------------------


def _card_face_part(
    connection: GuardedConnection,
    progress: _Progress,
    items: CardFaceItems,
    digest_info: bytes,
    *,
    status: PinStatus,
    confirm_last_try: bool,
) -> CardFaceEvidence:
    progress.step("verifying_card_face_items")
    visual = VisualApSession(connection)
    _guarded_verify(
        status, confirm_last_try=confirm_last_try, verify=lambda: visual.verify_pin_b(items.pin_b)
    )
    progress.step("reading_card_face")
    raw = visual.read_card_face_raw()
    photo = parse_card_face(raw).photo_jp2
    progress.step("reading_cv_certificate")
    cv_certificate = visual.read_cv_certificate()
    progress.step("signing_with_card_key")
    card_key_signature = visual.sign(digest_info)
    return CardFaceEvidence(
        card_face=raw,
        cv_certificate=cv_certificate,
        card_key_signature=card_key_signature,
        photo=photo,
        photo_sha256=hashlib.sha256(photo).hexdigest(),
    )


def _jpki_part(
    connection: GuardedConnection,
    progress: _Progress,
    key: KeyKind,
    pin: str,
    digest_info: bytes,
    *,
    status: PinStatus,
    confirm_last_try: bool,
) -> tuple[bytes, bytes]:
    progress.step("verifying_pin")
    jpki = JpkiSession(connection)
    _guarded_verify(
        status, confirm_last_try=confirm_last_try, verify=lambda: jpki.verify(key.pin_kind, pin)
    )
    progress.step("reading_certificate")
    certificate = jpki.read_certificate(key.certificate)
    progress.step("signing")
    signature = jpki.sign(key, digest_info)
    return certificate, signature


def _auth_certificate(connection: GuardedConnection, key: KeyKind, signer: bytes) -> bytes:
    """The user-auth certificate (EF 000A, no PIN needed, spec §4.1): the card's one identity
    on the server, whichever key signed (docs/evidence.md)."""
    if key is KeyKind.AUTH:
        return signer
    return JpkiSession(connection).read_certificate(CertificateKind.AUTH)


def _jpki_precheck(connection: GuardedConnection, key: KeyKind) -> PinStatus:
    """Certificate present and counter read (no try spent) before anything is verified."""
    jpki = _my_number_card(connection)
    availability = jpki.certificate_availability()
    if not (availability.auth if key is KeyKind.AUTH else availability.sign):
        raise BridgeFailure(
            BridgeReason.CERTIFICATE_UNAVAILABLE, f"no {key.key_name} certificate",
            key=key.key_name,
        )
    return jpki.pin_status(key.pin_kind)


def check_card_face_items(
    context: WorkflowContext, command: CheckCardFaceItems
) -> CardFaceItemsChecked:
    """照合番号B alone, as soon as the card is placed: a wrong card-face item is reported before
    the resident types a password (issue 14). The counter first (no try), the last-try guard,
    one VERIFY; nothing is read and nothing signed. The link is closed with a card reset
    (``exclusive_required``), so the verified state does not outlive the command.
    """
    progress = _Progress(
        context, ("connecting", "checking_counters", "verifying_card_face_items")
    )
    with _open(context, progress, exclusive_required=True) as connection:
        progress.step("checking_counters")
        _my_number_card(connection)
        visual = VisualApSession(connection)
        status = visual.pin_b_status()
        progress.step("verifying_card_face_items")
        _guarded_verify(
            status,
            confirm_last_try=command.confirm_last_try,
            verify=lambda: visual.verify_pin_b(command.items.pin_b),
        )
    return CardFaceItemsChecked(pin=status.kind, max_tries=status.max_tries)


def read_card_face(context: WorkflowContext, command: ReadCardFace) -> CardFace:
    """照合番号B → the signed card face, the CV certificate, the card key's signature, the photo."""
    digest_info = _digest_info(context, command.challenge)
    progress = _Progress(
        context,
        ("connecting", "checking_counters", "verifying_card_face_items", "reading_card_face",
         "reading_cv_certificate", "signing_with_card_key"),
    )
    with _open(context, progress, exclusive_required=True) as connection:
        progress.step("checking_counters")
        _my_number_card(connection)
        status = VisualApSession(connection).pin_b_status()
        part = _card_face_part(
            connection, progress, command.items, digest_info,
            status=status, confirm_last_try=command.confirm_last_try,
        )
    return CardFace(binding=_binding(context, command.challenge), evidence=part)


def authenticate(context: WorkflowContext, command: Authenticate) -> Authentication:
    """One JPKI key: VERIFY its PIN, read its certificate, sign the challenge digest."""
    digest_info = _digest_info(context, command.challenge)
    progress = _Progress(
        context, ("connecting", "checking_counters", "verifying_pin", "reading_certificate",
                  "signing"),
    )
    with _open(context, progress, exclusive_required=True) as connection:
        progress.step("checking_counters")
        status = _jpki_precheck(connection, command.key)
        certificate, signature = _jpki_part(
            connection, progress, command.key, command.pin, digest_info,
            status=status, confirm_last_try=command.confirm_last_try,
        )
        auth_certificate = _auth_certificate(connection, command.key, certificate)
    return Authentication(
        binding=_binding(context, command.challenge),
        key=command.key.key_name,
        certificate=certificate,
        signature=signature,
        auth_certificate=auth_certificate,
    )


def reserve(context: WorkflowContext, command: Reserve) -> Evidence:
    """READ_CARD_FACE + AUTHENTICATE on one connection: everything POST /reset/evidence/ needs.

    Both counters are read (and both last-try guards applied) before either VERIFY, so a
    blocked JPKI key is reported before a 照合番号B try is spent, and the other way round. The
    card face goes first: a mistyped card-face item (10 tries) is cheaper than a JPKI try.
    """
    digest_info = _digest_info(context, command.challenge)
    progress = _Progress(
        context,
        ("connecting", "checking_counters", "verifying_card_face_items", "reading_card_face",
         "reading_cv_certificate", "signing_with_card_key", "verifying_pin",
         "reading_certificate", "signing"),
    )
    with _open(context, progress, exclusive_required=True) as connection:
        progress.step("checking_counters")
        jpki_status = _jpki_precheck(connection, command.key)
        pin_b_status = VisualApSession(connection).pin_b_status()
        for status in (jpki_status, pin_b_status):
            _check_last_try(status, confirm_last_try=command.confirm_last_try)
        face = _card_face_part(
            connection, progress, command.items, digest_info,
            status=pin_b_status, confirm_last_try=command.confirm_last_try,
        )
        certificate, signature = _jpki_part(
            connection, progress, command.key, command.pin, digest_info,
            status=jpki_status, confirm_last_try=command.confirm_last_try,
        )
        auth_certificate = _auth_certificate(connection, command.key, certificate)
    return Evidence(
        binding=_binding(context, command.challenge),
        jpki_key=command.key.key_name,
        jpki_certificate=certificate,
        jpki_signature=signature,
        card_face=face,
        auth_certificate=auth_certificate,
    )


def auth_certificate(context: WorkflowContext) -> AuthCertificateReply:
    """Kiosk mode: the user-auth certificate, read without any PIN (spec §4.1, §4.5)."""
    progress = _Progress(context, ("connecting", "reading_certificate"))
    with _open(context, progress, exclusive_required=False) as connection:
        jpki = _my_number_card(connection)
        progress.step("reading_certificate")
        return AuthCertificateReply(certificate=jpki.read_certificate(CertificateKind.AUTH))


def relay_apdu(context: WorkflowContext, command: RelayApdu) -> ApduResponse:
    """Kiosk mode: one issuer-channel APDU to the card, its answer back, both opaque here.

    The link is left without a card reset (SCARD_LEAVE_CARD): the issuer session lives in the
    card between the relayed commands and ends when the card is reset or removed
    (docs/issuer-channel.md). protocol.RelayApdu admits only the issuer instructions.
    """
    progress = _Progress(context, ("connecting", "relaying"))
    with _open(context, progress, exclusive_required=False) as connection:
        progress.step("relaying")
        response, sw = connection.send_and_receive(command.apdu)
    logger.info("relayed an issuer-channel APDU (INS %02X) -> %04X", command.apdu[1], sw)
    return ApduResponse(response=response, sw=sw)
