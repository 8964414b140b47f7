"""The simulated card at the APDU level: status words per situation (spec §4.4, §8, §11)."""

from __future__ import annotations

import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mynacard.constants import SW, retry_counter
from mynacard.pins import PinKind
from mynacard.records import (
    parse_card_face,
    parse_card_rsa_key,
    parse_cv_certificate,
    parse_token_label,
)
from mynacard.sim import (
    CardPoweredOffError,
    SimOptions,
    SimulatedCard,
    SimulatedConnection,
    demo_profile,
)
from mynacard.sim.command import MalformedApduError, parse_command
from mynacard.tlv import Tlv

JPKI = "D392F000260100000001"
VISUAL = "D3921000310001010402"
TEXT = "D3921000310001010408"
JUKI = "D3921000310001010401"
PIN_B = b"60072320344821"
DIGEST_INFO = (
    bytes.fromhex("3031300d060960864801650304020105000420")
    + hashlib.sha256(b"server nonce").digest()
)


@pytest.fixture
def card() -> SimulatedCard:
    return SimulatedCard(demo_profile())


def tx(card: SimulatedCard, hex_apdu: str | bytes) -> tuple[bytes, int]:
    apdu = bytes.fromhex(hex_apdu) if isinstance(hex_apdu, str) else hex_apdu
    return card.process(apdu)


def select_df(card: SimulatedCard, aid: str) -> None:
    assert tx(card, f"00A4040C0A{aid}") == (b"", 0x9000)


def select_ef(card: SimulatedCard, fid: str) -> int:
    return tx(card, f"00A4020C02{fid}")[1]


def verify(card: SimulatedCard, p2: int, value: bytes) -> int:
    return tx(card, bytes([0x00, 0x20, 0x00, p2, len(value)]) + value)[1]


def query(card: SimulatedCard, p2: int = 0x80) -> int:
    return tx(card, bytes([0x00, 0x20, 0x00, p2]))[1]


def read_all(card: SimulatedCard) -> bytes:
    out = b""
    while True:
        data, sw = tx(card, bytes([0x00, 0xB0, len(out) >> 8, len(out) & 0xFF, 0x00]))
        if sw == 0x6B00:
            return out
        assert sw == 0x9000
        out += data
        if len(data) < 256:
            return out


def sign_apdu(p1: int, p2: int, data: bytes) -> bytes:
    return bytes([0x80, 0x2A, p1, p2, len(data)]) + data + b"\x00"


def certificate(card: SimulatedCard, fid: str) -> x509.Certificate:
    select_df(card, JPKI)
    assert select_ef(card, fid) == 0x9000
    raw = read_all(card)
    length = int.from_bytes(raw[2:4], "big") + 4  # 30 82 LL LL (§4.5)
    return x509.load_der_x509_certificate(raw[:length])


def rsa_key(cert: x509.Certificate) -> RSAPublicKey:
    key = cert.public_key()
    assert isinstance(key, RSAPublicKey)
    return key


# --- SELECT (§2.1, §11.2) -----------------------------------------------------------------


def test_select_of_each_application_answers_9000(card: SimulatedCard) -> None:
    for aid in (JPKI, VISUAL, TEXT, JUKI):
        select_df(card, aid)


def test_select_of_an_unknown_aid_is_6a82(card: SimulatedCard) -> None:
    assert tx(card, "00A4040C0AD392F000260100000099") == (b"", 0x6A82)


def test_select_mf_is_6a86_after_reset_and_9000_with_a_df(card: SimulatedCard) -> None:
    assert tx(card, "00A40000")[1] == 0x6A86
    select_df(card, JPKI)
    assert tx(card, "00A40000")[1] == 0x9000
    # ...and it leaves the DF current: an EF of the JPKI AP is still selectable.
    assert select_ef(card, "0006") == 0x9000
    card.reset()
    assert tx(card, "00A40000")[1] == 0x6A86


def test_select_3f00_by_fid_is_6a82(card: SimulatedCard) -> None:
    assert tx(card, "00A4000C023F00")[1] == 0x6A82


def test_select_by_aid_prefix_picks_the_application(card: SimulatedCard) -> None:
    assert tx(card, "00A4040C09D392F0002601000000")[1] == 0x9000
    assert select_ef(card, "0006") == 0x9000
    data, sw = tx(card, "00B0000020")
    assert sw == 0x9000 and parse_token_label(data) == "JPKIAPICCTOKEN2"


