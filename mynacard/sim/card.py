"""A simulated My Number Card that answers APDUs like the real one (spec §4.4, §8, §11).

The state machine follows spec §11: a current DF and EF, per-key counters (non-volatile: they
survive a reset, as on the card) and verified flags (volatile: cleared on reset and, by default,
when another DF is selected — the real behaviour is unknown, §13.3).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, utils
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from mynacard import issuer
from mynacard.constants import (
    AID,
    CLA_PROPRIETARY,
    INS,
    MAX_SIGN_INPUT,
    SW,
    SW_VERIFY_FAILED_MASK,
    JpkiEF,
)
from mynacard.evidence import card_identity
from mynacard.pins import PinKind
from mynacard.pkcs1 import sha256_digest_info, sign_digest_info
from mynacard.records import CERTIFICATE_HEADER_LENGTH, parse_certificate_length
from mynacard.sim.apps import build_applications
from mynacard.sim.command import Command, MalformedApduError, parse_command
from mynacard.sim.filesystem import Application, BinaryEF, PinKey, SigningKey
from mynacard.sim.pki import card_keys, issuer_master_key, load_pki
from mynacard.sim.profile import CardProfile

logger = logging.getLogger(__name__)

__all__ = ["CONTACT_ATR", "CardPoweredOffError", "SimOptions", "SimulatedCard"]

#: Contact ATR recorded for the card (§1): T=1, IFSC 251, 5 historical bytes, and TCK 00 (the
#: XOR of T0..the last historical byte is 00, so it checks). pcscd accepts it
#: (tests/test_pcsc_sim.py).
CONTACT_ATR = bytes.fromhex("3BC5FF8131FB458073C6010000")


class CardPoweredOffError(RuntimeError):
    """An APDU was sent while the simulated card had no power."""


@dataclass(frozen=True)
class SimOptions:
    """Behaviour the spec leaves open (§11, §13)."""

    #: Clear every verified flag when a different DF is selected (§13.3 unknown; default on).
    clear_verified_on_df_change: bool = True
    #: Status word for a VERIFY value of the wrong length; None = treat it as a wrong PIN (§13.5).
    wrong_length_sw: int | None = None


class _KeyState:
    """Mutable state of one PIN key (a plain class: this is the part that changes)."""

    __slots__ = ("max_tries", "remaining", "value", "verified")

    def __init__(self, key: PinKey) -> None:
        self.value = key.value
        self.max_tries = key.max_tries
        self.remaining = key.tries_left
        self.verified = False

    @property
    def blocked(self) -> bool:
        return self.max_tries is not None and self.remaining == 0

    def __repr__(self) -> str:
        return f"_KeyState(remaining={self.remaining}, verified={self.verified})"


def _sw_bytes(sw: int) -> bytes:
    return sw.to_bytes(2, "big")


def _tries_sw(remaining: int) -> int:
    return SW_VERIFY_FAILED_MASK | min(remaining, 0x0F)


class SimulatedCard:
    """The card: ``transmit(apdu) -> response + SW1 SW2``, plus power and admin actions."""

    def __init__(
        self,
        profile: CardProfile,
        *,
        options: SimOptions | None = None,
        pki_dir: Path | None = None,
        issuer_key: bytes | None = None,
    ) -> None:
        self.profile = profile
        self.options = options or SimOptions()
        pki = load_pki(pki_dir)
        self._apps: tuple[Application, ...] = build_applications(
            profile, pki, card_keys(profile.card_id, pki_dir)
        )
        self._keys: dict[tuple[bytes, int], _KeyState] = {
            (app.aid, fid): _KeyState(pin) for app in self._apps for fid, pin in app.pins.items()
        }
        self._kinds: dict[str, tuple[bytes, int]] = {
            pin.kind: (app.aid, fid)
            for app in self._apps
            for fid, pin in app.pins.items()
            if pin.kind
        }
        #: The card's identity (its user-auth certificate, mynacard.evidence.card_identity) and
        #: its issuer-channel keys, derived from the simulated issuer's master key at
        #: "personalisation" (docs/issuer-channel.md).
        self.identity = card_identity(self._auth_certificate())
        self._issuer_keys = issuer.derive_card_keys(
            issuer_key if issuer_key is not None else issuer_master_key(pki_dir), self.identity
        )
        self._issuer = issuer.CardIssuerState()
        self.powered = True
        # One APDU at a time, as on a real card, even if a bridge calls from several threads.
        self._lock = threading.RLock()
        self._df: Application | None = None
        self._ef: int | None = None
        self._handlers: dict[tuple[int, int], Callable[[Command], tuple[bytes, int]]] = {
            (0x00, INS.SELECT): self._select,
            (0x00, INS.READ_BINARY): self._read_binary,
            (0x00, INS.VERIFY): self._verify,
            (0x00, INS.CHANGE_REFERENCE_DATA): self._change_reference_data,
            (CLA_PROPRIETARY, INS.CHANGE_KEY): self._change_reference_data,  # 住基/共通 (§3)
            (CLA_PROPRIETARY, INS.COMPUTE_DIGITAL_SIGNATURE): self._compute_signature,
            (0x00, INS.GET_CHALLENGE): self._get_challenge,
            (CLA_PROPRIETARY, issuer.ISSUER_INS.INITIALIZE): self._issuer_initialize,
            (CLA_PROPRIETARY, issuer.ISSUER_INS.AUTHENTICATE): self._issuer_authenticate,
            (CLA_PROPRIETARY, issuer.ISSUER_INS.RESET_PASSWORD): self._issuer_reset_password,
            (CLA_PROPRIETARY, issuer.ISSUER_INS.UNBLOCK): self._issuer_unblock,
        }

    def __repr__(self) -> str:
        return f"SimulatedCard({self.profile.card_id!r})"

    # --- power ------------------------------------------------------------------------------

    @property
    def atr(self) -> bytes:
        """The ATR the card answers to power-on and reset."""
        return CONTACT_ATR

    def power_on(self) -> bytes:
        """Apply power: back to the MF state with no credential verified; returns the ATR."""
        with self._lock:
            self.powered = True
            self._df = None
            self._ef = None
            for state in self._keys.values():
                state.verified = False  # security state ends with the session (§4.4)
            self._issuer.clear()  # so does an issuer-channel session
        logger.debug("card %s powered on", self.profile.card_id)
        return CONTACT_ATR

    def power_off(self) -> None:
        """Remove power (or take the card out of the field)."""
        with self._lock:
            self.power_on()  # clears the volatile state
            self.powered = False

    def reset(self) -> bytes:
        """Warm reset: the same as power-on (§4.4 "until the card is reset")."""
        return self.power_on()

    # --- admin (out of band, §10) -----------------------------------------------------------

    def reset_pin(self, kind: PinKind | str, new_value: str) -> None:
        """What the kiosk's issuer operation does (§10): set a new value and a full counter.

        Modelled as an administrative action, not an APDU flow, because the real one is not
        public (§10, §13.13).
        """
        with self._lock:
            state = self._state_for_kind(kind)
            if state.max_tries is None:
                raise ValueError("this key has no retry counter")
            state.value = new_value.encode("ascii")
            state.remaining = state.max_tries
            state.verified = False
        logger.info("admin reset of a %s key", kind)

    def tries_left(self, kind: PinKind | str) -> int:
        """The counter of a key, for tests and the kiosk simulation (no APDU, no try spent)."""
        return self._state_for_kind(kind).remaining

    def _state_for_kind(self, kind: PinKind | str) -> _KeyState:
        name = kind.value if isinstance(kind, PinKind) else kind
        if name not in self._kinds:
            raise KeyError(f"no key of kind {name!r}")
        return self._keys[self._kinds[name]]

    # --- APDU dispatch ----------------------------------------------------------------------

    def transmit(self, apdu: bytes) -> bytes:
        """Process one command APDU; return response data followed by SW1 SW2."""
        data, sw = self.process(apdu)
        return data + _sw_bytes(sw)

    def process(self, apdu: bytes) -> tuple[bytes, int]:
        """Process one command APDU; return (response data, status word)."""
        with self._lock:
            return self._process(apdu)

    def _process(self, apdu: bytes) -> tuple[bytes, int]:
        if not self.powered:
            raise CardPoweredOffError("the simulated card has no power")
        try:
            command = parse_command(bytes(apdu))
        except MalformedApduError:
            return b"", SW.WRONG_LENGTH
        if command.cla & 0x03:  # only logical channel 0 works (§1)
            return b"", SW.LOGICAL_CHANNEL_NOT_SUPPORTED
        handler = self._handlers.get((command.cla, command.ins))
        if handler is None:
            if command.cla not in (0x00, CLA_PROPRIETARY):
                return b"", SW.CLA_NOT_SUPPORTED
            if all(ins != command.ins for _, ins in self._handlers):
                return b"", SW.INS_NOT_SUPPORTED
            return b"", SW.CLA_NOT_SUPPORTED  # a known INS under the other class byte
        data, sw = handler(command)
        logger.debug("%r -> %04X", command, sw)  # Command's repr hides the data (PINs)
        return data, sw

    # --- SELECT (§2.1, §11.2) -----------------------------------------------------------------

    def _select(self, c: Command) -> tuple[bytes, int]:
        if c.p1 == 0x04:
            return self._select_df(c)
        if c.p1 == 0x02:
            if c.p2 not in (0x0C, 0x00) or len(c.data) != 2:
                return b"", SW.INCORRECT_P1_P2 if len(c.data) == 2 else SW.WRONG_LENGTH
            fid = int.from_bytes(c.data, "big")
            if self._df is None or not self._df.has_fid(fid):
                return b"", SW.FILE_NOT_FOUND
            self._ef = fid
            return b"", SW.OK
        if c.p1 == 0x00:
            if c.data:  # e.g. 3F00 by FID answers 6A82 (§2.1)
                return b"", SW.FILE_NOT_FOUND
            # ISO "select MF": 6A86 right after reset, 9000 (nothing changes) with a DF (§2.1).
            return b"", SW.INCORRECT_P1_P2 if self._df is None else SW.OK
        return b"", SW.INCORRECT_P1_P2

    def _select_df(self, c: Command) -> tuple[bytes, int]:
        if c.p2 not in (0x0C, 0x00):
            return b"", SW.INCORRECT_P1_P2
        if not c.data:
            return b"", SW.WRONG_LENGTH
        if c.data == bytes(AID.ISD):  # restores the power-on MF state (§2)
            self._leave_df(None)
            return b"", SW.OK
        # JICSAP selects by DF-name prefix too (§2.1), so a prefix picks the first match.
        app = next((a for a in self._apps if a.aid.startswith(c.data)), None)
        if app is None:
            return b"", SW.FILE_NOT_FOUND
        self._leave_df(app)
        # P2=00 asks for FCI, whose content is unknown (§13.4): answer 9000 with no data (§11.2).
        return b"", SW.OK

    def _leave_df(self, app: Application | None) -> None:
        if app is not self._df and self.options.clear_verified_on_df_change:
            for state in self._keys.values():
                state.verified = False
        if app is not self._df:
            self._issuer.clear()  # an issuer session is bound to the JPKI AP
        self._df = app
        self._ef = None

    # --- READ BINARY (§3, §4.5, §11.3) -----------------------------------------------------

    def _read_binary(self, c: Command) -> tuple[bytes, int]:
        if c.data:
            return b"", SW.WRONG_LENGTH
        if self._df is None:
            return b"", SW.NO_CURRENT_EF
        if c.p1 & 0x80:  # SFI form: P1 = 100x xxxx, P2 = 8-bit offset (§3)
            if c.p1 & 0x60:
                return b"", SW.INCORRECT_P1_P2
            fid, offset = c.p1 & 0x1F, c.p2
            if fid not in self._df.efs:
                return b"", SW.FILE_NOT_FOUND
            self._ef = fid  # the EF becomes current (§3)
        else:
            if self._ef is None:
                return b"", SW.NO_CURRENT_EF
            fid, offset = self._ef, (c.p1 << 8) | c.p2  # 15-bit offset
        ef = self._df.efs.get(fid)
        if ef is None:  # a PIN or key EF: not a transparent file
            return b"", SW.SECURITY_STATUS_NOT_SATISFIED
        if not self._opened(ef):
            return b"", SW.SECURITY_STATUS_NOT_SATISFIED
        if offset >= len(ef.content):
            return b"", SW.WRONG_OFFSET
        length = c.le if c.le is not None else 256
        return ef.content[offset : offset + length], SW.OK  # fewer bytes at EOF (§3)

    def _opened(self, ef: BinaryEF) -> bool:
        if not ef.opened_by:
            return True
        assert self._df is not None  # noqa: S101 - callers checked
        return any(self._keys[(self._df.aid, k)].verified for k in ef.opened_by)

    # --- VERIFY and CHANGE REFERENCE DATA (§4.4, §11.4, §11.5) -----------------------------

    def _referenced_key(self, p2: int) -> tuple[tuple[bytes, int] | None, int]:
        """The PIN key named by P2 (80 = current EF, 80|SFI), or an error SW."""
        if self._df is None:
            return None, SW.REFERENCED_DATA_NOT_FOUND
        if p2 == 0x80:
            if self._ef is None:
                return None, SW.NO_CURRENT_EF
            fid = self._ef
        elif p2 & 0xE0 == 0x80:
            fid = p2 & 0x1F
        else:
            return None, SW.INCORRECT_P1_P2
        if fid not in self._df.pins:
            return None, SW.REFERENCED_DATA_NOT_FOUND
        return (self._df.aid, fid), SW.OK

    def _verify(self, c: Command) -> tuple[bytes, int]:
        if c.p1 != 0x00:
            return b"", SW.INCORRECT_P1_P2
        ref, sw = self._referenced_key(c.p2)
        if ref is None:
            return b"", sw
        state = self._keys[ref]
        if not c.data:  # the counter query: never spends a try (§4.4)
            if state.max_tries is None:
                return b"", SW.VERIFY_FAILED_NO_LIMIT
            return b"", _tries_sw(state.remaining)  # 63C0 when blocked
        if state.blocked:
            return b"", SW.REFERENCE_DATA_BLOCKED  # without comparing the value (§4.4)
        if len(c.data) != len(state.value) and self.options.wrong_length_sw is not None:
            return b"", self.options.wrong_length_sw
        if hmac.compare_digest(c.data, state.value):
            if state.max_tries is not None:
                state.remaining = state.max_tries  # only success restores the counter (§4.3)
            state.verified = True
            logger.info("VERIFY ok on key %04X", ref[1])
            return b"", SW.OK
        state.verified = False
        if state.max_tries is None:
            return b"", SW.VERIFY_FAILED_NO_LIMIT
        state.remaining -= 1
        logger.info("VERIFY failed on key %04X, %d tries left", ref[1], state.remaining)
        return b"", _tries_sw(state.remaining)  # 63C0 on the last try (§4.4)

    def _change_reference_data(self, c: Command) -> tuple[bytes, int]:
        # 00 24 01 80 (JPKI, text AP) or 80 32 00 80 (住基 / 共通 CHANGE KEY), after VERIFY (§3).
        expected_p1 = 0x01 if c.ins == INS.CHANGE_REFERENCE_DATA else 0x00
        if c.p1 != expected_p1:
            return b"", SW.INCORRECT_P1_P2
        ref, sw = self._referenced_key(c.p2)
        if ref is None:
            return b"", sw
        if not c.data:
            return b"", SW.WRONG_LENGTH
        state = self._keys[ref]
        if state.blocked:
            return b"", SW.REFERENCE_DATA_BLOCKED
        if not state.verified:
            return b"", SW.SECURITY_STATUS_NOT_SATISFIED  # §11.5 [I]
        state.value = bytes(c.data)
        logger.info("key %04X changed", ref[1])
        return b"", SW.OK

    # --- COMPUTE DIGITAL SIGNATURE (§4.6, §11.6) -------------------------------------------

    def _signing_key(self, p2: int) -> tuple[SigningKey | None, int]:
        if self._df is None:
            return None, SW.REFERENCED_DATA_NOT_FOUND
        if p2 == 0x00:  # the AP's own card key, no credential (§3)
            own = next((k for k in self._df.keys.values() if k.own_card_key), None)
            return (own, SW.OK) if own else (None, SW.REFERENCED_DATA_NOT_FOUND)
        if p2 == 0x80:
            fid = self._ef
        elif p2 & 0xE0 == 0x80:
            fid = p2 & 0x1F
        else:
            return None, SW.INCORRECT_P1_P2
        key = self._df.keys.get(fid) if fid is not None else None
        if key is None:
            # No key EF current (or named by SFI): "Require the key EF … else 69 82" (§11.6).
            return None, SW.SECURITY_STATUS_NOT_SATISFIED
        return key, SW.OK

    def _compute_signature(self, c: Command) -> tuple[bytes, int]:
        key, sw = self._signing_key(c.p2)
        if key is None:
            return b"", sw
        assert self._df is not None  # noqa: S101 - _signing_key checked
        if c.p1 > 0x05:
            return b"", SW.INCORRECT_P1_P2
        if key.needs and not any(self._keys[(self._df.aid, k)].verified for k in key.needs):
            return b"", SW.SECURITY_STATUS_NOT_SATISFIED
        signature = _sign(key.key, c.p1, c.data)
        if signature is None:
            return b"", SW.WRONG_LENGTH
        logger.info("signed with key %04X (P1=%02X)", key.fid, c.p1)
        return signature, SW.OK

    # --- the issuer channel (ours, docs/issuer-channel.md; the real one is not public) -------

    def _auth_certificate(self) -> x509.Certificate:
        jpki = next(app for app in self._apps if app.aid == bytes(AID.JPKI))
        raw = jpki.efs[JpkiEF.AUTH_CERT].content
        length = parse_certificate_length(raw[:CERTIFICATE_HEADER_LENGTH])
        return x509.load_der_x509_certificate(raw[:length])

    def _in_jpki(self) -> bool:
        return self._df is not None and self._df.aid == bytes(AID.JPKI)

    def _issuer_initialize(self, c: Command) -> tuple[bytes, int]:
        if not self._in_jpki() or c.p1 or c.p2:
            self._issuer.clear()
            return b"", issuer.IssuerSW.NO_SESSION if not self._in_jpki() else SW.INCORRECT_P1_P2
        return issuer.card_initialize(self._issuer, self._issuer_keys, c.data, random=os.urandom)

    def _issuer_authenticate(self, c: Command) -> tuple[bytes, int]:
        if not self._in_jpki():
            return b"", issuer.IssuerSW.NO_SESSION
        sw = issuer.card_authenticate(self._issuer, c.data)
        logger.info("issuer channel authentication -> %04X", sw)
        return b"", sw

    #: P1 of the issuer orders: the application holding the key (docs/issuer-channel.md).
    _ISSUER_APPLICATIONS = {0x00: bytes(AID.JPKI), 0x01: bytes(AID.TEXT), 0x02: bytes(AID.JUKI)}

    def _issuer_reset_password(self, c: Command) -> tuple[bytes, int]:
        if not self._in_jpki():
            return b"", issuer.IssuerSW.NO_SESSION
        order, sw = issuer.card_reset_password(self._issuer, c.p2, c.data, p1=c.p1)
        return self._apply_issuer_order(order, sw)

    def _issuer_unblock(self, c: Command) -> tuple[bytes, int]:
        if not self._in_jpki():
            return b"", issuer.IssuerSW.NO_SESSION
        order, sw = issuer.card_unblock(self._issuer, c.p1, c.p2, c.data)
        return self._apply_issuer_order(order, sw)

    def _apply_issuer_order(
        self, order: issuer.ResetOrder | None, sw: int
    ) -> tuple[bytes, int]:
        if order is None:
            logger.info("issuer channel order refused -> %04X", sw)
            return b"", sw
        # RESET RETRY COUNTER (+ CHANGE REFERENCE DATA with a new value), for the named key only
        # (ISO/IEC 7816-4 §11.5.9, §11.5.7).
        state = self._keys[(self._ISSUER_APPLICATIONS[order.application], order.key_fid)]
        if order.value is not None:
            state.value = order.value
        if state.max_tries is not None:
            state.remaining = state.max_tries
        state.verified = False
        logger.info(
            "issuer channel %s key %02X/%04X",
            "reset" if order.value is not None else "unblocked",
            order.application,
            order.key_fid,
        )
        return issuer.card_response_mac(self._issuer, order.counter), sw

    # --- GET CHALLENGE (§3) ---------------------------------------------------------------

    def _get_challenge(self, c: Command) -> tuple[bytes, int]:
        if c.p1 or c.p2:
            return b"", SW.INCORRECT_P1_P2
        if c.extended:
            return b"", SW.CONDITIONS_NOT_SATISFIED  # refuses the extended form (§1)
        if c.data or c.le is None:
            return b"", SW.WRONG_LENGTH
        return os.urandom(c.le), SW.OK


def _sign(key: RSAPrivateKey, p1: int, data: bytes) -> bytes | None:
    """The P1 schemes of ``80 2A`` (§4.6); None when the input length does not fit."""
    if p1 == 0x00:  # PKCS#1 v1.5 over exactly the bytes given (normally a DigestInfo)
        if not 1 <= len(data) <= MAX_SIGN_INPUT:
            return None
        return sign_digest_info(key, data)
    if p1 in (0x02, 0x04) and len(data) != 32:
        return None
    if not data:
        return None
    digest = data if p1 in (0x02, 0x04) else hashlib.sha256(data).digest()
    if p1 == 0x01:  # bare 32-byte hash, no DigestInfo
        return sign_digest_info(key, digest)
    if p1 in (0x02, 0x03):  # SHA-256 DigestInfo = sha256WithRSAEncryption
        return sign_digest_info(key, sha256_digest_info(digest))
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    return key.sign(digest, pss, utils.Prehashed(hashes.SHA256()))
