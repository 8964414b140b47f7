"""Record builders and strict parsers (spec §4.1, §4.2, §5.3, §6.3)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mynacard.errors import BadResponseError
from mynacard.pkcs1 import sha256_digest_info, sign_digest_info, verify_digest_info
from mynacard.records import (
    CARD_FACE_DIGEST_INFO_PREFIX,
    CERTIFICATE_HEADER_LENGTH,
    CardRsaKey,
    build_ap_basic_info,
    build_certificate_availability,
    build_token_info,
    format_key_id,
    make_key_id,
    parse_ap_basic_info,
    parse_card_face,
    parse_card_rsa_key,
    parse_certificate_availability,
    parse_certificate_length,
    parse_cv_certificate,
    parse_token_info,
    parse_token_label,
)
from mynacard.tests.conftest import CV_CA_ID, JP2_PHOTO, Pki, build_face
from mynacard.tlv import Tlv

# --- token info and EF 0008 -------------------------------------------------------------------


def test_token_info_layout_and_round_trip() -> None:
    raw = build_token_info(manufacturer_id="SIM", serial_number="0001")
    assert len(raw) == 160
    assert raw[:32] == b"JPKIAPICCTOKEN2" + b" " * 17  # space padding (§4.2)
    assert raw[96:100] == bytes.fromhex("0000040D")
    assert raw[116:124] == bytes.fromhex("00000010 00000006")
    assert raw[124:140] == b"\xff" * 16
    assert raw[140:144] == b"0301"
    info = parse_token_info(raw)
    assert (info.label, info.manufacturer_id, info.serial_number) == (
        "JPKIAPICCTOKEN2", "SIM", "0001",
    )
    assert (info.flags, info.max_pin_length, info.min_pin_length) == (0x40D, 16, 6)
    assert (info.hardware_version, info.firmware_version) == ("03", "01")


def test_token_label_trims_spaces_and_nul() -> None:
    assert parse_token_label(b"JPKIAPICCTOKEN2" + b" " * 17) == "JPKIAPICCTOKEN2"
    assert parse_token_label(b"JPKIAPICCTOKEN2" + b"\x00" * 17) == "JPKIAPICCTOKEN2"
    with pytest.raises(BadResponseError):
        parse_token_label(b"JPKI")
    with pytest.raises(BadResponseError):
        parse_token_label(b"\xe3\x83\x9e" + b" " * 29)


@pytest.mark.parametrize(
    ("raw", "sign", "auth"),
    [("8F8F00", True, True), ("008F00", False, True), ("8F0000", True, False)],
)
def test_certificate_availability(raw: str, sign: bool, auth: bool) -> None:
    parsed = parse_certificate_availability(bytes.fromhex(raw))
    assert (parsed.sign, parsed.auth) == (sign, auth)
    assert build_certificate_availability(sign=sign, auth=auth) == bytes.fromhex(raw)
    with pytest.raises(BadResponseError):
        parse_certificate_availability(bytes.fromhex(raw + "00"))


# --- keys and key IDs -------------------------------------------------------------------------


def test_key_id_format() -> None:
    raw = make_key_id("6000023/001")
    assert raw == b"6000023\x08\x05001\x00\x00\x00\x00"  # §5.3
    assert format_key_id(raw) == "6000023/001"
    assert format_key_id(b"x" * 16) == ("78" * 16).upper()
    with pytest.raises(ValueError):
        make_key_id("600002/001")


def test_card_rsa_key_encoding(pki: Pki) -> None:
    key = CardRsaKey.from_public_key(pki.card_key.public_key())
    encoded = key.encode()
    assert encoded[:9] == bytes.fromhex("9003010001 91820100")
    assert len(encoded) == 5 + 4 + 256
    assert parse_card_rsa_key(encoded) == key
    assert key.public_key().public_numbers() == pki.card_key.public_key().public_numbers()


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b[5:] + b[:5],  # 91 before 90
        lambda b: b[:5],  # no modulus
        lambda b: bytes.fromhex("900100") + b[5:],  # e = 0
        lambda b: b[:9] + b"\x00" + b[10:],  # modulus not 2048 bits
        lambda b: b[:-1] + bytes([b[-1] & 0xFE]),  # even modulus
    ],
)
def test_card_rsa_key_rejects_bad_keys(pki: Pki, mutate: Callable[[bytes], bytes]) -> None:
    encoded = CardRsaKey.from_public_key(pki.card_key.public_key()).encode()
    with pytest.raises(BadResponseError):
        parse_card_rsa_key(mutate(encoded))


# --- CV certificate ---------------------------------------------------------------------------


def test_cv_certificate_layout(pki: Pki) -> None:
    raw = pki.cv_certificate
    assert len(raw) == 568  # Go myna reads exactly 568 bytes (§5.3)
    assert raw[:10] == bytes.fromhex("7F21820233 5F4E820129")
    assert raw[10:26] == make_key_id(CV_CA_ID)
    assert raw[42:51] == bytes.fromhex("9003010001 91820100")
    assert raw[307:312] == bytes.fromhex("5F37820100")
    cert = parse_cv_certificate(raw)
    assert (cert.issuer, cert.subject) == (CV_CA_ID, "6100023/001")
    assert len(cert.body) == 297
    assert cert.key == CardRsaKey.from_public_key(pki.signer_key.public_key())
    assert cert.is_signed_by(pki.cv_ca_key.public_key())
    assert not cert.is_signed_by(pki.spare_key.public_key())


def test_cv_certificate_is_strict(pki: Pki) -> None:
    with pytest.raises(BadResponseError, match="trailing"):
        parse_cv_certificate(pki.cv_certificate + b"\xff")
    with pytest.raises(BadResponseError):
        parse_cv_certificate(b"\xff\x20" + pki.cv_certificate[2:])


def test_a_changed_body_byte_breaks_the_cv_signature(pki: Pki) -> None:
    raw = bytearray(pki.cv_certificate)
    raw[30] ^= 1  # inside the subject key ID
    assert not parse_cv_certificate(bytes(raw)).is_signed_by(pki.cv_ca_key.public_key())


# --- card face --------------------------------------------------------------------------------


def test_card_face_layout_offsets_and_fields(pki: Pki) -> None:
    raw = pki.card_face
    outer = Tlv.parse(raw)
    assert raw[:2] == bytes.fromhex("FF20") and raw[2] == 0x82
    entries = outer.children()
    assert [e.tag for e in entries] == list(range(0xDF21, 0xDF2B))
    offsets = [int.from_bytes(entries[0].value[i : i + 2], "big") for i in range(0, 18, 2)]
    # Offsets count from the start of the FILE (§6.3): 5-byte FF20 header + 21-byte DF21.
    assert offsets[0] == 26
    for offset, entry in zip(offsets, entries[1:], strict=True):
        assert raw[offset : offset + len(entry.raw)] == entry.raw
    face = parse_card_face(raw)
    assert face.birth_date == date(1985, 7, 23)
    assert face.expiry == date(2034, 7, 23)
    assert face.sex == "1"
    assert face.photo_jp2 == JP2_PHOTO
    assert face.card_key == CardRsaKey.from_public_key(pki.card_key.public_key())


def test_df28_signs_h1_h2_h3_of_the_stored_tlvs(pki: Pki) -> None:
    entries = {t.tag: t.raw for t in Tlv.parse(pki.card_face).children()}
    h1 = hashlib.sha256(entries[0xDF22] + entries[0xDF23] + entries[0xDF24]).digest()
    h2 = hashlib.sha256(entries[0xDF25] + entries[0xDF26]).digest()
    h3 = hashlib.sha256(entries[0xDF27]).digest()
    expected = bytes.fromhex("3071300d060960864801650304020105000460") + h1 + h2 + h3
    face = parse_card_face(pki.card_face)
    assert face.signed_digest_info == expected
    assert CARD_FACE_DIGEST_INFO_PREFIX + h1 + h2 + h3 == expected
    assert verify_digest_info(pki.signer_key.public_key(), entries[0xDF28][5:], expected)
    assert face.signature_valid(pki.signer_key.public_key())
    assert not face.signature_valid(pki.spare_key.public_key())


def test_card_face_allows_ff_filler_only(pki: Pki) -> None:
    assert parse_card_face(pki.card_face + b"\xff" * 40).photo_jp2 == JP2_PHOTO
    with pytest.raises(BadResponseError, match="filler"):
        parse_card_face(pki.card_face + b"\x00")


def test_expiry_and_security_code_are_outside_the_signature(pki: Pki) -> None:
    """DF29 and DF2A are not signed (§6.3): changing them keeps DF28 valid."""
    other = build_face(pki.signer_key, pki.card_key, expiry=date(2040, 1, 1))
    a, b = parse_card_face(pki.card_face), parse_card_face(other)
    assert a.signed_digest_info == b.signed_digest_info
    assert a.signature == b.signature


def test_a_changed_photo_byte_breaks_the_signature(pki: Pki) -> None:
    raw = bytearray(pki.card_face)
    raw[raw.index(JP2_PHOTO) + 100] ^= 0xFF
    face = parse_card_face(bytes(raw))
    assert not face.signature_valid(pki.signer_key.public_key())


def test_offset_table_must_match(pki: Pki) -> None:
    raw = bytearray(pki.card_face)
    raw[8] ^= 1  # first offset, inside DF21 (FF20 82 hh ll DF21 12 <here>)
    with pytest.raises(BadResponseError, match="DF21"):
        parse_card_face(bytes(raw))


def test_small_card_face_uses_one_byte_outer_length() -> None:
    """Builder keeps offsets right whatever the outer header size (1-byte length < 128)."""
    from mynacard.tests.conftest import new_key

    key = new_key()
    # Even the smallest record holds a 265-byte key and a 256-byte signature, so the outer
    # length is always 82 hh ll on a real card; the offsets must still start at 5 + 21.
    raw = build_face(key, key, name_png=b"", address_png=b"", photo_jp2=b"", security_code_png=b"")
    assert raw[2] == 0x82
    assert parse_card_face(raw).photo_jp2 == b""


@pytest.mark.parametrize(
    ("tag", "value"),
    [(0xDF22, b"19850231"), (0xDF22, b"1985072X"), (0xDF23, b"3"), (0xDF29, b"2034")],
)
def test_card_face_rejects_bad_fields(pki: Pki, tag: int, value: bytes) -> None:
    entries = {t.tag: t for t in Tlv.parse(pki.card_face).children()}
    entries[tag] = Tlv(tag, value)
    # Rebuild with correct offsets so that only the field itself is wrong.
    order = list(range(0xDF22, 0xDF2B))
    position = 5 + 21
    table = b""
    for t in order:
        table += position.to_bytes(2, "big")
        position += len(entries[t].raw)
    body = Tlv(0xDF21, table).raw + b"".join(entries[t].raw for t in order)
    with pytest.raises(BadResponseError):
        parse_card_face(Tlv(0xFF20, body).raw)


# --- PKCS#1 raw helpers -----------------------------------------------------------------------


def test_raw_signature_equals_standard_sha256_with_rsa(pki: Pki) -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    message = b"myna"
    digest_info = sha256_digest_info(hashlib.sha256(message).digest())
    ours = sign_digest_info(pki.spare_key, digest_info)
    # PKCS#1 v1.5 is deterministic: the same bytes as the library's sha256WithRSA.
    assert ours == pki.spare_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(ValueError):
        sign_digest_info(pki.spare_key, bytes(246))
    with pytest.raises(ValueError):
        sha256_digest_info(bytes(31))
    assert not verify_digest_info(pki.spare_key.public_key(), ours[:-1], digest_info)


# --- DER certificate length (§4.5) ------------------------------------------------------------


def test_certificate_length_from_the_30_82_header() -> None:
    assert CERTIFICATE_HEADER_LENGTH == 4
    assert parse_certificate_length(bytes.fromhex("30820345")) == 0x345 + 4
    assert parse_certificate_length(bytes.fromhex("3082FFFF")) == 0xFFFF + 4
    assert parse_certificate_length(bytes.fromhex("30820100")) == 0x104


@pytest.mark.parametrize(
    "header",
    [
        "31820345",  # not a SEQUENCE
        "308103AA",  # 81 form: too short for an RSA-2048 certificate
        "308200FF",  # 82 form for < 256 is not minimal DER
        "30820000",
        "30820345FF",  # not exactly 4 bytes
        "308203",
        "",
    ],
)
def test_certificate_length_rejects(header: str) -> None:
    with pytest.raises(BadResponseError):
        parse_certificate_length(bytes.fromhex(header))


def test_a_real_certificate_header_gives_its_size(pki: Pki) -> None:
    der = pki.ee_cert.public_bytes(Encoding.DER)
    assert parse_certificate_length(der[:4]) == len(der)


# --- 入力補助AP basic info EF 0005 (§5.3) ---------------------------------------------------------


def test_ap_basic_info_layout_and_round_trip() -> None:
    raw = build_ap_basic_info(key_id=make_key_id("9000034/001"), reserved=bytes(32) + b"\xff" * 96)
    assert raw[:5] == bytes.fromhex("FF4082009F")  # the §5.3 header: 82 form for 159 bytes
    assert raw[5:12] == bytes.fromhex("DF410401030E01")
    assert bytes.fromhex("DF438200") in raw  # DF43's 128 bytes use 82 00 80 (§5.3)
    info = parse_ap_basic_info(raw + b"\xff" * 40)
    assert (info.spec_version, info.extended_length_flag, info.vendor_id, info.vendor_byte) == (
        1, 3, 0x0E, 1,
    )
    assert info.extended_length
    assert format_key_id(info.key_id) == "9000034/001"
    assert len(info.reserved) == 128
    no_extended = build_ap_basic_info(
        version=bytes.fromhex("01000E01"), key_id=bytes(16), reserved=bytes(128)
    )
    assert not parse_ap_basic_info(no_extended).extended_length


@pytest.mark.parametrize(
    "mutate",
    [
        lambda raw: raw[:-1],  # truncated
        lambda raw: raw + b"\x00",  # trailing non-filler
        lambda raw: bytes.fromhex("FF30") + raw[2:],  # another record's tag
        lambda raw: raw[:5] + bytes.fromhex("DF4203") + raw[8:],  # DF41 renamed: wrong layout
    ],
)
def test_ap_basic_info_is_strict(mutate: Callable[[bytes], bytes]) -> None:
    raw = build_ap_basic_info(key_id=bytes(16), reserved=bytes(128))
    with pytest.raises(BadResponseError):
        parse_ap_basic_info(mutate(raw))


@pytest.mark.parametrize(("df41", "df42", "df43"), [(3, 16, 128), (4, 15, 128), (4, 16, 127)])
def test_ap_basic_info_field_sizes(df41: int, df42: int, df43: int) -> None:
    body = Tlv.build(
        0xFF40, Tlv(0xDF41, bytes(df41)), Tlv(0xDF42, bytes(df42)), Tlv(0xDF43, bytes(df43))
    )
    with pytest.raises(BadResponseError):
        parse_ap_basic_info(body.raw)


# --- every parser, random and mutated input ----------------------------------------------------

PARSERS: list[Callable[[bytes], object]] = [
    parse_card_face,
    parse_cv_certificate,
    parse_token_info,
    parse_token_label,
    parse_certificate_availability,
    parse_card_rsa_key,
    parse_certificate_length,
    parse_ap_basic_info,
]


@pytest.mark.parametrize("parser", PARSERS, ids=lambda p: p.__name__)
@given(data=st.binary(max_size=700))
def test_random_bytes_raise_only_bad_response(
    parser: Callable[[bytes], object], data: bytes
) -> None:
    try:
        parser(data)
    except BadResponseError:
        pass


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=150)
@given(data=st.data())
def test_mutated_records_raise_only_bad_response(pki: Pki, data: st.DataObject) -> None:
    key_tlvs = CardRsaKey.from_public_key(pki.spare_key.public_key()).encode()
    parser, sample = data.draw(
        st.sampled_from(
            [
                (parse_card_face, pki.card_face),
                (parse_cv_certificate, pki.cv_certificate),
                (parse_token_info, build_token_info()),
                (parse_certificate_availability, build_certificate_availability()),
                (parse_card_rsa_key, key_tlvs),
                (parse_token_label, build_token_info()[:32]),
                (parse_certificate_length, pki.ee_cert.public_bytes(Encoding.DER)[:4]),
                (parse_ap_basic_info, build_ap_basic_info(key_id=bytes(16), reserved=bytes(128))),
            ]
        )
    )
    mutated = bytearray(sample)
    # Half the mutations hit a tag or length byte, where a parser's structure checks live; the
    # rest land anywhere (most of a card face is photo bytes, which no check looks at).
    structural = _header_offsets(bytes(sample))
    for _ in range(data.draw(st.integers(1, 4))):
        at_header: bool = data.draw(st.booleans())
        if structural and at_header:
            index = data.draw(st.sampled_from(structural))
        else:
            index = data.draw(st.integers(0, len(mutated) - 1))
        mutated[index] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(mutated)))
    if data.draw(st.booleans()):
        mutated = mutated[:cut]
    try:
        parser(bytes(mutated))
    except BadResponseError:
        pass


def _header_offsets(data: bytes) -> list[int]:
    """Offsets of every tag and length byte in a TLV record, nested ones included, and of the
    card face's DF21 offset table."""
    offsets: list[int] = []

    def walk(start: int, end: int) -> None:
        position = start
        while position < end:
            try:
                tlv, after = Tlv.parse_from(data[:end], position)
            except BadResponseError:
                return
            header = len(tlv.header)
            offsets.extend(range(position, position + header))
            if tlv.tag == 0xDF21:  # the card face's offset table is structure as well
                offsets.extend(range(position + header, after))
            if tlv.constructed or tlv.tag in (0xDF24, 0x5F4E):  # DF24 / 5F4E hold TLVs too
                walk(position + header, after)
            position = after

    walk(0, len(data))
    return offsets