def test_select_of_an_unknown_ef_is_6a82(card: SimulatedCard) -> None:
    select_df(card, JPKI)
    assert select_ef(card, "0003") == 0x6A82
    assert select_ef(card, "3F00") == 0x6A82


def test_select_ef_before_any_df_is_6a82(card: SimulatedCard) -> None:
    assert select_ef(card, "0006") == 0x6A82


def test_selecting_the_isd_returns_to_the_mf_state(card: SimulatedCard) -> None:
    select_df(card, JPKI)
    assert tx(card, "00A4040C07A0000001510000")[1] == 0x9000
    assert tx(card, "00A40000")[1] == 0x6A86


# --- READ BINARY (§3, §4.5, §11.3) --------------------------------------------------------


def test_token_info_label_and_filler(card: SimulatedCard) -> None:
    select_df(card, JPKI)
    select_ef(card, "0006")
    data, sw = tx(card, "00B0000020")
    assert sw == 0x9000
    assert data == b"JPKIAPICCTOKEN2" + b" " * 17


def test_certificate_availability_is_8f8f00(card: SimulatedCard) -> None:
    select_df(card, JPKI)
    select_ef(card, "0008")
    assert tx(card, "00B0000000") == (bytes.fromhex("8F8F00"), 0x9000)


def test_le_00_reads_256_bytes(card: SimulatedCard) -> None:
    select_df(card, JPKI)
    select_ef(card, "000A")
    data, sw = tx(card, "00B0000000")
    assert sw == 0x9000 and len(data) == 256
    assert data[:2] == b"\x30\x82"


def test_fifteen_bit_offset_reads_the_right_slice(card: SimulatedCard) -> None:
    select_df(card, JPKI)
    select_ef(card, "000A")
    whole = read_all(card)
    data, sw = tx(card, "00B0010310")  # offset 0x0103
    assert sw == 0x9000 and data == whole[0x103:0x113]


def test_read_at_eof_returns_fewer_bytes_and_past_it_6b00(card: SimulatedCard) -> None:
    select_df(card, JPKI)
    select_ef(card, "0006")  # 160 bytes (§4.2)
    data, sw = tx(card, "00B0009040")  # offset 144, Le 64
    assert sw == 0x9000 and len(data) == 16
    assert tx(card, "00B000A001") == (b"", 0x6B00)  # offset 160 = size
    assert tx(card, "00B07FFF01") == (b"", 0x6B00)


def test_certificate_ef_has_ff_filler_after_the_der(card: SimulatedCard) -> None:
    select_df(card, JPKI)
    select_ef(card, "000A")
    raw = read_all(card)
    length = int.from_bytes(raw[2:4], "big") + 4
    assert len(raw) > length
    assert set(raw[length:]) == {0xFF}


def test_sfi_read_needs_no_select_and_makes_the_ef_current(card: SimulatedCard) -> None:
    select_df(card, JPKI)
    data, sw = tx(card, "00B0860020")  # SFI 6 = token info
    assert sw == 0x9000 and parse_token_label(data) == "JPKIAPICCTOKEN2"
    # The EF became current: an offset read continues in it.
    assert tx(card, "00B0000004") == (b"JPKI", 0x9000)


def test_sfi_read_with_an_offset_and_unknown_sfi(card: SimulatedCard) -> None:
    select_df(card, JPKI)
    assert tx(card, "00B0860404") == (b"APIC", 0x9000)
    assert tx(card, "00B0830001")[1] == 0x6A82  # no EF 0003 in the JPKI AP


def test_read_without_a_current_ef_is_6986(card: SimulatedCard) -> None:
    select_df(card, JPKI)
    assert tx(card, "00B0000004")[1] == 0x6986


def test_extended_le_reads_a_whole_ef(card: SimulatedCard) -> None:
    select_df(card, JPKI)
    select_ef(card, "000A")
    data, sw = tx(card, "00B00000000000")  # extended Le 0000 = 65536
    assert sw == 0x9000 and data == read_all(card)


# --- access rules (§4.1, §6.1) ------------------------------------------------------------


def test_sign_certificate_needs_the_sign_password(card: SimulatedCard) -> None:
    select_df(card, JPKI)
    assert select_ef(card, "0001") == 0x9000  # the SELECT itself succeeds (§13.6)
    assert tx(card, "00B0000004")[1] == 0x6982
    assert verify(card, 0x9B, b"MYNA2580") == 0x9000
    select_ef(card, "0001")
    data, sw = tx(card, "00B0000004")
    assert sw == 0x9000 and data[:2] == b"\x30\x82"


