"""Strict BER-TLV as the My Number Card uses it (spec §5.3, §6.3, §11.8).

One class, :class:`Tlv`. Encoding follows what the card emits (§11.8): a one-byte length below
128, ``82 hh ll`` from 128 up (even for 128–255). Parsing accepts any definite form up to
``82 hh ll`` (the spec says "parse lengths generically"), and keeps the bytes exactly as stored in
:attr:`Tlv.raw`, because the card's signatures cover TLVs *as stored* (§5.3 DF33, §6.3 DF28).

Every parse failure raises :class:`~mynacard.errors.BadResponseError` and nothing else.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from mynacard.errors import BadResponseError

logger = logging.getLogger(__name__)

__all__ = ["MAX_LENGTH", "Tlv", "TlvHeader"]

#: Largest value we encode or accept: the longest form used on this card is ``82 hh ll`` (§5.3).
MAX_LENGTH = 0xFFFF
#: Tags on this card are at most two bytes (``DF xx``, ``FF xx``, ``7F21``, ``5F4E``, ``5F37``);
#: three are accepted so that a well-formed longer tag fails on its value, not as garbage.
_MAX_TAG_BYTES = 3
_CONSTRUCTED_BIT = 0x20
_HIGH_TAG_NUMBER = 0x1F


@dataclass(frozen=True)
class TlvHeader:
    """A parsed tag and length, and where the value starts."""

    tag: int
    length: int
    header_length: int

    @property
    def total_length(self) -> int:
        """Header plus value: the size of the whole TLV."""
        return self.header_length + self.length


def _tag_bytes(tag: int) -> bytes:
    """The BER encoding of ``tag`` (stored as its big-endian bytes), validated."""
    if tag < 0:
        raise ValueError(f"negative tag {tag}")
    raw = tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")
    if len(raw) > _MAX_TAG_BYTES:
        raise ValueError(f"tag {tag:X} is longer than {_MAX_TAG_BYTES} bytes")
    try:
        parsed, used = _parse_tag(raw, 0)
    except BadResponseError as exc:
        raise ValueError(f"{tag:X} is not a valid BER tag") from exc
    if used != len(raw) or parsed != tag:
        raise ValueError(f"{tag:X} is not a valid BER tag")
    return raw


def _parse_tag(data: bytes, offset: int) -> tuple[int, int]:
    """Read a BER tag at ``offset``; return (tag, offset after it). ISO 7816-4 §5.2.2.1."""
    if offset >= len(data):
        raise BadResponseError("truncated TLV: no tag")
    first = data[offset]
    pos = offset + 1
    if first & _HIGH_TAG_NUMBER != _HIGH_TAG_NUMBER:
        return first, pos
    tag = first
    while True:
        if pos >= len(data):
            raise BadResponseError("truncated TLV: multi-byte tag")
        byte = data[pos]
        pos += 1
        tag = (tag << 8) | byte
        if pos - offset > _MAX_TAG_BYTES:
            raise BadResponseError("TLV tag too long")
        if not byte & 0x80:
            return tag, pos


def _parse_length(data: bytes, offset: int) -> tuple[int, int]:
    """Read a definite BER length at ``offset``; return (length, offset after it)."""
    if offset >= len(data):
        raise BadResponseError("truncated TLV: no length")
    first = data[offset]
    if first < 0x80:
        return first, offset + 1
    if first == 0x81:
        if offset + 2 > len(data):
            raise BadResponseError("truncated TLV: 81 length")
        return data[offset + 1], offset + 2
    if first == 0x82:
        if offset + 3 > len(data):
            raise BadResponseError("truncated TLV: 82 length")
        return int.from_bytes(data[offset + 1 : offset + 3], "big"), offset + 3
    # 0x80 would be the indefinite form (not on this card); 83+ exceed any EF on it.
    raise BadResponseError(f"unsupported TLV length byte {first:02X}")


def encode_length(length: int) -> bytes:
    """The card's length form (§11.8): one byte below 128, else ``82 hh ll``."""
    if not 0 <= length <= MAX_LENGTH:
        raise ValueError(f"TLV length {length} out of range")
    if length < 0x80:
        return bytes([length])
    return b"\x82" + length.to_bytes(2, "big")


