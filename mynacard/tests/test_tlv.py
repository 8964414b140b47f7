"""Tlv: encoding forms, strict parsing, two-byte private tags, round trips (spec §5.3, §11.8)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mynacard.errors import BadResponseError
from mynacard.tlv import Tlv, encode_length

TAGS = [0x04, 0x30, 0x90, 0x91, 0xDF21, 0xDF2A, 0xFF20, 0xFF40, 0x7F21, 0x5F4E, 0x5F37]


@pytest.mark.parametrize(
    ("length", "header"),
    [
        (0, "DF2100"),
        (0x7F, "DF217F"),
        (0x80, "DF21820080"),  # the card writes 82 00 80, not 81 80 (§5.3, §11.8)
        (0xFF, "DF218200FF"),
        (0x100, "DF21820100"),
        (0xFFFF, "DF2182FFFF"),
    ],
)
def test_round_trip_at_length_boundaries(length: int, header: str) -> None:
    value = bytes(i & 0xFF for i in range(length))
    tlv = Tlv(0xDF21, value)
    encoded = tlv.encode()
    assert encoded == bytes.fromhex(header) + value
    parsed = Tlv.parse(encoded)
    assert parsed == tlv
    assert parsed.raw == encoded
    assert parsed.header == bytes.fromhex(header)


def test_it_parses_the_81_form_and_keeps_the_stored_bytes() -> None:
    stored = bytes.fromhex("DF228180") + b"x" * 0x80
    tlv = Tlv.parse(stored)
    assert tlv.value == b"x" * 0x80
    assert tlv.raw == stored  # signatures cover the TLV as stored (§6.3)
    assert tlv.encode() == bytes.fromhex("DF22820080") + b"x" * 0x80


def test_it_parses_82_00_xx_for_short_values() -> None:
    tlv = Tlv.parse(bytes.fromhex("DF23820001") + b"1")
    assert (tlv.tag, tlv.value) == (0xDF23, b"1")
    assert tlv.raw == bytes.fromhex("DF2382000131")


@pytest.mark.parametrize(
    ("tag", "constructed"),
    [(0xFF20, True), (0x7F21, True), (0xDF21, False), (0x5F4E, False), (0x90, False), (0x30, True)],
)
def test_constructed_bit(tag: int, constructed: bool) -> None:
    assert Tlv(tag, b"").constructed is constructed


def test_two_byte_tags_parse_as_one_tag() -> None:
    data = bytes.fromhex("FF2009 DF2101 41 5F3702 0102")
    outer = Tlv.parse(data)
    assert outer.tag == 0xFF20
    assert [(c.tag, c.value) for c in outer.children()] == [
        (0xDF21, b"A"),
        (0x5F37, b"\x01\x02"),
    ]


def test_build_nests_children_as_stored() -> None:
    inner = Tlv.parse(bytes.fromhex("DF218100"))
    outer = Tlv.build(0xFF20, inner, b"\x90\x00")
    assert outer.encode() == bytes.fromhex("FF2006 DF218100 9000")


@pytest.mark.parametrize(
    "hex_data",
    [
        "",  # no tag
        "DF",  # tag cut in half
        "DF21",  # no length
        "DF2105414243",  # value shorter than its length
        "DF2181",  # 81 without its byte
        "DF218200",  # 82 with one byte
        "DF2180",  # indefinite form
        "DF2183000001",  # three-byte length: not on this card
        "9F818181810100",  # tag longer than three bytes
    ],
)
def test_it_rejects_truncated_or_bad_lengths(hex_data: str) -> None:
    with pytest.raises(BadResponseError):
        Tlv.parse(bytes.fromhex(hex_data))


def test_it_rejects_trailing_bytes() -> None:
    with pytest.raises(BadResponseError, match="trailing"):
        Tlv.parse(bytes.fromhex("DF210141FF"))


def test_parse_from_allows_trailing_filler_and_reports_the_end() -> None:
    tlv, end = Tlv.parse_from(bytes.fromhex("DF210141FFFF"))
    assert (tlv.value, end) == (b"A", 4)


def test_parse_all_and_dict() -> None:
    data = bytes.fromhex("900301000191020102")
    assert [t.tag for t in Tlv.parse_all(data)] == [0x90, 0x91]
    assert Tlv.parse_all(b"") == []
    assert set(Tlv.parse_dict(data, expected=(0x90, 0x91))) == {0x90, 0x91}
    with pytest.raises(BadResponseError):
        Tlv.parse_dict(data, expected=(0x91, 0x90))
    with pytest.raises(BadResponseError, match="duplicate"):
        Tlv.parse_dict(bytes.fromhex("90010190 0102"))


def test_parse_header_needs_only_the_header() -> None:
    head = Tlv.parse_header(bytes.fromhex("FF2082138F"))
    assert (head.tag, head.length, head.header_length, head.total_length) == (
        0xFF20, 0x138F, 5, 0x1394,
    )


@pytest.mark.parametrize("tag", [-1, 0x1F, 0xDF, 0xDF80, 0x1F8080FF])
def test_it_refuses_to_build_invalid_tags(tag: int) -> None:
    with pytest.raises(ValueError):
        Tlv(tag, b"")


def test_it_refuses_values_longer_than_ffff() -> None:
    with pytest.raises(ValueError):
        Tlv(0x04, bytes(0x10000))
    with pytest.raises(ValueError):
        encode_length(0x10000)


@given(st.sampled_from(TAGS), st.binary(max_size=600))
def test_round_trip_property(tag: int, value: bytes) -> None:
    tlv = Tlv(tag, value)
    assert Tlv.parse(tlv.encode()) == tlv


@given(st.binary(max_size=300))
def test_random_bytes_raise_only_bad_response(data: bytes) -> None:
    try:
        parsed = Tlv.parse_all(data)
    except BadResponseError:
        return
    # Whatever parses covers the input exactly, and each TLV re-parses to itself.
    assert b"".join(t.raw for t in parsed) == data
    assert all(Tlv.parse(t.raw) == t for t in parsed)


@given(st.lists(st.tuples(st.sampled_from(TAGS), st.binary(max_size=200)), max_size=5), st.data())
def test_mutated_sequences_raise_only_bad_response(
    items: list[tuple[int, bytes]], data: st.DataObject
) -> None:
    encoded = bytearray(b"".join(Tlv(tag, value).encode() for tag, value in items))
    if encoded:
        index = data.draw(st.integers(0, len(encoded) - 1))
        encoded[index] = data.draw(st.integers(0, 255))
        encoded = encoded[: data.draw(st.integers(0, len(encoded)))]
    try:
        parsed = Tlv.parse_all(bytes(encoded))
    except BadResponseError:
        return
    assert b"".join(t.raw for t in parsed) == bytes(encoded)


@given(st.binary(max_size=300), st.integers(0, 310))
def test_every_tlv_entry_point_raises_only_bad_response(data: bytes, offset: int) -> None:
    for parse in (
        lambda: Tlv.parse(data),
        lambda: Tlv.parse_header(data, offset),
        lambda: Tlv.parse_from(data, offset),
        lambda: Tlv.parse_dict(data),
        lambda: Tlv.parse_dict(data, expected=(0xDF21, 0xDF22)),
    ):
        try:
            parse()
        except BadResponseError:
            pass


@pytest.mark.parametrize("length", [0, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF])
def test_a_value_one_byte_short_of_its_length_is_refused(length: int) -> None:
    encoded = Tlv(0xFF20, bytes(length)).encode()
    with pytest.raises(BadResponseError):
        Tlv.parse(encoded[:-1])
    with pytest.raises(BadResponseError):
        Tlv.parse(encoded + b"\x00")
