"""Parse a command APDU the way the card reads it (ISO 7816-4 §5.1, short and extended forms)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

logger = logging.getLogger(__name__)

__all__ = ["Command", "MalformedApduError", "parse_command"]


class MalformedApduError(ValueError):
    """The bytes are not a well-formed APDU of any case (the card answers 6700)."""


@dataclass(frozen=True)
class Command:
    """One command APDU; ``le`` is None when absent, else 1..256 (short) or 1..65536 (extended)."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes
    le: int | None
    extended: bool

    def __repr__(self) -> str:
        # The data may be a PIN (VERIFY / CHANGE REFERENCE DATA): show its length only.
        return (
            f"Command({self.cla:02X} {self.ins:02X} {self.p1:02X} {self.p2:02X}, "
            f"{len(self.data)} data bytes, le={self.le})"
        )


def parse_command(apdu: bytes) -> Command:
    """Split ``apdu`` into header, data and Le (cases 1, 2S/3S/4S, 2E/3E/4E)."""
    if len(apdu) < 4:
        raise MalformedApduError("an APDU has at least 4 header bytes")
    cla, ins, p1, p2 = apdu[:4]
    body = apdu[4:]
    if not body:  # case 1
        return Command(cla, ins, p1, p2, b"", None, False)
    if len(body) == 1:  # case 2S: Le 00 means 256
        return Command(cla, ins, p1, p2, b"", body[0] or 256, False)
    if body[0] != 0:  # case 3S / 4S
        lc = body[0]
        if len(body) == 1 + lc:
            return Command(cla, ins, p1, p2, body[1:], None, False)
        if len(body) == 2 + lc:
            return Command(cla, ins, p1, p2, body[1 : 1 + lc], body[-1] or 256, False)
        raise MalformedApduError("Lc does not match the APDU length")
    # Extended forms start with a 00 byte.
    if len(body) == 3:  # case 2E: Le 0000 means 65536
        return Command(cla, ins, p1, p2, b"", int.from_bytes(body[1:3], "big") or 65536, True)
    if len(body) < 4:
        raise MalformedApduError("truncated extended APDU")
    lc = int.from_bytes(body[1:3], "big")
    if lc == 0:
        raise MalformedApduError("extended Lc of 0")
    data = body[3 : 3 + lc]
    rest = body[3 + lc :]
    if len(data) != lc:
        raise MalformedApduError("extended Lc does not match the APDU length")
    if not rest:
        return Command(cla, ins, p1, p2, data, None, True)
    if len(rest) == 2:
        return Command(cla, ins, p1, p2, data, int.from_bytes(rest, "big") or 65536, True)
    raise MalformedApduError("bad extended Le")
