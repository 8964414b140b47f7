"""Builders and parsers for the card's data records.

* JPKI token info EF 0006 (spec §4.2) and certificate availability EF 0008 (§4.1);
* the RSA public-key TLVs ``90``/``91`` used in DF24 and the CV certificate (§5.3, §6.3);
* the length of a DER certificate from its ``30 82 LL LL`` header (§4.5 step 3);
* the card-verifiable (CV) certificate ``7F21`` (§5.3), with its 16-byte key IDs;
* the 入力補助AP's AP basic info EF 0005 ``FF40`` (§5.3) — the free record that says whether the
  card takes extended Lc/Le; its CV certificate EF 0004 is the same ``7F21`` format. The AP's
  other EFs (0001 My Number, 0002 基本4情報, 0003, 0007) open only with its PIN or 照合番号A/B,
  which this project never asks for, so no session reads them and they get no parser;
* the 券面AP card-face record EF 0002 ``FF20`` (§6.3) and the DF28 H1‖H2‖H3 DigestInfo.

Builders produce byte-exact records (the simulator stores them); parsers are strict and raise
only :class:`~mynacard.errors.BadResponseError`.
"""

from __future__ import annotations

import hashlib
import logging
import re
import struct
from dataclasses import dataclass
from datetime import date

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mynacard.errors import BadResponseError
from mynacard.pkcs1 import sign_digest_info, verify_digest_info
from mynacard.tlv import Tlv

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------
# Token info, EF 0006 (§4.2)
# --------------------------------------------------------------------------------------------

TOKEN_LABEL_LENGTH = 32
TOKEN_INFO_LENGTH = 160
#: Labels seen in the wild (§4.2).
LABEL_MY_NUMBER_CARD = "JPKIAPICCTOKEN2"
LABEL_JUKI_CARD = "JPKIAPICCTOKEN"
LABEL_ANDROID = "JPKIAPGPSETOKEN"
LABEL_IOS = "JPKIAPIOSTOKEN"
# CK_TOKEN_INFO with 32-bit big-endian integers (§4.2 table): 32s 32s 16s 16s, 11 × u32, 2s 2s 16s.
_TOKEN_STRUCT = struct.Struct(">32s32s16s16s11I2s2s16s")


def _text_field(raw: bytes, what: str) -> str:
    """Space- or NUL-padded printable ASCII (real cards pad with spaces, dummies with NUL, §4.2)."""
    text = raw.rstrip(b" \x00")
    if not all(0x20 <= b < 0x7F for b in text):
        raise BadResponseError(f"token {what} is not printable ASCII")
    return text.decode("ascii")


def _pad_text(value: str, size: int) -> bytes:
    raw = value.encode("ascii")
    if len(raw) > size:
        raise ValueError(f"{value!r} is longer than {size} bytes")
    return raw.ljust(size, b" ")


def parse_token_label(data: bytes) -> str:
    """The label from the first 32 bytes of EF 0006 (what §12 reads to recognise the card)."""
    if len(data) != TOKEN_LABEL_LENGTH:
        raise BadResponseError(f"token label is {TOKEN_LABEL_LENGTH} bytes, got {len(data)}")
    return _text_field(data, "label")


@dataclass(frozen=True)
class TokenInfo:
    """JPKI token information, a PKCS#11 CK_TOKEN_INFO (§4.2)."""

    label: str
    manufacturer_id: str
    model: str
    serial_number: str
    flags: int
    max_pin_length: int
    min_pin_length: int
    hardware_version: str
    firmware_version: str


def parse_token_info(data: bytes) -> TokenInfo:
    """Parse the full 160-byte EF 0006."""
    if len(data) != TOKEN_INFO_LENGTH:
        raise BadResponseError(f"token info is {TOKEN_INFO_LENGTH} bytes, got {len(data)}")
    fields = _TOKEN_STRUCT.unpack(data)
    label, manufacturer, model, serial = fields[0:4]
    flags, max_pin, min_pin = fields[4], fields[9], fields[10]
    hw, fw = fields[15], fields[16]
    return TokenInfo(
        label=_text_field(label, "label"),
        manufacturer_id=_text_field(manufacturer, "manufacturer"),
        model=_text_field(model, "model"),
        serial_number=_text_field(serial, "serial"),
        flags=flags,
        max_pin_length=max_pin,
        min_pin_length=min_pin,
        hardware_version=_text_field(hw, "hardware version"),
        firmware_version=_text_field(fw, "firmware version"),
    )