def test_the_auth_pin_does_not_open_the_sign_certificate(card: SimulatedCard) -> None:
    select_df(card, JPKI)
    assert verify(card, 0x98, b"2580") == 0x9000
    select_ef(card, "0001")
    assert tx(card, "00B0000004")[1] == 0x6982


def test_card_face_opens_with_pin_b_or_pin_a(card: SimulatedCard) -> None:
    select_df(card, VISUAL)
    select_ef(card, "0002")
    assert tx(card, "00B0000004")[1] == 0x6982
    assert verify(card, 0x92, PIN_B) == 0x9000
    select_ef(card, "0002")
    face = parse_card_face(read_all(card))
    assert str(face.birth_date) == "1985-07-23"
    card.reset()
    select_df(card, VISUAL)
    assert verify(card, 0x93, demo_profile().my_number.encode()) == 0x9000
    select_ef(card, "0002")
    assert tx(card, "00B0000004")[1] == 0x9000


def test_pin_b_does_not_open_the_my_number_image_but_pin_a_does(card: SimulatedCard) -> None:
    select_df(card, VISUAL)
    verify(card, 0x92, PIN_B)
    select_ef(card, "0005")
    assert tx(card, "00B0000004")[1] == 0x6982
    verify(card, 0x93, demo_profile().my_number.encode())
    select_ef(card, "0005")
    assert tx(card, "00B0000002") == (b"\xff\x40", 0x9000)


def test_free_files_of_the_visual_ap(card: SimulatedCard) -> None:
    select_df(card, VISUAL)
    select_ef(card, "0004")
    assert tx(card, "00B0000002") == (b"\x7f\x21", 0x9000)
    select_ef(card, "0003")
    assert tx(card, "00B0000002") == (b"\xff\x30", 0x9000)


def test_reading_a_key_ef_is_refused(card: SimulatedCard) -> None:
    select_df(card, JPKI)
    select_ef(card, "0017")
    assert tx(card, "00B0000010")[1] == 0x6982


def test_text_ap_my_number_is_17_bytes_with_filler(card: SimulatedCard) -> None:
    select_df(card, TEXT)
    assert verify(card, 0x91, b"2580") == 0x9000
    select_ef(card, "0001")
    data, sw = tx(card, "00B0000000")
    number = demo_profile().my_number.encode()
    assert (data, sw) == (b"\xff\x10\x0c" + number + b"\xff\xff", 0x9000)


# --- VERIFY and counters (§4.4, §11.4) ----------------------------------------------------


def test_empty_verify_reports_the_counter_without_spending_it(card: SimulatedCard) -> None:
    select_df(card, JPKI)
    select_ef(card, "0018")
    assert query(card) == 0x63C3
    assert query(card) == 0x63C3
    assert query(card, 0x9B) == 0x63C5  # the sign password by SFI
    select_df(card, VISUAL)
    assert query(card, 0x92) == 0x63CA  # 照合番号B: 10 tries


def test_wrong_pins_count_down_to_63c0_then_6984(card: SimulatedCard) -> None:
    select_df(card, JPKI)
    select_ef(card, "0018")
    assert verify(card, 0x80, b"0000") == 0x63C2
    assert verify(card, 0x80, b"1111") == 0x63C1
    assert verify(card, 0x80, b"2222") == 0x63C0  # the last try (§4.4)
    # Blocked: the right value is not even compared.
    assert verify(card, 0x80, b"2580") == 0x6984
    assert query(card) == 0x63C0
    assert card.tries_left(PinKind.JPKI_AUTH) == 0


def test_success_restores_the_counter_and_nothing_else_does(card: SimulatedCard) -> None:
    select_df(card, JPKI)
    assert verify(card, 0x98, b"0000") == 0x63C2
    card.reset()  # counters are non-volatile
    select_df(card, JPKI)
    assert query(card, 0x98) == 0x63C2
    assert verify(card, 0x98, b"2580") == 0x9000
    assert query(card, 0x98) == 0x63C3


def test_sign_password_is_compared_as_bytes(card: SimulatedCard) -> None:
    select_df(card, JPKI)
    assert verify(card, 0x9B, b"myna2580") == 0x63C4  # the card does not upper-case (§4.3)
    assert verify(card, 0x9B, b"MYNA2580") == 0x9000


