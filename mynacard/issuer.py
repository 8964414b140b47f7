"""The issuer channel: OUR stand-in for the issuer-privileged reset (docs/issuer-channel.md).

The real kiosk reset is an issuer operation whose commands are not published (spec §10, §13.13).
This module defines the simulator's own protocol, built only from standard primitives of the
``cryptography`` package (HKDF-SHA256, AES-CMAC, AES-CTR), so that the server ↔ card path can be
exercised end to end through an untrusted relay:

1. per-card keys: ``K_card = HKDF-SHA256(master, salt=KDF_SALT, info="card" ‖ identity)``, where
   identity is the 32-byte card identity (SHA-256 of the user-auth certificate's issuer and
   serial, mynacard.evidence.card_identity) — the same value the server looks reservations up by;
2. mutual authentication: the server sends a 16-byte challenge (ISSUER INITIALIZE), the card
   answers its own 16-byte challenge and a card cryptogram; the server checks it and answers a
   host cryptogram (ISSUER AUTHENTICATE). Session keys come from both challenges;
3. every later command carries a 4-byte counter (strictly increasing: replay → refused), the new
   password encrypted with the session encryption key, and an AES-CMAC over header ‖ counter ‖
   ciphertext; the card's answer carries a response MAC, so a relay cannot fake success.

Pure Python: imports no Django, pyscard or websockets. Both sides live here so they cannot
drift: :class:`IssuerChannel` is the server's state machine, :class:`CardIssuerState` the card's.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum, unique

from cryptography.hazmat.primitives import cmac, hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from mynacard.constants import CLA_PROPRIETARY, SW, JpkiEF, JukiEF, TextEF
from mynacard.errors import InvalidPinFormatError
from mynacard.pins import PinKind, normalize_pin
from mynacard.targets import TargetPassword

logger = logging.getLogger(__name__)

__all__ = [
    "AID_SELECT_JPKI",
    "CHALLENGE_LENGTH",
    "ISSUER_INS",
    "IssuerChannel",
    "IssuerChannelError",
    "IssuerResult",
    "IssuerSW",
    "KEY_REFERENCE",
    "CardIssuerState",
    "CardKeys",
    "CounterCredential",
    "CREDENTIAL_REFERENCE",
    "SessionKeys",
    "derive_card_keys",
    "derive_session_keys",
    "is_issuer_apdu",
]

#: Domain separation of every derivation (bump the version to change the protocol).
KDF_SALT = b"myna-reset/issuer-channel/v1"
MASTER_KEY_LENGTH = 32
CHALLENGE_LENGTH = 16
CRYPTOGRAM_LENGTH = 16
MAC_LENGTH = 8
COUNTER_LENGTH = 4
#: New passwords are padded (ISO/IEC 7816-4 §5.6.3.3: 80 then 00s) to one AES block.
PASSWORD_BLOCK = 16


@unique
class ISSUER_INS(IntEnum):  # noqa: N801 - named like mynacard.constants.INS
    """Instructions of the issuer channel (CLA 80, proprietary; not the card's real ones)."""

    INITIALIZE = 0x50
    AUTHENTICATE = 0x52
    RESET_PASSWORD = 0x54
    UNBLOCK = 0x56  # counter only: restores the retry counter, keeps the value (issue 12)


@unique
class IssuerSW(IntEnum):
    """Status words of the issuer channel (ISO 7816-4 §5.1.3 meanings; the choice is ours)."""

    OK = 0x9000
    WRONG_LENGTH = 0x6700
    WRONG_CRYPTOGRAM = 0x6982  # security status not satisfied: host cryptogram / wrong key
    NO_SESSION = 0x6985  # conditions of use not satisfied: no authenticated session
    REPLAYED_COUNTER = 0x6987  # expected SM data objects missing: no fresh counter
    WRONG_MAC = 0x6988  # incorrect secure messaging data objects
    BAD_PASSWORD = 0x6A80  # incorrect data: the decrypted password breaks the key's format
    UNKNOWN_KEY = 0x6A88  # referenced data not found: P2 names no resettable password


#: P2 of RESET PASSWORD: the PIN EF of the password type the server names (spec §4.1).
KEY_REFERENCE: dict[TargetPassword, int] = {
    TargetPassword.SIGN: int(JpkiEF.SIGN_PIN),  # 001B 署名用パスワード
    TargetPassword.AUTH: int(JpkiEF.AUTH_PIN),  # 0018 利用者証明用パスワード
}
PIN_KIND_FOR_TARGET: dict[TargetPassword, PinKind] = {
    TargetPassword.SIGN: PinKind.JPKI_SIGN,
    TargetPassword.AUTH: PinKind.JPKI_AUTH,
}


@unique
class CounterCredential(StrEnum):
    """Every credential the issuer may reset: the kiosk's two, and at a municipal counter also
    the two 4-digit PINs only a counter resets (issue 12). "sign"/"auth" equal TargetPassword's
    values, so a kiosk target converts with ``CounterCredential(target.value)``."""

    SIGN = "sign"  # 署名用パスワード, JPKI EF 001B (5 tries)
    AUTH = "auth"  # 利用者証明用パスワード, JPKI EF 0018 (3 tries)
    TEXT = "text"  # 券面事項入力補助用暗証番号, 入力補助AP EF 0011 (spec §5.1)
    JUKI = "juki"  # 住民基本台帳用暗証番号, 住基AP EF 001C (spec §7)


#: P1 (application: 00 JPKI AP, 01 入力補助AP, 02 住基AP — our numbering) and P2 (the PIN EF)
#: of RESET PASSWORD and UNBLOCK. The session itself stays bound to the JPKI AP.
CREDENTIAL_REFERENCE: dict[CounterCredential, tuple[int, int]] = {
    CounterCredential.SIGN: (0x00, int(JpkiEF.SIGN_PIN)),
    CounterCredential.AUTH: (0x00, int(JpkiEF.AUTH_PIN)),
    CounterCredential.TEXT: (0x01, int(TextEF.PIN)),
    CounterCredential.JUKI: (0x02, int(JukiEF.PIN)),
}
PIN_KIND_FOR_CREDENTIAL: dict[CounterCredential, PinKind] = {
    CounterCredential.SIGN: PinKind.JPKI_SIGN,
    CounterCredential.AUTH: PinKind.JPKI_AUTH,
    CounterCredential.TEXT: PinKind.TEXT_PIN,
    CounterCredential.JUKI: PinKind.JUKI_PIN,
}
_CREDENTIAL_AT = {ref: credential for credential, ref in CREDENTIAL_REFERENCE.items()}
#: The one SELECT the relay forwards besides the issuer instructions (JPKI AP, spec §2.1).
AID_SELECT_JPKI = bytes.fromhex("00A4040C0AD392F000260100000001")


class IssuerChannelError(Exception):
    """The card refused, or its answer did not authenticate; ``reason`` is a stable code."""

    def __init__(self, reason: str, sw: int | None = None) -> None:
        super().__init__(reason if sw is None else f"{reason} (SW {sw:04X})")
        self.reason = reason
        self.sw = sw


# --- keys ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardKeys:
    """The static per-card keys (AES-128 each). Never logged."""

    enc: bytes = field(repr=False)
    mac: bytes = field(repr=False)


@dataclass(frozen=True)
class SessionKeys:
    """Keys of one authenticated session, from both challenges. Never logged."""

    enc: bytes = field(repr=False)
    mac: bytes = field(repr=False)


def _hkdf(key: bytes, *, salt: bytes, info: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(key)


def derive_card_keys(master_key: bytes, card_identity: str) -> CardKeys:
    """``K_card`` of one card from the issuer master key and the card identity (64 hex)."""
    if len(master_key) != MASTER_KEY_LENGTH:
        raise ValueError("the issuer master key must be 32 bytes")
    identity = bytes.fromhex(card_identity)
    if len(identity) != 32:
        raise ValueError("a card identity is 32 bytes (64 hex digits)")
    okm = _hkdf(master_key, salt=KDF_SALT, info=b"card" + identity)
    return CardKeys(enc=okm[:16], mac=okm[16:])


def derive_session_keys(
    card: CardKeys, server_challenge: bytes, card_challenge: bytes
) -> SessionKeys:
    """Fresh keys per session: HKDF over both static keys, salted with both challenges."""
    okm = _hkdf(card.enc + card.mac, salt=server_challenge + card_challenge, info=b"session")
    return SessionKeys(enc=okm[:16], mac=okm[16:])


def _cmac(key: bytes, data: bytes) -> bytes:
    mac = cmac.CMAC(algorithms.AES(key))
    mac.update(data)
    return mac.finalize()


def card_cryptogram(keys: SessionKeys, server_challenge: bytes, card_challenge: bytes) -> bytes:
    return _cmac(keys.mac, b"card" + server_challenge + card_challenge)[:CRYPTOGRAM_LENGTH]


def host_cryptogram(keys: SessionKeys, server_challenge: bytes, card_challenge: bytes) -> bytes:
    return _cmac(keys.mac, b"host" + card_challenge + server_challenge)[:CRYPTOGRAM_LENGTH]


def _ctr(key: bytes, counter: int, data: bytes) -> bytes:
    # The counter never repeats under one session key, so neither does the CTR nonce.
    nonce = counter.to_bytes(COUNTER_LENGTH, "big") + bytes(12)
    cipher = Cipher(algorithms.AES(key), modes.CTR(nonce)).encryptor()
    return cipher.update(data) + cipher.finalize()


def _pad(value: bytes) -> bytes:
    if len(value) >= PASSWORD_BLOCK:
        raise ValueError("password too long for one block")
    return value + b"\x80" + bytes(PASSWORD_BLOCK - len(value) - 1)


def _unpad(block: bytes) -> bytes | None:
    stripped = block.rstrip(b"\x00")
    if not stripped.endswith(b"\x80"):
        return None
    return stripped[:-1]


def command_mac(keys: SessionKeys, header: bytes, counter: int, body: bytes) -> bytes:
    return _cmac(keys.mac, b"cmd" + header + counter.to_bytes(COUNTER_LENGTH, "big") + body)[
        :MAC_LENGTH
    ]


def response_mac(keys: SessionKeys, counter: int, sw: int) -> bytes:
    return _cmac(
        keys.mac, b"rsp" + counter.to_bytes(COUNTER_LENGTH, "big") + sw.to_bytes(2, "big")
    )[:MAC_LENGTH]


def _apdu(ins: int, p1: int, p2: int, data: bytes, *, le: bool) -> bytes:
    if not 0 < len(data) < 256:
        raise ValueError("issuer commands are short APDUs")
    return bytes([CLA_PROPRIETARY, ins, p1, p2, len(data)]) + data + (b"\x00" if le else b"")


def is_issuer_apdu(apdu: bytes) -> bool:
    """Whether the relay may forward ``apdu``: an issuer instruction, or the JPKI SELECT."""
    if apdu == AID_SELECT_JPKI:
        return True
    return (
        len(apdu) >= 5
        and apdu[0] == CLA_PROPRIETARY
        and apdu[1] in {int(ins) for ins in ISSUER_INS}
    )


# --- server side --------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuerResult:
    """The card's authenticated answer to RESET PASSWORD or UNBLOCK."""

    credential: CounterCredential
    counter: int
    #: False for UNBLOCK: the counter is full again and the value unchanged.
    new_value: bool = True


class IssuerChannel:
    """The server's side of one reset: yields APDUs, checks each answer, never trusts a relay.

    Steps: :meth:`select` → :meth:`initialize` → :meth:`authenticate` (checks the card
    cryptogram) → :meth:`reset_password` → :meth:`check_reset` (checks the response MAC).
    """

    def __init__(
        self,
        card_keys: CardKeys,
        *,
        random: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self._card_keys = card_keys
        self._random = random
        self._server_challenge = b""
        self._session: SessionKeys | None = None
        self._counter = 0
        self._pending: tuple[CounterCredential, int, bool] | None = None

    def __repr__(self) -> str:
        return f"IssuerChannel(authenticated={self._session is not None})"

    @staticmethod
    def select() -> bytes:
        return AID_SELECT_JPKI

    def initialize(self) -> bytes:
        self._server_challenge = self._random(CHALLENGE_LENGTH)
        self._session = None
        return _apdu(ISSUER_INS.INITIALIZE, 0, 0, self._server_challenge, le=True)

    def authenticate(self, response: bytes, sw: int) -> bytes:
        """Check the card's cryptogram (wrong key → ``wrong_card_key``); answer the host's."""
        if sw != SW.OK:
            raise IssuerChannelError("card_refused", sw)
        if len(response) != CHALLENGE_LENGTH + CRYPTOGRAM_LENGTH or not self._server_challenge:
            raise IssuerChannelError("malformed_response")
        card_challenge, cryptogram = response[:CHALLENGE_LENGTH], response[CHALLENGE_LENGTH:]
        keys = derive_session_keys(self._card_keys, self._server_challenge, card_challenge)
        expected = card_cryptogram(keys, self._server_challenge, card_challenge)
        if not hmac.compare_digest(cryptogram, expected):
            # Not the card whose identity was presented, or not personalised by this issuer.
            raise IssuerChannelError("wrong_card_key")
        self._session = keys
        self._counter = 0
        host = host_cryptogram(keys, self._server_challenge, card_challenge)
        return _apdu(ISSUER_INS.AUTHENTICATE, 0, 0, host, le=False)

    def check_authenticated(self, sw: int) -> None:
        if sw != SW.OK:
            self._session = None
            raise IssuerChannelError("card_refused", sw)

    def reset_password(
        self, target: TargetPassword | CounterCredential, new_password: str
    ) -> bytes:
        """RESET PASSWORD: counter ‖ AES-CTR(new password) ‖ CMAC; the format is checked first."""
        if self._session is None:
            raise IssuerChannelError("not_authenticated")
        credential = CounterCredential(target.value)
        try:
            value = normalize_pin(PIN_KIND_FOR_CREDENTIAL[credential], new_password)
        except InvalidPinFormatError:
            raise IssuerChannelError("malformed_password") from None
        counter = self._next_counter(credential, new_value=True)
        ciphertext = _ctr(self._session.enc, counter, _pad(value.encode("ascii")))
        return self._command(ISSUER_INS.RESET_PASSWORD, credential, counter, ciphertext)

    def unblock(self, credential: CounterCredential) -> bytes:
        """UNBLOCK: counter ‖ CMAC; the card restores the key's retry counter, keeps its value."""
        if self._session is None:
            raise IssuerChannelError("not_authenticated")
        counter = self._next_counter(credential, new_value=False)
        return self._command(ISSUER_INS.UNBLOCK, credential, counter, b"")

    def _next_counter(self, credential: CounterCredential, *, new_value: bool) -> int:
        self._counter += 1
        self._pending = (credential, self._counter, new_value)
        return self._counter

    def _command(
        self, ins: ISSUER_INS, credential: CounterCredential, counter: int, body: bytes
    ) -> bytes:
        assert self._session is not None  # noqa: S101 - callers checked
        p1, p2 = CREDENTIAL_REFERENCE[credential]
        header = bytes([CLA_PROPRIETARY, ins, p1, p2])
        mac = command_mac(self._session, header, counter, body)
        data = counter.to_bytes(COUNTER_LENGTH, "big") + body + mac
        return _apdu(ins, p1, p2, data, le=True)

    def check_reset(self, response: bytes, sw: int) -> IssuerResult:
        """The card's answer: only a 9000 with a valid response MAC counts as done."""
        if self._session is None or self._pending is None:
            raise IssuerChannelError("not_authenticated")
        credential, counter, new_value = self._pending
        self._pending = None
        if sw != SW.OK:
            raise IssuerChannelError("card_refused", sw)
        if len(response) != MAC_LENGTH or not hmac.compare_digest(
            response, response_mac(self._session, counter, sw)
        ):
            raise IssuerChannelError("unauthenticated_answer")
        logger.info(
            "issuer channel: the card confirmed the %s of %s",
            "reset" if new_value else "unblock",
            credential.value,
        )
        return IssuerResult(credential=credential, counter=counter, new_value=new_value)


# --- card side ----------------------------------------------------------------------------


@dataclass
class CardIssuerState:
    """The card's volatile issuer-channel state (cleared on reset / removal, like VERIFY state)."""

    server_challenge: bytes = b""
    card_challenge: bytes = b""
    session: SessionKeys | None = None
    authenticated: bool = False
    last_counter: int = 0

    def clear(self) -> None:
        self.server_challenge = b""
        self.card_challenge = b""
        self.session = None
        self.authenticated = False
        self.last_counter = 0


@dataclass(frozen=True)
class ResetOrder:
    """A RESET PASSWORD or UNBLOCK the card authenticated: which key (P1 application, P2 EF), the
    new value (None for UNBLOCK; never logged)."""

    key_fid: int
    value: bytes | None = field(repr=False)
    counter: int
    application: int = 0


def card_initialize(
    state: CardIssuerState, keys: CardKeys, data: bytes, *, random: Callable[[int], bytes]
) -> tuple[bytes, int]:
    """The card's ISSUER INITIALIZE: its challenge and cryptogram; any earlier session ends."""
    state.clear()
    if len(data) != CHALLENGE_LENGTH:
        return b"", IssuerSW.WRONG_LENGTH
    state.server_challenge = bytes(data)
    state.card_challenge = random(CHALLENGE_LENGTH)
    state.session = derive_session_keys(keys, state.server_challenge, state.card_challenge)
    cryptogram = card_cryptogram(state.session, state.server_challenge, state.card_challenge)
    return state.card_challenge + cryptogram, IssuerSW.OK


def card_authenticate(state: CardIssuerState, data: bytes) -> int:
    """The card's ISSUER AUTHENTICATE: the host cryptogram proves the issuer's key."""
    if state.session is None:
        return IssuerSW.NO_SESSION
    expected = host_cryptogram(state.session, state.server_challenge, state.card_challenge)
    if len(data) != CRYPTOGRAM_LENGTH or not hmac.compare_digest(bytes(data), expected):
        state.clear()  # a failed authentication ends the session (no second guess)
        return IssuerSW.WRONG_CRYPTOGRAM
    state.authenticated = True
    state.last_counter = 0
    return IssuerSW.OK


def _check_order(
    state: CardIssuerState, ins: ISSUER_INS, p1: int, p2: int, data: bytes, body_length: int
) -> tuple[tuple[int, bytes] | None, int]:
    """Session, length, MAC, counter and key reference of one order: (counter, body) or an SW."""
    if not state.authenticated or state.session is None:
        return None, IssuerSW.NO_SESSION
    if len(data) != COUNTER_LENGTH + body_length + MAC_LENGTH:
        return None, IssuerSW.WRONG_LENGTH
    counter = int.from_bytes(data[:COUNTER_LENGTH], "big")
    body = data[COUNTER_LENGTH : COUNTER_LENGTH + body_length]
    mac = data[COUNTER_LENGTH + body_length :]
    header = bytes([CLA_PROPRIETARY, ins, p1, p2])
    if not hmac.compare_digest(mac, command_mac(state.session, header, counter, body)):
        state.clear()  # tampering ends the session, as secure messaging errors do
        return None, IssuerSW.WRONG_MAC
    if counter <= state.last_counter:
        return None, IssuerSW.REPLAYED_COUNTER
    state.last_counter = counter
    if (p1, p2) not in _CREDENTIAL_AT:
        return None, IssuerSW.UNKNOWN_KEY
    return (counter, body), IssuerSW.OK


def card_reset_password(
    state: CardIssuerState, p2: int, data: bytes, *, p1: int = 0
) -> tuple[ResetOrder | None, int]:
    """Check RESET PASSWORD; the caller applies the order only when one is returned."""
    checked, sw = _check_order(state, ISSUER_INS.RESET_PASSWORD, p1, p2, data, PASSWORD_BLOCK)
    if checked is None:
        return None, sw
    counter, ciphertext = checked
    value = _unpad(_ctr(state.session.enc, counter, ciphertext))  # type: ignore[union-attr]
    try:
        if value is None:
            raise InvalidPinFormatError("padding")
        kind = PIN_KIND_FOR_CREDENTIAL[_CREDENTIAL_AT[(p1, p2)]]
        normalize_pin(kind, value.decode("ascii"))
    except (InvalidPinFormatError, UnicodeDecodeError):
        return None, IssuerSW.BAD_PASSWORD
    return ResetOrder(key_fid=p2, value=value, counter=counter, application=p1), IssuerSW.OK


def card_unblock(
    state: CardIssuerState, p1: int, p2: int, data: bytes
) -> tuple[ResetOrder | None, int]:
    """Check UNBLOCK (RESET RETRY COUNTER semantics, ISO/IEC 7816-4 §11.5.9): no new value."""
    checked, sw = _check_order(state, ISSUER_INS.UNBLOCK, p1, p2, data, 0)
    if checked is None:
        return None, sw
    return ResetOrder(key_fid=p2, value=None, counter=checked[0], application=p1), IssuerSW.OK


def card_response_mac(state: CardIssuerState, counter: int) -> bytes:
    assert state.session is not None  # noqa: S101 - only after an accepted order
    return response_mac(state.session, counter, IssuerSW.OK)