def build_token_info(
    *,
    label: str = LABEL_MY_NUMBER_CARD,
    manufacturer_id: str = "",
    model: str = "E16R01NJ",
    serial_number: str = "",
    flags: int = 0x0000040D,
    max_pin_length: int = 16,
    min_pin_length: int = 6,
    hardware_version: str = "03",
    firmware_version: str = "01",
) -> bytes:
    """EF 0006 as a card stores it: space-padded text, session counts 1/0/1/0, memory FFFFFFFF."""
    unavailable = 0xFFFFFFFF
    return _TOKEN_STRUCT.pack(
        _pad_text(label, 32),
        _pad_text(manufacturer_id, 32),
        _pad_text(model, 16),
        _pad_text(serial_number, 16),
        flags,
        1,
        0,
        1,
        0,
        max_pin_length,
        min_pin_length,
        unavailable,
        unavailable,
        unavailable,
        unavailable,
        _pad_text(hardware_version, 2),
        _pad_text(firmware_version, 2),
        b" " * 16,
    )


# --------------------------------------------------------------------------------------------
# Certificate availability, EF 0008 (§4.1)
# --------------------------------------------------------------------------------------------

CERT_AVAILABILITY_LENGTH = 3
_CERT_PRESENT = 0x8F


@dataclass(frozen=True)
class CertificateAvailability:
    """Which JPKI certificates the card holds (EF 0008: byte 0 sign, byte 1 auth; ``8F`` = yes)."""

    sign: bool
    auth: bool


def parse_certificate_availability(data: bytes) -> CertificateAvailability:
    """Parse the 3 bytes of EF 0008 (``8F 8F 00`` = both certificates present)."""
    if len(data) != CERT_AVAILABILITY_LENGTH:
        raise BadResponseError(f"EF 0008 is 3 bytes, got {len(data)}")
    return CertificateAvailability(sign=data[0] == _CERT_PRESENT, auth=data[1] == _CERT_PRESENT)


def build_certificate_availability(*, sign: bool = True, auth: bool = True) -> bytes:
    """EF 0008; an absent certificate (e.g. no sign cert for under-15s, §9) is written as 00."""
    return bytes([_CERT_PRESENT if sign else 0, _CERT_PRESENT if auth else 0, 0])


# --------------------------------------------------------------------------------------------
# DER certificate length, JPKI EF 000A / 000B / 0001 / 0002 (§4.5)
# --------------------------------------------------------------------------------------------

#: An RSA-2048 certificate is 1–2 KB, so its DER header is always ``30 82 LL LL`` (§4.5 step 3).
CERTIFICATE_HEADER_LENGTH = 4
_DER_SEQUENCE_TWO_BYTE_LENGTH = b"\x30\x82"
#: DER lengths are minimal: the ``82 hh ll`` form only encodes 256 and above (X.690 §10.1).
_DER_MIN_TWO_BYTE_LENGTH = 0x100


def parse_certificate_length(header: bytes) -> int:
    """Total size (header included) of the DER certificate whose first 4 bytes are ``header``.

    Only ``30 82 LL LL`` with a minimal length is accepted: the EF holds the certificate followed
    by ``FF`` filler (§4.5 step 5), so this length is what the read is truncated to.
    """
    if len(header) != CERTIFICATE_HEADER_LENGTH:
        raise BadResponseError(f"certificate header is 4 bytes, got {len(header)}")
    if header[:2] != _DER_SEQUENCE_TWO_BYTE_LENGTH:
        raise BadResponseError("certificate EF does not start with 30 82 (a DER SEQUENCE)")
    length = int.from_bytes(header[2:4], "big")
    if length < _DER_MIN_TWO_BYTE_LENGTH:
        raise BadResponseError("certificate length is not in minimal DER form")
    return CERTIFICATE_HEADER_LENGTH + length