def test_wrong_length_is_a_wrong_pin_by_default_or_a_configured_sw() -> None:
    plain = SimulatedCard(demo_profile())
    select_df(plain, JPKI)
    assert verify(plain, 0x98, b"258") == 0x63C2
    strict = SimulatedCard(demo_profile(), options=SimOptions(wrong_length_sw=0x6700))
    select_df(strict, JPKI)
    assert verify(strict, 0x98, b"258") == 0x6700
    assert query(strict, 0x98) == 0x63C3


def test_verify_of_a_non_key_or_without_ef_is_refused(card: SimulatedCard) -> None:
    select_df(card, JPKI)
    assert verify(card, 0x80, b"2580") == 0x6986  # no current EF
    select_ef(card, "0006")
    assert verify(card, 0x80, b"2580") == 0x6A88
    assert verify(card, 0x97, b"2580") == 0x6A88  # a private key, not a PIN
    assert tx(card, "0020018004" + b"2580".hex())[1] == 0x6A86


def test_text_ap_key_0012_arrives_blocked(card: SimulatedCard) -> None:
    select_df(card, TEXT)
    assert query(card, 0x92) == 0x63C0
    assert verify(card, 0x92, b"0000") == 0x6984


def test_juki_pin(card: SimulatedCard) -> None:
    select_df(card, JUKI)
    assert query(card, 0x9C) == 0x63C3
    assert verify(card, 0x9C, b"1234") == 0x63C2
    assert verify(card, 0x9C, b"2580") == 0x9000


def test_verified_state_ends_on_reset(card: SimulatedCard) -> None:
    select_df(card, JPKI)
    verify(card, 0x9B, b"MYNA2580")
    card.reset()
    select_df(card, JPKI)
    select_ef(card, "0001")
    assert tx(card, "00B0000004")[1] == 0x6982


def test_verified_state_ends_on_select_of_another_df_by_default(card: SimulatedCard) -> None:
    select_df(card, JPKI)
    verify(card, 0x9B, b"MYNA2580")
    select_df(card, VISUAL)
    select_df(card, JPKI)
    select_ef(card, "0001")
    assert tx(card, "00B0000004")[1] == 0x6982


def test_verified_state_survives_select_ef_and_reselect_of_the_same_df(
    card: SimulatedCard,
) -> None:
    select_df(card, JPKI)
    verify(card, 0x9B, b"MYNA2580")
    select_ef(card, "0006")
    select_df(card, JPKI)
    select_ef(card, "0001")
    assert tx(card, "00B0000004")[1] == 0x9000


def test_keeping_verified_state_across_dfs_is_configurable() -> None:
    card = SimulatedCard(demo_profile(), options=SimOptions(clear_verified_on_df_change=False))
    select_df(card, JPKI)
    verify(card, 0x9B, b"MYNA2580")
    select_df(card, VISUAL)
    select_df(card, JPKI)
    select_ef(card, "0001")
    assert tx(card, "00B0000004")[1] == 0x9000


# --- CHANGE REFERENCE DATA (§3, §11.5) ----------------------------------------------------


def test_change_reference_data_needs_verify_first(card: SimulatedCard) -> None:
    select_df(card, JPKI)
    select_ef(card, "0018")
    assert tx(card, "0024018004" + b"1357".hex())[1] == 0x6982
    assert verify(card, 0x80, b"2580") == 0x9000
    assert tx(card, "0024018004" + b"1357".hex())[1] == 0x9000
    card.reset()
    select_df(card, JPKI)
    assert verify(card, 0x98, b"2580") == 0x63C2
    assert verify(card, 0x98, b"1357") == 0x9000


def test_change_key_8032_for_the_juki_pin(card: SimulatedCard) -> None:
    select_df(card, JUKI)
    assert verify(card, 0x9C, b"2580") == 0x9000
    select_ef(card, "001C")
    assert tx(card, "8032008004" + b"8642".hex())[1] == 0x9000
    assert verify(card, 0x9C, b"8642") == 0x9000


# --- COMPUTE DIGITAL SIGNATURE (§4.6, §11.6) ----------------------------------------------


def test_auth_signature_verifies_with_the_certificate_key(card: SimulatedCard) -> None:
    key = rsa_key(certificate(card, "000A"))
    assert verify(card, 0x98, b"2580") == 0x9000
    select_ef(card, "0017")
    signature, sw = tx(card, sign_apdu(0x00, 0x80, DIGEST_INFO))
    assert sw == 0x9000 and len(signature) == 256
    key.verify(signature, b"server nonce", padding.PKCS1v15(), hashes.SHA256())


