"""ApduProtocol: short/extended encoding, 61xx and 6Cxx processors, redacted traffic logs."""

from __future__ import annotations

import logging

import pytest

from mynacard.apdu import TRAFFIC, ApduProtocol, CommandApdu
from mynacard.errors import ApduError
from mynacard.tests.fakes import ScriptedConnection, ex


@pytest.mark.parametrize(
    ("apdu", "encoded"),
    [
        (CommandApdu(0x00, 0x20, 0x00, 0x80), "00 20 00 80"),  # case 1
        (CommandApdu(0x00, 0xB0, 0x00, 0x00, le=256), "00 B0 00 00 00"),  # case 2, Le 256 = 00
        (CommandApdu(0x00, 0xB0, 0x01, 0x00, le=4), "00 B0 01 00 04"),
        (CommandApdu(0x00, 0xA4, 0x02, 0x0C, b"\x00\x0a"), "00 A4 02 0C 02 00 0A"),  # case 3
        (CommandApdu(0x80, 0x2A, 0x00, 0x80, b"\x01", le=256), "80 2A 00 80 01 01 00"),  # 4
    ],
)
def test_short_encoding(apdu: CommandApdu, encoded: str) -> None:
    assert apdu.encode() == bytes.fromhex(encoded)


def test_extended_only_when_allowed_and_needed() -> None:
    big = CommandApdu(0x80, 0x2A, 0x00, 0x80, bytes(300), le=256)
    with pytest.raises(ValueError, match="extended"):
        big.encode()
    assert big.encode(extended=True) == bytes.fromhex("80 2A 00 80 00 01 2C") + bytes(300) + (
        bytes.fromhex("01 00")
    )
    whole_ef = CommandApdu(0x00, 0xB0, 0x00, 0x00, le=65536)
    assert whole_ef.encode(extended=True) == bytes.fromhex("00 B0 00 00 00 00 00")
    # A command that fits stays short even on an extended-capable link.
    assert CommandApdu(0, 0xB0, 0, 0, le=256).encode(extended=True) == bytes.fromhex("00B0000000")


def test_send_apdu_returns_data_on_9000_and_raises_otherwise() -> None:
    conn = ScriptedConnection([ex("00 B0 00 00 03", "8F8F00"), ex("00 B0 00 00 03", sw=0x6B00)])
    protocol = ApduProtocol(conn)
    assert protocol.send_apdu(0, 0xB0, 0, 0, le=3) == bytes.fromhex("8F8F00")
    with pytest.raises(ApduError) as info:
        protocol.send_apdu(0, 0xB0, 0, 0, le=3)
    assert info.value.sw == 0x6B00
    conn.assert_done()


def test_61xx_is_collected_with_get_response() -> None:
    conn = ScriptedConnection(
        [
            ex("80 2A 00 80 01 AA 00", b"\x01" * 200, sw=0x6138),
            ex("00 C0 00 00 38", b"\x02" * 0x38, sw=0x9000),
        ]
    )
    data = ApduProtocol(conn).send_apdu(0x80, 0x2A, 0x00, 0x80, b"\xaa", le=256)
    assert data == b"\x01" * 200 + b"\x02" * 0x38
    conn.assert_done()


def test_61_00_asks_for_256_and_chains() -> None:
    conn = ScriptedConnection(
        [
            ex("00 B0 00 00 00", b"a", sw=0x6100),
            ex("00 C0 00 00 00", b"b", sw=0x6102),
            ex("00 C0 00 00 02", b"cd"),
        ]
    )
    assert ApduProtocol(conn).send_apdu(0, 0xB0, 0, 0, le=256) == b"abcd"
    conn.assert_done()


def test_6cxx_resends_with_the_right_le() -> None:
    conn = ScriptedConnection(
        [ex("00 B0 00 00 00", sw=0x6C03), ex("00 B0 00 00 03", "8F8F00")]
    )
    assert ApduProtocol(conn).send_apdu(0, 0xB0, 0, 0, le=256) == bytes.fromhex("8F8F00")
    conn.assert_done()


def test_6cxx_after_get_response() -> None:
    conn = ScriptedConnection(
        [
            ex("00 B0 00 00 10", b"x", sw=0x6105),
            ex("00 C0 00 00 05", sw=0x6C04),
            ex("00 C0 00 00 04", b"yyyy"),
        ]
    )
    assert ApduProtocol(conn).send_apdu(0, 0xB0, 0, 0, le=16) == b"xyyyy"
    conn.assert_done()


SECRET = "60072320344821"


@pytest.mark.parametrize("ins", [0x20, 0x24, 0x2C, 0x32])
def test_traffic_log_redacts_verify_and_change_reference_data(
    caplog: pytest.LogCaptureFixture, ins: int
) -> None:
    caplog.set_level(TRAFFIC, logger="mynacard")
    header = f"00 {ins:02X} 01 80 0E"
    conn = ScriptedConnection([ex(header + SECRET.encode().hex(), sw=0x63C9)])
    with pytest.raises(ApduError):
        ApduProtocol(conn).send_apdu(0, ins, 0x01, 0x80, SECRET.encode())
    text = caplog.text + " ".join(str(r.args) for r in caplog.records)
    assert "redacted" in text
    assert caplog.records, "the exchange must be logged"
    for needle in (SECRET, SECRET.encode().hex(), SECRET.encode().hex(" ").upper(), "36 30 30 37"):
        assert needle.lower() not in text.lower()


def test_traffic_log_shows_other_commands_but_never_response_data(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(TRAFFIC, logger="mynacard")
    conn = ScriptedConnection([ex("00 A4 02 0C 02 00 0A"), ex("00 B0 00 00 04", "30820345")])
    protocol = ApduProtocol(conn)
    protocol.send_apdu(0, 0xA4, 0x02, 0x0C, b"\x00\x0a")
    protocol.send_apdu(0, 0xB0, 0, 0, le=4)
    assert "00 A4 02 0C 00 0A" in caplog.text
    assert "RECV 4 bytes SW=9000" in caplog.text
    assert "30 82" not in caplog.text and "30820345" not in caplog.text
    assert all(r.levelno == TRAFFIC for r in caplog.records)
    assert logging.getLevelName(TRAFFIC) == "TRAFFIC"
