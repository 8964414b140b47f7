"""A scripted fake connection: replays (data, sw) pairs and checks every APDU sent, byte by byte
(after python-fido2's tests/test_pcsc.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from mynacard.transport import CardConnection


@dataclass
class Exchange:
    """One expected command and the canned answer."""

    apdu: bytes
    data: bytes = b""
    sw: int = 0x9000


def ex(apdu_hex: str, data: bytes | str = b"", sw: int = 0x9000) -> Exchange:
    """``ex("00 A4 04 0C 0A D3...", sw=0x9000)``; ``data`` as bytes or hex."""
    payload = bytes.fromhex(data) if isinstance(data, str) else data
    return Exchange(bytes.fromhex(apdu_hex), payload, sw)


@dataclass
class ScriptedConnection(CardConnection):
    """Fails the test on the first APDU that differs from the script, or on an extra one."""

    script: list[Exchange]
    sent: list[bytes] = field(default_factory=list)
    closed: bool = False

    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
        index = len(self.sent)
        self.sent.append(bytes(apdu))
        assert index < len(self.script), f"unexpected extra APDU {apdu.hex(' ').upper()}"
        expected = self.script[index]
        assert apdu == expected.apdu, (
            f"APDU #{index}: sent {apdu.hex(' ').upper()}, "
            f"expected {expected.apdu.hex(' ').upper()}"
        )
        return expected.data, expected.sw

    def close(self) -> None:
        self.closed = True

    def assert_done(self) -> None:
        """Every scripted exchange happened."""
        assert len(self.sent) == len(self.script), (
            f"{len(self.script) - len(self.sent)} scripted APDUs were never sent"
        )
