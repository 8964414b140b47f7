"""What every application session shares: SELECT, chunked READ BINARY, retry counters, VERIFY.

This is the one place where status words become named errors (style.md "Sessions translate
status words once"); session classes (:mod:`mynacard.jpki`, :mod:`mynacard.visual`, ...) add the
domain of their application on top.
"""

from __future__ import annotations

import logging
from typing import ClassVar

from mynacard.apdu import EXTENDED_MAX_LE, SHORT_MAX_LE, ApduProtocol, CommandApdu
from mynacard.constants import (
    AID,
    INS,
    MAX_SIGN_INPUT,
    P2_CURRENT_EF_KEY,
    P2_NO_FCI,
    SELECT_BY_DF_NAME,
    SELECT_EF_UNDER_DF,
    SIGNATURE_LENGTH,
    SW,
    retry_counter,
)
from mynacard.errors import (
    ApduError,
    ApplicationNotFoundError,
    BadResponseError,
    CardError,
    FileNotFoundOnCardError,
    PinBlockedError,
    SecurityStatusError,
    WrongPinError,
)
from mynacard.pins import PinKind, PinStatus
from mynacard.tlv import Tlv
from mynacard.transport import CardConnection

logger = logging.getLogger(__name__)

__all__ = ["APPLICATION_ABSENT", "ApplicationSession", "translate_status"]

#: How a card answers the SELECT of an application it does not have (as yubikit's ``select()``
#: reads them): 6A82, or — from cards, and contactless readers' pseudo-APDU layers, that do not
#: know the command at all — 6A81 / 6A86 / 6D00 / 6E00 (spec §2.1, §8).
APPLICATION_ABSENT = frozenset({
    SW.FILE_NOT_FOUND, SW.FUNCTION_NOT_SUPPORTED, SW.INCORRECT_P1_P2, SW.INS_NOT_SUPPORTED,
    SW.CLA_NOT_SUPPORTED,
})

#: READ BINARY puts the offset in P1 (bit 8 clear = not an SFI) and P2: 15 bits (§3).
MAX_READ_OFFSET = 0x7FFF


def translate_status(error: ApduError, *, not_found: type[CardError] | None = None) -> CardError:
    """The named error for a status word, or ``error`` itself when none applies (§8)."""
    sw = error.sw
    if sw == SW.SECURITY_STATUS_NOT_SATISFIED:
        return SecurityStatusError("the operation needs a verified PIN (6982)")
    if sw == SW.REFERENCE_DATA_BLOCKED:
        return PinBlockedError()
    tries = retry_counter(sw)
    if tries is not None:
        return WrongPinError(tries)
    if sw == SW.FILE_NOT_FOUND and not_found is not None:
        return not_found(f"not found on the card ({sw:04X})")
    if sw == SW.WRONG_OFFSET:
        return BadResponseError("the file is shorter than its contents say (6B00)")
    return error