def test_sign_key_signature_by_sfi_equals_the_select_form(card: SimulatedCard) -> None:
    select_df(card, JPKI)
    verify(card, 0x9B, b"MYNA2580")
    by_sfi, sw = tx(card, sign_apdu(0x00, 0x9A, DIGEST_INFO))
    assert sw == 0x9000
    select_ef(card, "001A")
    by_select, _ = tx(card, sign_apdu(0x00, 0x80, DIGEST_INFO))
    assert by_sfi == by_select
    verify(card, 0x9B, b"MYNA2580")
    key = rsa_key(certificate(card, "0001"))
    key.verify(by_sfi, b"server nonce", padding.PKCS1v15(), hashes.SHA256())


def test_signing_without_the_pin_is_6982(card: SimulatedCard) -> None:
    select_df(card, JPKI)
    select_ef(card, "0017")
    assert tx(card, sign_apdu(0x00, 0x80, DIGEST_INFO))[1] == 0x6982
    verify(card, 0x98, b"2580")  # the auth PIN does not unlock the sign key
    assert tx(card, sign_apdu(0x00, 0x9A, DIGEST_INFO))[1] == 0x6982


def test_signing_without_a_key_ef_is_6982(card: SimulatedCard) -> None:
    # "Require the key EF (current EF with P2=80, or SFI 17/1A in P2) … else 69 82" (§11.6).
    select_df(card, JPKI)
    assert tx(card, sign_apdu(0x00, 0x80, DIGEST_INFO))[1] == 0x6982  # no current EF
    assert select_ef(card, "0018") == 0x9000
    assert verify(card, 0x80, b"2580") == 0x9000
    assert tx(card, sign_apdu(0x00, 0x80, DIGEST_INFO))[1] == 0x6982  # a PIN EF, not a key
    assert tx(card, sign_apdu(0x00, 0x8A, DIGEST_INFO))[1] == 0x6982  # SFI of a certificate
    assert select_ef(card, "0017") == 0x9000
    assert tx(card, sign_apdu(0x00, 0x80, DIGEST_INFO))[1] == 0x9000


def test_signing_input_lengths_and_p1(card: SimulatedCard) -> None:
    select_df(card, JPKI)
    verify(card, 0x98, b"2580")
    select_ef(card, "0017")
    assert tx(card, sign_apdu(0x00, 0x80, b"\x01" * 245))[1] == 0x9000
    long_apdu = bytes([0x80, 0x2A, 0x00, 0x80, 246]) + b"\x01" * 246 + b"\x00"
    assert tx(card, long_apdu)[1] == 0x6700
    assert tx(card, sign_apdu(0x06, 0x80, DIGEST_INFO))[1] == 0x6A86
    assert tx(card, sign_apdu(0x02, 0x80, b"\x01" * 31))[1] == 0x6700


@pytest.mark.parametrize("p1", [0x01, 0x02, 0x03, 0x04, 0x05])
def test_p1_signature_schemes(card: SimulatedCard, p1: int) -> None:
    key = rsa_key(certificate(card, "000A"))
    verify(card, 0x98, b"2580")
    message = b"message for the card"
    digest = hashlib.sha256(message).digest()
    data = digest if p1 in (0x02, 0x04) else message
    signature, sw = tx(card, sign_apdu(p1, 0x97, data))
    assert sw == 0x9000 and len(signature) == 256
    if p1 == 0x01:  # PKCS#1 v1.5 over the bare hash
        assert key.recover_data_from_signature(signature, padding.PKCS1v15(), None) == digest
    elif p1 in (0x02, 0x03):
        key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    else:
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        key.verify(signature, message, pss, hashes.SHA256())


def test_visual_card_key_signs_without_credential(card: SimulatedCard) -> None:
    select_df(card, VISUAL)
    signature, sw = tx(card, sign_apdu(0x00, 0x00, DIGEST_INFO))
    assert sw == 0x9000
    verify(card, 0x92, PIN_B)
    select_ef(card, "0002")
    face = parse_card_face(read_all(card))
    face.card_key.public_key().verify(
        signature, b"server nonce", padding.PKCS1v15(), hashes.SHA256()
    )