# --------------------------------------------------------------------------------------------
# RSA public key TLVs 90 / 91 (§5.3, §6.3)
# --------------------------------------------------------------------------------------------

TAG_RSA_EXPONENT = 0x90
TAG_RSA_MODULUS = 0x91
RSA_MODULUS_BYTES = 256  # RSA-2048 everywhere on this card (§4.6, §5.3)


@dataclass(frozen=True)
class CardRsaKey:
    """An RSA-2048 public key as the card stores it: ``90 <e>`` ``91 82 01 00 <n>``."""

    modulus: int
    exponent: int

    def public_key(self) -> rsa.RSAPublicKey:
        """The key as a ``cryptography`` object."""
        return rsa.RSAPublicNumbers(self.exponent, self.modulus).public_key()

    @classmethod
    def from_public_key(cls, key: rsa.RSAPublicKey) -> CardRsaKey:
        """Take ``n`` and ``e`` from a ``cryptography`` key (must be RSA-2048)."""
        numbers = key.public_numbers()
        if numbers.n.bit_length() != RSA_MODULUS_BYTES * 8:
            raise ValueError("the card holds RSA-2048 keys only")
        return cls(modulus=numbers.n, exponent=numbers.e)

    def encode(self) -> bytes:
        """The two TLVs, e.g. ``90 03 01 00 01 91 82 01 00 <256 B>`` (DF24 value, §6.3)."""
        e = self.exponent.to_bytes((self.exponent.bit_length() + 7) // 8, "big")
        n = self.modulus.to_bytes(RSA_MODULUS_BYTES, "big")
        return Tlv(TAG_RSA_EXPONENT, e).raw + Tlv(TAG_RSA_MODULUS, n).raw


def parse_card_rsa_key(data: bytes) -> CardRsaKey:
    """Parse ``90 <e> 91 <n>`` (exactly these two, in this order) into a usable RSA-2048 key."""
    items = Tlv.parse_dict(data, expected=(TAG_RSA_EXPONENT, TAG_RSA_MODULUS))
    e_raw, n_raw = items[TAG_RSA_EXPONENT].value, items[TAG_RSA_MODULUS].value
    if not 1 <= len(e_raw) <= 8 or e_raw[0] == 0:
        raise BadResponseError("bad RSA exponent encoding")
    if len(n_raw) != RSA_MODULUS_BYTES or not n_raw[0] & 0x80:
        raise BadResponseError("RSA modulus is not 2048 bits")
    key = CardRsaKey(modulus=int.from_bytes(n_raw, "big"), exponent=int.from_bytes(e_raw, "big"))
    # An RSA modulus and public exponent are odd, and e ≥ 3 (RFC 8017 §3.1).
    if not key.modulus & 1 or not key.exponent & 1 or key.exponent < 3:
        raise BadResponseError("not an RSA public key (even modulus or bad exponent)")
    try:
        key.public_key()  # rejects an even modulus, e < 3, an even e, ...
    except ValueError as exc:
        raise BadResponseError(f"unusable RSA public key: {exc}") from exc
    return key


# --------------------------------------------------------------------------------------------
# CV certificate 7F21 (§5.3; same format in the visual AP EF 0004)
# --------------------------------------------------------------------------------------------

TAG_CV_CERTIFICATE = 0x7F21
TAG_CV_BODY = 0x5F4E
TAG_CV_SIGNATURE = 0x5F37
KEY_ID_LENGTH = 16
_KEY_ID_SEPARATOR = b"\x08\x05"
KEY_ID_PATTERN = re.compile(r"^(\d{7})/(\d{3})$")


def make_key_id(name: str) -> bytes:
    """16-byte key ID from ``"6000023/001"``: 7 digits, ``08 05``, 3 digits, 4 × ``00`` (§5.3)."""
    match = KEY_ID_PATTERN.match(name)
    if match is None:
        raise ValueError(f"key ID must look like 6000023/001, not {name!r}")
    raw = match.group(1).encode() + _KEY_ID_SEPARATOR + match.group(2).encode()
    return raw.ljust(KEY_ID_LENGTH, b"\x00")


def format_key_id(raw: bytes) -> str:
    """``"6000023/001"`` for a well-formed key ID; upper-case hex of the 16 bytes otherwise."""
    if len(raw) == KEY_ID_LENGTH and raw[7:9] == _KEY_ID_SEPARATOR and raw[12:] == bytes(4):
        head, tail = raw[:7], raw[9:12]
        if head.isdigit() and tail.isdigit():
            return f"{head.decode()}/{tail.decode()}"
    return raw.hex().upper()


@dataclass(frozen=True)
class CvCertificate:
    """A card-verifiable certificate: who certified which RSA key, and the signature (§5.3)."""

    issuer_key_id: bytes  # 証明者鍵ID, 16 bytes
    subject_key_id: bytes  # 被証明者鍵ID, 16 bytes
    key: CardRsaKey
    body: bytes  # the 297-byte 5F4E value, which the signature covers
    signature: bytes  # 5F37 value

    @property
    def issuer(self) -> str:
        """The issuer key ID as text, the key of ``TrustAnchors.cv_ca_keys``."""
        return format_key_id(self.issuer_key_id)

    @property
    def subject(self) -> str:
        """The subject key ID as text."""
        return format_key_id(self.subject_key_id)

    def is_signed_by(self, ca_key: rsa.RSAPublicKey) -> bool:
        """True when 5F37 is PKCS#1 v1.5 SHA-256 over the 5F4E value under ``ca_key`` (§5.3)."""
        try:
            ca_key.verify(self.signature, self.body, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return False
        return True


def build_cv_certificate(
    *,
    issuer_key_id: bytes,
    subject_key_id: bytes,
    public_key: rsa.RSAPublicKey,
    issuer_private_key: rsa.RSAPrivateKey,
) -> bytes:
    """A ``7F21`` TLV (568 bytes for RSA-2048 keys) certifying ``public_key``."""
    for key_id in (issuer_key_id, subject_key_id):
        if len(key_id) != KEY_ID_LENGTH:
            raise ValueError("key IDs are 16 bytes (use make_key_id)")
    body = issuer_key_id + subject_key_id + CardRsaKey.from_public_key(public_key).encode()
    signature = issuer_private_key.sign(body, padding.PKCS1v15(), hashes.SHA256())
    return Tlv.build(
        TAG_CV_CERTIFICATE, Tlv(TAG_CV_BODY, body), Tlv(TAG_CV_SIGNATURE, signature)
    ).raw


def parse_cv_certificate(data: bytes) -> CvCertificate:
    """Parse exactly one ``7F21`` TLV (no trailing bytes; sessions truncate EF filler)."""
    outer = Tlv.parse(data)
    if outer.tag != TAG_CV_CERTIFICATE:
        raise BadResponseError(f"expected a 7F21 CV certificate, got tag {outer.tag:X}")
    parts = Tlv.parse_dict(outer.value, expected=(TAG_CV_BODY, TAG_CV_SIGNATURE))
    body = parts[TAG_CV_BODY].value
    signature = parts[TAG_CV_SIGNATURE].value
    if len(body) < 2 * KEY_ID_LENGTH:
        raise BadResponseError("CV certificate body too short for its key IDs")
    if len(signature) != RSA_MODULUS_BYTES:
        raise BadResponseError("CV certificate signature is not 256 bytes")
    return CvCertificate(
        issuer_key_id=body[:KEY_ID_LENGTH],
        subject_key_id=body[KEY_ID_LENGTH : 2 * KEY_ID_LENGTH],
        key=parse_card_rsa_key(body[2 * KEY_ID_LENGTH :]),
        body=body,
        signature=signature,
    )


# --------------------------------------------------------------------------------------------
# 入力補助AP basic info, EF 0005 (§5.3)
# --------------------------------------------------------------------------------------------

TAG_AP_BASIC_INFO = 0xFF40
TAG_AP_VERSION = 0xDF41
TAG_AP_KEY_ID = 0xDF42
TAG_AP_RESERVED = 0xDF43
_AP_VERSION_LENGTH = 4
_AP_RESERVED_LENGTH = 128


@dataclass(frozen=True)
class ApBasicInfo:
    """EF 0005 of the 入力補助AP: ``FF40 { DF41 04, DF42 10, DF43 80 }`` (§5.3)."""

    spec_version: int  # DF41 byte 0
    extended_length_flag: int  # DF41 byte 1: myna-card reads it as "extended Lc/Le" [S] (§5.3)
    vendor_id: int  # DF41 byte 2
    vendor_byte: int  # DF41 byte 3
    key_id: bytes  # DF42, 16 bytes (not the EF 0004 subject key, §5.3)
    reserved: bytes  # DF43, 128 bytes, purpose unknown

    @property
    def extended_length(self) -> bool:
        """True when the card says it takes extended Lc/Le. Even then, many USB readers do not
        pass extended APDUs (§1), so sessions stay short unless the caller opts in."""
        return self.extended_length_flag != 0


def build_ap_basic_info(
    *, version: bytes = bytes.fromhex("01030E01"), key_id: bytes, reserved: bytes
) -> bytes:
    """EF 0005 as stored: ``FF 40 82 00 9F`` — 159 bytes of value, so the ``82`` form (§5.3)."""
    if len(version) != _AP_VERSION_LENGTH or len(key_id) != KEY_ID_LENGTH:
        raise ValueError("DF41 is 4 bytes and DF42 16 bytes")
    if len(reserved) != _AP_RESERVED_LENGTH:
        raise ValueError("DF43 is 128 bytes")
    return Tlv.build(
        TAG_AP_BASIC_INFO,
        Tlv(TAG_AP_VERSION, version),
        Tlv(TAG_AP_KEY_ID, key_id),
        Tlv(TAG_AP_RESERVED, reserved),
    ).raw


def parse_ap_basic_info(data: bytes) -> ApBasicInfo:
    """Parse EF 0005 (one FF40 TLV; trailing ``FF`` filler allowed) with the §5.3 layout."""
    outer, end = Tlv.parse_from(data)
    if outer.tag != TAG_AP_BASIC_INFO:
        raise BadResponseError(f"expected FF40 AP basic info, got tag {outer.tag:X}")
    if bytes(data[end:]).strip(b"\xff"):
        raise BadResponseError("bytes other than FF filler after the AP basic info")
    items = Tlv.parse_dict(
        outer.value, expected=(TAG_AP_VERSION, TAG_AP_KEY_ID, TAG_AP_RESERVED)
    )
    version = items[TAG_AP_VERSION].value
    if len(version) != _AP_VERSION_LENGTH:
        raise BadResponseError("DF41 is not 4 bytes")
    if len(items[TAG_AP_KEY_ID].value) != KEY_ID_LENGTH:
        raise BadResponseError("DF42 key ID is not 16 bytes")
    if len(items[TAG_AP_RESERVED].value) != _AP_RESERVED_LENGTH:
        raise BadResponseError("DF43 is not 128 bytes")
    return ApBasicInfo(
        spec_version=version[0],
        extended_length_flag=version[1],
        vendor_id=version[2],
        vendor_byte=version[3],
        key_id=items[TAG_AP_KEY_ID].value,
        reserved=items[TAG_AP_RESERVED].value,
    )


# --------------------------------------------------------------------------------------------
# Card face, 券面AP EF 0002 (§6.3)
# --------------------------------------------------------------------------------------------

TAG_CARD_FACE = 0xFF20
TAG_OFFSETS = 0xDF21
TAG_BIRTH_DATE = 0xDF22
TAG_SEX = 0xDF23
TAG_CARD_KEY = 0xDF24
TAG_NAME_IMAGE = 0xDF25
TAG_ADDRESS_IMAGE = 0xDF26
TAG_PHOTO = 0xDF27
TAG_FACE_SIGNATURE = 0xDF28
TAG_EXPIRY = 0xDF29
TAG_SECURITY_CODE_IMAGE = 0xDF2A
#: The entries the offset table DF21 points at, in file order.
_INDEXED_TAGS = tuple(range(TAG_BIRTH_DATE, TAG_SECURITY_CODE_IMAGE + 1))
_CARD_FACE_LAYOUT = (TAG_OFFSETS, *_INDEXED_TAGS)
#: DER DigestInfo header, SHA-256 OID, for the 96-byte H1‖H2‖H3 (§6.3).
CARD_FACE_DIGEST_INFO_PREFIX = bytes.fromhex("3071300d060960864801650304020105000460")
JP2_SIGNATURE = bytes.fromhex("0000000c6a5020200d0a870a")  # JP2 signature box (§6.3)
_SEX_CODES = frozenset("0129")


@dataclass(frozen=True)
class CardFace:
    """The parsed card-face record; ``signed_digest_info`` is what DF28 must sign."""

    birth_date: date
    sex: str  # "1" male, "2" female, "9" not applicable, "0" unknown (ISO 5218)
    card_key: CardRsaKey  # DF24, the AP's own card key (signs with 80 2A 00 00)
    name_png: bytes
    address_png: bytes
    photo_jp2: bytes
    signature: bytes  # DF28
    expiry: date  # DF29, not covered by the signature
    security_code_png: bytes  # DF2A, not covered by the signature
    signed_digest_info: bytes

    def signature_valid(self, issuer_key: rsa.RSAPublicKey) -> bool:
        """True when DF28 is the issuer's signature over H1‖H2‖H3 under ``issuer_key``."""
        return verify_digest_info(issuer_key, self.signature, self.signed_digest_info)


def card_face_digest_info(tlvs: dict[int, bytes]) -> bytes:
    """DigestInfo over H1‖H2‖H3 from DF22..DF27 *as stored*, header included (§6.3).

    H1 = SHA-256(DF22 ‖ DF23 ‖ DF24), H2 = SHA-256(DF25 ‖ DF26), H3 = SHA-256(DF27).
    """
    groups = (
        (TAG_BIRTH_DATE, TAG_SEX, TAG_CARD_KEY),
        (TAG_NAME_IMAGE, TAG_ADDRESS_IMAGE),
        (TAG_PHOTO,),
    )
    digests = b"".join(
        hashlib.sha256(b"".join(tlvs[t] for t in group)).digest() for group in groups
    )
    return CARD_FACE_DIGEST_INFO_PREFIX + digests


def _ascii_date(raw: bytes, what: str) -> date:
    """``"YYYYMMDD"`` (Gregorian, §6.3 DF22/DF29) as a date."""
    if len(raw) != 8 or not raw.isdigit():
        raise BadResponseError(f"{what} is not 8 ASCII digits")
    try:
        return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError as exc:
        raise BadResponseError(f"{what} is not a calendar date") from exc


def build_card_face(
    *,
    birth_date: date,
    sex: str,
    card_public_key: rsa.RSAPublicKey,
    name_png: bytes,
    address_png: bytes,
    photo_jp2: bytes,
    expiry: date,
    security_code_png: bytes,
    issuer_private_key: rsa.RSAPrivateKey,
) -> bytes:
    """EF 0002 without filler: ``FF20 { DF21 offsets, DF22..DF2A }``, DF28 signed by the
    key that the AP's CV certificate certifies (``issuer_private_key``)."""
    if sex not in _SEX_CODES:
        raise ValueError("sex is one of '0', '1', '2', '9' (ISO 5218)")
    entries = {
        TAG_BIRTH_DATE: Tlv(TAG_BIRTH_DATE, birth_date.strftime("%Y%m%d").encode()).raw,
        TAG_SEX: Tlv(TAG_SEX, sex.encode()).raw,
        TAG_CARD_KEY: Tlv(TAG_CARD_KEY, CardRsaKey.from_public_key(card_public_key).encode()).raw,
        TAG_NAME_IMAGE: Tlv(TAG_NAME_IMAGE, name_png).raw,
        TAG_ADDRESS_IMAGE: Tlv(TAG_ADDRESS_IMAGE, address_png).raw,
        TAG_PHOTO: Tlv(TAG_PHOTO, photo_jp2).raw,
    }
    signature = sign_digest_info(issuer_private_key, card_face_digest_info(entries))
    entries[TAG_FACE_SIGNATURE] = Tlv(TAG_FACE_SIGNATURE, signature).raw
    entries[TAG_EXPIRY] = Tlv(TAG_EXPIRY, expiry.strftime("%Y%m%d").encode()).raw
    entries[TAG_SECURITY_CODE_IMAGE] = Tlv(TAG_SECURITY_CODE_IMAGE, security_code_png).raw

    offsets_tlv_length = 3 + 2 * len(_INDEXED_TAGS)  # DF 21 12 <18 bytes>
    content_length = offsets_tlv_length + sum(len(v) for v in entries.values())
    outer_header = len(Tlv(TAG_CARD_FACE, bytes(content_length)).header)
    # DF21 holds each entry's offset from the start of the FILE (§6.3), so it depends on the
    # outer header's size, which depends on the total length computed above.
    position = outer_header + offsets_tlv_length
    offsets = bytearray()
    for tag in _INDEXED_TAGS:
        offsets += position.to_bytes(2, "big")
        position += len(entries[tag])
    body = Tlv(TAG_OFFSETS, bytes(offsets)).raw + b"".join(entries[t] for t in _INDEXED_TAGS)
    return Tlv(TAG_CARD_FACE, body).raw


def parse_card_face(data: bytes) -> CardFace:
    """Parse EF 0002: exactly one FF20 TLV (trailing ``FF`` filler allowed) with the §6.3
    layout, an offset table that matches the entries, and well-formed fields."""
    outer, end = Tlv.parse_from(data)
    if outer.tag != TAG_CARD_FACE:
        raise BadResponseError(f"expected an FF20 card face, got tag {outer.tag:X}")
    if data[end:].strip(b"\xff"):
        raise BadResponseError("bytes other than FF filler after the card face")
    items = Tlv.parse_dict(outer.value, expected=_CARD_FACE_LAYOUT)
    table = items[TAG_OFFSETS].value
    if len(table) != 2 * len(_INDEXED_TAGS):
        raise BadResponseError("DF21 offset table has the wrong size")
    position = len(outer.header) + len(items[TAG_OFFSETS].raw)
    for i, tag in enumerate(_INDEXED_TAGS):
        if int.from_bytes(table[2 * i : 2 * i + 2], "big") != position:
            raise BadResponseError(f"DF21 offset of {tag:X} does not match the record")
        position += len(items[tag].raw)
    sex = items[TAG_SEX].value
    if len(sex) != 1 or chr(sex[0]) not in _SEX_CODES:
        raise BadResponseError("DF23 is not an ISO 5218 sex code")
    signature = items[TAG_FACE_SIGNATURE].value
    if len(signature) != RSA_MODULUS_BYTES:
        raise BadResponseError("DF28 signature is not 256 bytes")
    return CardFace(
        birth_date=_ascii_date(items[TAG_BIRTH_DATE].value, "DF22 birth date"),
        sex=sex.decode("ascii"),
        card_key=parse_card_rsa_key(items[TAG_CARD_KEY].value),
        name_png=items[TAG_NAME_IMAGE].value,
        address_png=items[TAG_ADDRESS_IMAGE].value,
        photo_jp2=items[TAG_PHOTO].value,
        signature=signature,
        expiry=_ascii_date(items[TAG_EXPIRY].value, "DF29 expiry"),
        security_code_png=items[TAG_SECURITY_CODE_IMAGE].value,
        signed_digest_info=card_face_digest_info({t: items[t].raw for t in items}),
    )