@dataclass(frozen=True)
class Tlv:
    """One BER-TLV: tag (its bytes as a big-endian int, e.g. ``0xDF21``) and value.

    ``raw`` is the TLV exactly as stored when parsed (it may use ``81 xx`` or ``82 00 xx``
    lengths), or the canonical encoding when built; it does not take part in equality.
    """

    tag: int
    value: bytes
    raw: bytes = field(default=b"", compare=False, repr=False)

    def __post_init__(self) -> None:
        _tag_bytes(self.tag)  # validates; raises ValueError for a malformed tag number
        if len(self.value) > MAX_LENGTH:
            raise ValueError(f"TLV value of {len(self.value)} bytes is too long")
        if not self.raw:
            object.__setattr__(self, "raw", self.encode())

    # --- encoding -------------------------------------------------------------------------

    def encode(self) -> bytes:
        """Canonical encoding (§11.8), independent of how a parsed TLV was stored."""
        return _tag_bytes(self.tag) + encode_length(len(self.value)) + self.value

    def __bytes__(self) -> bytes:
        return self.encode()

    @classmethod
    def build(cls, tag: int, *children: Tlv | bytes) -> Tlv:
        """A TLV whose value is the concatenation of ``children`` (TLVs are encoded as stored)."""
        return cls(tag, b"".join(c.raw if isinstance(c, Tlv) else bytes(c) for c in children))

    # --- properties -------------------------------------------------------------------------

    @property
    def constructed(self) -> bool:
        """True when bit 6 of the first tag byte is set (``FF xx``, ``7F21``; not ``DF xx``)."""
        return bool(_tag_bytes(self.tag)[0] & _CONSTRUCTED_BIT)

    @property
    def header(self) -> bytes:
        """The stored tag and length bytes (everything in :attr:`raw` before the value)."""
        return self.raw[: len(self.raw) - len(self.value)]

    def children(self) -> list[Tlv]:
        """Parse the value as a sequence of TLVs (valid for constructed tags and, e.g., DF24)."""
        return Tlv.parse_all(self.value)

    # --- parsing ----------------------------------------------------------------------------

    @staticmethod
    def parse_header(data: bytes, offset: int = 0) -> TlvHeader:
        """Parse only the tag and length at ``offset``; the value may lie beyond ``data``."""
        tag, pos = _parse_tag(data, offset)
        length, pos = _parse_length(data, pos)
        return TlvHeader(tag=tag, length=length, header_length=pos - offset)

    @classmethod
    def parse_from(cls, data: bytes, offset: int = 0) -> tuple[Tlv, int]:
        """Parse one TLV at ``offset``; return it and the offset after it (trailing allowed)."""
        data = bytes(data)
        head = cls.parse_header(data, offset)
        start = offset + head.header_length
        end = start + head.length
        if end > len(data):
            raise BadResponseError(
                f"truncated TLV {head.tag:X}: needs {head.length} bytes, {len(data) - start} left"
            )
        return cls(head.tag, data[start:end], data[offset:end]), end

    @classmethod
    def parse(cls, data: bytes) -> Tlv:
        """Parse exactly one TLV; trailing bytes are an error."""
        tlv, end = cls.parse_from(data)
        if end != len(data):
            raise BadResponseError(f"{len(data) - end} trailing bytes after TLV {tlv.tag:X}")
        return tlv

    @classmethod
    def iter_parse(cls, data: bytes) -> Iterator[Tlv]:
        """Yield consecutive TLVs covering all of ``data``."""
        offset = 0
        while offset < len(data):
            tlv, offset = cls.parse_from(data, offset)
            yield tlv

    @classmethod
    def parse_all(cls, data: bytes) -> list[Tlv]:
        """Parse a sequence of TLVs covering all of ``data`` (empty data gives an empty list)."""
        return list(cls.iter_parse(bytes(data)))

    @classmethod
    def parse_dict(cls, data: bytes, *, expected: tuple[int, ...] | None = None) -> dict[int, Tlv]:
        """Parse a sequence into ``{tag: Tlv}``; duplicate tags and, if given, any tag order
        other than ``expected`` are errors (the card's records have a fixed layout)."""
        items = cls.parse_all(data)
        tags = tuple(t.tag for t in items)
        if len(set(tags)) != len(tags):
            raise BadResponseError("duplicate tag in TLV sequence")
        if expected is not None and tags != expected:
            got = " ".join(f"{t:X}" for t in tags)
            raise BadResponseError(f"unexpected TLV layout: {got}")
        return {t.tag: t for t in items}