def test_the_jpki_ap_has_no_own_card_key(card: SimulatedCard) -> None:
    select_df(card, JPKI)
    assert tx(card, sign_apdu(0x00, 0x00, DIGEST_INFO))[1] == 0x6A88


# --- other commands and classes -----------------------------------------------------------


def test_get_challenge(card: SimulatedCard) -> None:
    first, sw = tx(card, "0084000010")
    second, _ = tx(card, "0084000010")
    assert sw == 0x9000 and len(first) == 16 and first != second
    assert tx(card, "00840000000010")[1] == 0x6985  # the extended form is refused (§1)


def test_logical_channels_classes_and_instructions(card: SimulatedCard) -> None:
    assert tx(card, "01A4040C0A" + JPKI)[1] == 0x6881
    assert tx(card, "00CB000000")[1] == 0x6D00
    assert tx(card, "90A4040C0A" + JPKI)[1] == 0x6E00
    assert tx(card, "00A4040C0B" + JPKI)[1] == 0x6700  # Lc larger than the data


def test_transmit_appends_the_status_word(card: SimulatedCard) -> None:
    assert card.transmit(bytes.fromhex("00A4040C0A" + JPKI)) == b"\x90\x00"
    assert card.transmit(bytes.fromhex("00B0860004")) == b"JPKI\x90\x00"


def test_powered_off_card_refuses_apdus(card: SimulatedCard) -> None:
    card.power_off()
    with pytest.raises(CardPoweredOffError):
        card.transmit(bytes.fromhex("00A4040C0A" + JPKI))
    assert card.power_on() == bytes.fromhex("3BC5FF8131FB458073C6010000")
    assert card.transmit(bytes.fromhex("00A4040C0A" + JPKI)) == b"\x90\x00"


# --- the kiosk's admin reset (§10) --------------------------------------------------------


def test_admin_reset_unblocks_with_a_new_value(card: SimulatedCard) -> None:
    select_df(card, JPKI)
    for _ in range(3):
        verify(card, 0x98, b"0000")
    assert verify(card, 0x98, b"2580") == 0x6984
    card.reset_pin(PinKind.JPKI_AUTH, "9753")
    assert card.tries_left("jpki_auth") == 3
    select_df(card, JPKI)
    assert query(card, 0x98) == 0x63C3
    assert verify(card, 0x98, b"2580") == 0x63C2
    assert verify(card, 0x98, b"9753") == 0x9000


def test_admin_reset_of_an_unknown_kind_is_an_error(card: SimulatedCard) -> None:
    with pytest.raises(KeyError):
        card.reset_pin("no_such_pin", "1234")


def test_simulated_connection_counts_traffic(card: SimulatedCard) -> None:
    conn = SimulatedConnection(card)
    assert conn.send_and_receive(bytes.fromhex("00A4040C0A" + JPKI)) == (b"", 0x9000)
    data, sw = conn.send_and_receive(bytes.fromhex("00B0860020"))
    assert sw == 0x9000 and len(data) == 32
    assert (conn.apdu_count, conn.bytes_sent, conn.bytes_received) == (2, 15 + 5, 2 + 34)


# --- text AP records (§5.3) ----------------------------------------------------------------


def _tlv_file(card: SimulatedCard, fid: str) -> Tlv:
    assert select_ef(card, fid) == 0x9000
    raw = read_all(card)
    tlv, _ = Tlv.parse_from(raw)
    return tlv


def test_text_ap_integrity_record_covers_the_number_and_basic_four(card: SimulatedCard) -> None:
    select_df(card, TEXT)
    assert verify(card, 0x91, b"2580") == 0x9000
    select_ef(card, "0001")
    number = tx(card, "00B0000011")[0]
    basic = _tlv_file(card, "0002")
    offsets = basic.children()[0].value
    first = int.from_bytes(offsets[:2], "big")
    parts = {t.tag: t for t in basic.children()}
    assert parts[0xDF22].value.decode() == demo_profile().name
    assert parts[0xDF24].value == b"19850723"
    # DF21 offsets count from the start of the file (§5.3).
    assert basic.raw[first : first + 2] == b"\xdf\x22"
    integrity = {t.tag: t for t in _tlv_file(card, "0003").children()}
    assert integrity[0xDF31].value == hashlib.sha256(number).digest()
    assert integrity[0xDF32].value == hashlib.sha256(basic.raw[first:]).digest()
    cv = parse_cv_certificate(_tlv_file(card, "0004").raw)
    assert cv.issuer == "9000033/001"
    signed = integrity[0xDF31].raw + integrity[0xDF32].raw
    cv.key.public_key().verify(integrity[0xDF33].value, signed, padding.PKCS1v15(), hashes.SHA256())


