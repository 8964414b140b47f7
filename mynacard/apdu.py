"""Command APDUs and the protocol object above a :class:`~mynacard.transport.CardConnection`.

Short APDUs by default: many USB NFC readers do not pass extended ones, so everything is read
in 256-byte chunks (spec §1 "Extended length"). Extended length is an option for links known to
carry it. 61xx (GET RESPONSE) and 6Cxx (re-send with the right Le) are handled by small stacked
processors, as in yubikit's ``SmartCardProtocol`` — not by branches in ``send_apdu`` (§1 pyscard).

Traffic is logged at :data:`TRAFFIC` (below DEBUG). The data field of VERIFY and CHANGE
REFERENCE DATA is always redacted, and response data is never logged (it holds the card face,
the My Number, ...): only its length and the status word.
"""

from __future__ import annotations

import abc
import logging
from dataclasses import dataclass, replace

from mynacard.constants import INS, SW, SW1_BYTES_AVAILABLE, SW1_WRONG_LE
from mynacard.errors import ApduError
from mynacard.transport import CardConnection

logger = logging.getLogger(__name__)

__all__ = [
    "TRAFFIC",
    "ApduProtocol",
    "CommandApdu",
    "describe_apdu",
]

#: A log level below DEBUG for APDU traffic (yubikit's TRAFFIC idea, without its PIN leak).
TRAFFIC = 5
logging.addLevelName(TRAFFIC, "TRAFFIC")

SHORT_MAX_DATA = 255
SHORT_MAX_LE = 256
EXTENDED_MAX_DATA = 65535
EXTENDED_MAX_LE = 65536
#: Commands whose data field is a secret (a PIN, a password, 照合番号A/B, a new PIN) — §3.
_SECRET_INS = frozenset(
    {INS.VERIFY, INS.CHANGE_REFERENCE_DATA, INS.RESET_RETRY_COUNTER, INS.CHANGE_KEY}
)
#: Give up on a card that keeps answering 61xx (a loop would otherwise never end).
_MAX_GET_RESPONSE = 256


@dataclass(frozen=True)
class CommandApdu:
    """One command: header, data, and the expected length (0 = no Le field)."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int = 0

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            if not 0 <= getattr(self, name) <= 0xFF:
                raise ValueError(f"{name} must be one byte")
        if len(self.data) > EXTENDED_MAX_DATA:
            raise ValueError("command data too long")
        if not 0 <= self.le <= EXTENDED_MAX_LE:
            raise ValueError("Le out of range")

    def needs_extended(self) -> bool:
        """True when the command does not fit the short form (Lc ≤ 255, Le ≤ 256)."""
        return len(self.data) > SHORT_MAX_DATA or self.le > SHORT_MAX_LE

    def encode(self, *, extended: bool = False) -> bytes:
        """ISO 7816-4 §5.1 encoding. Short unless ``extended`` is allowed AND needed."""
        header = bytes([self.cla, self.ins, self.p1, self.p2])
        if not self.needs_extended():
            body = b""
            if self.data:
                body += bytes([len(self.data)]) + self.data
            if self.le:
                body += bytes([self.le & 0xFF])  # 256 is written 00
            return header + body
        if not extended:
            raise ValueError("command needs extended length, which this link does not use")
        body = b"\x00"  # extended marker
        if self.data:
            body += len(self.data).to_bytes(2, "big") + self.data
        if self.le:
            # With data, Le is 2 bytes; without, it follows the 00 marker (65536 is 00 00).
            body += (self.le & 0xFFFF).to_bytes(2, "big")
        return header + body


def describe_apdu(apdu: CommandApdu) -> str:
    """Hex of the command for the log, with a secret data field replaced by its length."""
    header = bytes([apdu.cla, apdu.ins, apdu.p1, apdu.p2]).hex(" ").upper()
    if not apdu.data:
        data = ""
    elif apdu.ins in _SECRET_INS:
        data = f" <{len(apdu.data)} bytes redacted>"
    else:
        data = " " + apdu.data.hex(" ").upper()
    le = f" Le={apdu.le}" if apdu.le else ""
    return header + data + le


class ApduProcessor(abc.ABC):
    """One layer of the processor stack: send a command, return (data, sw)."""

    @abc.abstractmethod
    def process(self, apdu: CommandApdu) -> tuple[bytes, int]:
        """Send ``apdu`` (possibly several exchanges); return the final data and SW."""


class ConnectionProcessor(ApduProcessor):
    """The bottom layer: encode and hand the bytes to the connection; log the exchange."""

    def __init__(self, connection: CardConnection, *, extended: bool) -> None:
        self._connection = connection
        self._extended = extended

    def process(self, apdu: CommandApdu) -> tuple[bytes, int]:
        logger.log(TRAFFIC, "SEND %s", describe_apdu(apdu))
        data, sw = self._connection.send_and_receive(apdu.encode(extended=self._extended))
        logger.log(TRAFFIC, "RECV %d bytes SW=%04X", len(data), sw)
        return data, sw


class WrongLengthProcessor(ApduProcessor):
    """6Cxx: the card wants Le = xx; re-send once with it (ISO 7816-4 §5.1.3)."""

    def __init__(self, delegate: ApduProcessor) -> None:
        self._delegate = delegate

    def process(self, apdu: CommandApdu) -> tuple[bytes, int]:
        data, sw = self._delegate.process(apdu)
        if sw >> 8 == SW1_WRONG_LE:
            data, sw = self._delegate.process(replace(apdu, le=(sw & 0xFF) or SHORT_MAX_LE))
        return data, sw


class GetResponseProcessor(ApduProcessor):
    """61xx: more bytes wait; collect them with GET RESPONSE ``00 C0 00 00 xx`` (§1 pyscard)."""

    def __init__(self, delegate: ApduProcessor) -> None:
        self._delegate = delegate

    def process(self, apdu: CommandApdu) -> tuple[bytes, int]:
        data, sw = self._delegate.process(apdu)
        collected = bytearray(data)
        for _ in range(_MAX_GET_RESPONSE):
            if sw >> 8 != SW1_BYTES_AVAILABLE:
                return bytes(collected), sw
            more = CommandApdu(0x00, INS.GET_RESPONSE, 0x00, 0x00, le=(sw & 0xFF) or SHORT_MAX_LE)
            data, sw = self._delegate.process(more)
            collected += data
        raise ApduError(sw, "card kept answering 61xx")


class ApduProtocol:
    """Send APDUs, return response data on 9000 and raise :class:`ApduError` on anything else."""

    def __init__(self, connection: CardConnection, *, extended: bool = False) -> None:
        self.connection = connection
        self.extended = extended
        # GET RESPONSE sits above 6Cxx so that a GET RESPONSE answered 6Cxx is re-sent too.
        self._processor: ApduProcessor = GetResponseProcessor(
            WrongLengthProcessor(ConnectionProcessor(connection, extended=extended))
        )

    def transceive(self, apdu: CommandApdu) -> tuple[bytes, int]:
        """Send ``apdu`` through the processor stack; return (data, sw) without judging the SW."""
        return self._processor.process(apdu)

    def send_apdu(
        self, cla: int, ins: int, p1: int, p2: int, data: bytes = b"", le: int = 0
    ) -> bytes:
        """Send one command; its data on 9000, else :class:`ApduError` carrying the SW."""
        response, sw = self.transceive(CommandApdu(cla, ins, p1, p2, bytes(data), le))
        if sw != SW.OK:
            raise ApduError(sw)
        return response