class ApplicationSession:
    """Base of the per-application sessions: selects :attr:`aid` on construction."""

    aid: ClassVar[AID]

    def __init__(self, connection: CardConnection, *, extended: bool = False) -> None:
        self.protocol = ApduProtocol(connection, extended=extended)
        self._chunk = EXTENDED_MAX_LE if extended else SHORT_MAX_LE
        try:
            self._send(0x00, INS.SELECT, SELECT_BY_DF_NAME, P2_NO_FCI, self.aid.value)
        except ApduError as exc:
            if exc.sw in APPLICATION_ABSENT:
                raise ApplicationNotFoundError(exc.sw) from exc
            raise
        logger.debug("selected application %s", self.aid.name)

    # --- sending --------------------------------------------------------------------------

    def _send(
        self,
        cla: int,
        ins: int,
        p1: int,
        p2: int,
        data: bytes = b"",
        le: int = 0,
        *,
        not_found: type[CardError] | None = None,
    ) -> bytes:
        try:
            return self.protocol.send_apdu(cla, ins, p1, p2, data, le)
        except ApduError as exc:
            translated = translate_status(exc, not_found=not_found)
            if translated is exc:
                raise
            raise translated from exc

    def _select_ef(self, fid: int) -> None:
        """``00 A4 02 0C 02 <FID>`` (§2.1); 6A82 → :class:`FileNotFoundOnCardError`."""
        self._send(
            0x00, INS.SELECT, SELECT_EF_UNDER_DF, P2_NO_FCI, fid.to_bytes(2, "big"),
            not_found=FileNotFoundOnCardError,
        )

    # --- reading ----------------------------------------------------------------------------

    def _read_chunk(self, offset: int, le: int) -> bytes:
        if not 0 <= offset <= MAX_READ_OFFSET:
            raise BadResponseError(f"offset {offset} is beyond what READ BINARY can address")
        data = self._send(0x00, INS.READ_BINARY, offset >> 8, offset & 0xFF, le=le)
        if len(data) > le:
            raise BadResponseError(f"card returned {len(data)} bytes for Le={le}")
        return data

    def _read_binary(self, offset: int, length: int, *, prefix: bytes = b"") -> bytes:
        """Read ``length`` bytes of the current EF from ``offset``: Le = 256 (``00``) while at
        least 256 remain, then the exact remainder (§4.5 step 4). A short read is an error."""
        out = bytearray(prefix)
        end = offset + length
        while offset < end:
            data = self._read_chunk(offset, min(self._chunk, end - offset))
            if not data:
                raise BadResponseError("the file ended before its contents did")
            out += data
            offset += len(data)
        return bytes(out)

    def _read_tlv_ef(self) -> bytes:
        """Read the TLV at the start of the current EF, exactly, without its ``FF`` filler
        (§4.5 step 5): one full chunk first, its header gives the total, then the rest."""
        first = self._read_chunk(0, self._chunk)
        total = Tlv.parse_header(first).total_length
        if total <= len(first):
            return first[:total]
        return self._read_binary(len(first), total - len(first), prefix=first)

    # --- PINs -----------------------------------------------------------------------------

    def _retry_status(self, fid: int, kind: PinKind, max_tries: int | None) -> PinStatus:
        """Empty VERIFY ``00 20 00 80`` after SELECT of the key EF: no try is spent (§4.4)."""
        self._select_ef(fid)
        _, sw = self.protocol.transceive(CommandApdu(0x00, INS.VERIFY, 0x00, P2_CURRENT_EF_KEY))
        tries = retry_counter(sw)
        if tries is not None:
            # 63C0 = blocked (§4.4 "Empty-VERIFY query on a blocked key").
            return PinStatus(kind=kind, tries_left=tries, max_tries=max_tries, blocked=tries == 0)
        if sw == SW.REFERENCE_DATA_BLOCKED:
            return PinStatus(kind=kind, tries_left=0, max_tries=max_tries, blocked=True)
        if sw == SW.OK and max_tries is not None:
            # "Some cards" answer 9000 right after a successful VERIFY (§4.4): the counter was
            # just restored to its maximum.
            return PinStatus(kind=kind, tries_left=max_tries, max_tries=max_tries, blocked=False)
        raise translate_status(ApduError(sw))

    def _verify(self, fid: int, kind: PinKind, value: str) -> None:
        """SELECT the key EF, then ``00 20 00 80 <Lc> <ASCII>`` (§3). The value is already
        validated; it is never logged (the APDU layer redacts VERIFY data)."""
        self._select_ef(fid)
        self._send(0x00, INS.VERIFY, 0x00, P2_CURRENT_EF_KEY, value.encode("ascii"))
        logger.debug("verified %s", kind.value)

    # --- signing ----------------------------------------------------------------------------

    @staticmethod
    def _check_sign_input(digest_info: bytes) -> None:
        """P1=00 pads 1–245 bytes (§4.6); refuse anything else before talking to the card."""
        if not 1 <= len(digest_info) <= MAX_SIGN_INPUT:
            raise ValueError(f"the card signs 1-{MAX_SIGN_INPUT} bytes with P1=00 (§4.6)")

    def _compute_signature(self, p2: int, digest_info: bytes) -> bytes:
        """``80 2A 00 <P2> <Lc> <DigestInfo> 00`` (P1=00: PKCS#1 v1.5 as given, §4.6)."""
        self._check_sign_input(digest_info)
        signature = self._send(
            0x80, INS.COMPUTE_DIGITAL_SIGNATURE, 0x00, p2, digest_info, le=SHORT_MAX_LE
        )
        if len(signature) != SIGNATURE_LENGTH:
            raise BadResponseError(f"signature of {len(signature)} bytes, expected 256")
        return signature