def test_text_ap_card_key_signs_and_is_certified_in_ef_0007(card: SimulatedCard) -> None:
    select_df(card, TEXT)
    signature, sw = tx(card, sign_apdu(0x00, 0x00, DIGEST_INFO))
    assert sw == 0x9000
    verify(card, 0x91, b"2580")
    own = {t.tag: t for t in _tlv_file(card, "0007").children()}
    cv = parse_cv_certificate(_tlv_file(card, "0004").raw)
    cv.key.public_key().verify(
        own[0xDF52].value, own[0xDF51].raw, padding.PKCS1v15(), hashes.SHA256()
    )
    card_key = parse_card_rsa_key(own[0xDF51].value).public_key()
    card_key.verify(signature, b"server nonce", padding.PKCS1v15(), hashes.SHA256())


def test_visual_age_check_record_opens_with_the_birth_date_key(card: SimulatedCard) -> None:
    select_df(card, VISUAL)
    select_ef(card, "0001")
    assert tx(card, "00B0000004")[1] == 0x6982
    assert verify(card, 0x91, b"600723") == 0x9000  # 和暦 YYMMDD (§6.2)
    record = {t.tag: t for t in _tlv_file(card, "0001").children()}
    assert record[0xDF11].value == b"19850723"


# --- any bytes at all: the card answers with a status word, never an exception ----------------

_KNOWN_SW = {int(sw) for sw in SW}
_APDU = st.one_of(
    st.binary(max_size=300),
    st.builds(
        lambda cla, ins, p1, p2, body: bytes([cla, ins, p1, p2]) + body,
        st.sampled_from([0x00, 0x80, 0x01, 0x0C, 0xFF]),
        st.sampled_from([0xA4, 0xB0, 0x20, 0x24, 0x32, 0x2A, 0x84, 0xB2, 0xCA, 0x00]),
        st.integers(0, 255),
        st.sampled_from([0x00, 0x0C, 0x80, 0x97, 0x98, 0x9A, 0x9B, 0x92]) | st.integers(0, 255),
        st.one_of(
            st.binary(max_size=3),
            st.binary(min_size=1, max_size=255).map(lambda d: bytes([len(d)]) + d),
            st.binary(min_size=1, max_size=255).map(lambda d: bytes([len(d)]) + d + b"\x00"),
            st.sampled_from([bytes.fromhex(JPKI), bytes.fromhex(VISUAL), bytes.fromhex(TEXT)]).map(
                lambda aid: bytes([len(aid)]) + aid
            ),
        ),
    ),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(apdus=st.lists(_APDU, min_size=1, max_size=6))
def test_random_apdus_get_a_status_word_and_nothing_else(
    card: SimulatedCard, apdus: list[bytes]
) -> None:
    for apdu in apdus:
        data, sw = card.process(apdu)
        assert sw in _KNOWN_SW or retry_counter(sw) is not None, f"{sw:04X}"
        assert sw == SW.OK or not data  # data only comes with 9000


@given(st.binary(max_size=300))
def test_the_apdu_parser_raises_only_malformed_apdu(apdu: bytes) -> None:
    try:
        command = parse_command(apdu)
    except MalformedApduError:
        return
    assert bytes([command.cla, command.ins, command.p1, command.p2]) == apdu[:4]


def test_the_card_never_logs_a_pin(card: SimulatedCard, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(1)
    select_df(card, VISUAL)
    assert verify(card, 0x92, PIN_B) == 0x9000
    select_df(card, JPKI)
    assert verify(card, 0x9B, b"MYNA2581") == 0x63C4
    assert verify(card, 0x9B, b"MYNA2580") == 0x9000
    select_ef(card, "001B")
    assert tx(card, bytes.fromhex("0024018008") + b"NEWPASS1")[1] == 0x9000
    card.reset_pin(PinKind.JPKI_AUTH, "9753")
    assert caplog.records, "actions are logged"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (PIN_B, b"MYNA2581", b"MYNA2580", b"NEWPASS1", b"9753"):
        for form in (secret.decode(), secret.hex(), secret.hex().upper(), secret.hex(" ")):
            assert form not in logged
