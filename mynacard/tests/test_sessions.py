"""Every session method, byte-exact against a scripted card (spec §3, §4, §5, §6, §7)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mynacard.constants import AID
from mynacard.errors import (
    ApduError,
    ApplicationNotFoundError,
    BadResponseError,
    CardError,
    FileNotFoundOnCardError,
    InvalidPinFormatError,
    NotMyNumberCardError,
    PinBlockedError,
    SecurityStatusError,
    WrongPinError,
)
from mynacard.jpki import CertificateKind, JpkiSession, KeyKind
from mynacard.juki import JukiSession
from mynacard.pins import PinKind, PinStatus
from mynacard.pkcs1 import sha256_digest_info
from mynacard.records import (
    build_ap_basic_info,
    build_token_info,
    make_key_id,
    parse_card_face,
    parse_cv_certificate,
)
from mynacard.tests.conftest import Pki
from mynacard.tests.fakes import Exchange, ScriptedConnection, ex
from mynacard.textap import TextApSession
from mynacard.visual import VisualApSession

SELECT_JPKI = "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01"
SELECT_VISUAL = "00 A4 04 0C 0A D3 92 10 00 31 00 01 01 04 02"
SELECT_TEXT = "00 A4 04 0C 0A D3 92 10 00 31 00 01 01 04 08"
SELECT_JUKI = "00 A4 04 0C 0A D3 92 10 00 31 00 01 01 04 01"
DIGEST_INFO = sha256_digest_info(bytes(range(32)))
SIGNATURE = bytes(range(256))


def select_ef(fid: str, sw: int = 0x9000) -> Exchange:
    return ex(f"00 A4 02 0C 02 {fid}", sw=sw)


def reads(ef: bytes, plan: list[tuple[int, int]]) -> list[Exchange]:
    """READ BINARY exchanges of ``ef`` at (offset, Le) — Le 256 is written ``00``."""
    return [
        ex(f"00 B0 {offset >> 8:02X} {offset & 0xFF:02X} {le & 0xFF:02X}", ef[offset : offset + le])
        for offset, le in plan
    ]


def jpki(*script: Exchange) -> tuple[JpkiSession, ScriptedConnection]:
    conn = ScriptedConnection([ex(SELECT_JPKI), *script])
    return JpkiSession(conn), conn


# --- selecting ----------------------------------------------------------------------------


def test_aids_are_the_spec_values() -> None:
    assert AID.JPKI.value.hex().upper() == "D392F000260100000001"
    assert AID.VISUAL.value.hex().upper() == "D3921000310001010402"


def test_missing_application() -> None:
    conn = ScriptedConnection([ex(SELECT_JPKI, sw=0x6A82)])
    with pytest.raises(ApplicationNotFoundError):
        JpkiSession(conn)
    conn.assert_done()


@pytest.mark.parametrize("sw", [0x6A82, 0x6A81, 0x6A86, 0x6D00, 0x6E00], ids=lambda sw: f"{sw:04X}")
def test_every_no_such_application_answer_is_application_not_found(sw: int) -> None:
    # Cards (and contactless readers' pseudo-APDU layers) that do not know SELECT answer with
    # these besides 6A82 (spec §8); the session says so once, with the status word.
    conn = ScriptedConnection([ex(SELECT_JPKI, sw=sw)])
    with pytest.raises(ApplicationNotFoundError) as absent:
        JpkiSession(conn)
    assert absent.value.sw == sw
    conn.assert_done()


def test_another_select_failure_is_not_application_not_found() -> None:
    conn = ScriptedConnection([ex(SELECT_JPKI, sw=0x6700)])
    with pytest.raises(ApduError) as failed:
        JpkiSession(conn)
    assert failed.value.sw == 0x6700


def test_missing_ef() -> None:
    session, conn = jpki(select_ef("00 06", sw=0x6A82))
    with pytest.raises(FileNotFoundOnCardError):
        session.token_label()
    conn.assert_done()


# --- JPKI -----------------------------------------------------------------------------------


def test_token_label() -> None:
    session, conn = jpki(select_ef("00 06"), *reads(build_token_info(), [(0, 0x20)]))
    assert session.token_label() == "JPKIAPICCTOKEN2"
    conn.assert_done()


def test_token_info_reads_all_160_bytes() -> None:
    raw = build_token_info(manufacturer_id="SIM", serial_number="42")
    session, conn = jpki(select_ef("00 06"), ex("00 B0 00 00 A0", raw))
    info = session.token_info()
    assert (info.label, info.manufacturer_id) == ("JPKIAPICCTOKEN2", "SIM")
    assert info.serial_number == "42"
    conn.assert_done()


def test_check_token_accepts_only_a_my_number_card() -> None:
    session, conn = jpki(select_ef("00 06"), *reads(build_token_info(), [(0, 0x20)]))
    assert session.check_token() == "JPKIAPICCTOKEN2"
    conn.assert_done()
    juki_card = build_token_info(label="JPKIAPICCTOKEN")  # the old 住基カード (§4.2)
    session, conn = jpki(select_ef("00 06"), *reads(juki_card, [(0, 0x20)]))
    with pytest.raises(NotMyNumberCardError) as info:
        session.check_token()
    assert info.value.label == "JPKIAPICCTOKEN"
    conn.assert_done()


def test_certificate_availability() -> None:
    session, conn = jpki(select_ef("00 08"), ex("00 B0 00 00 03", "008F00"))
    availability = session.certificate_availability()
    assert (availability.sign, availability.auth) == (False, True)
    conn.assert_done()


@pytest.mark.parametrize(
    ("kind", "fid", "sw", "expected"),
    [
        (PinKind.JPKI_AUTH, "00 18", 0x63C3, PinStatus(PinKind.JPKI_AUTH, 3, 3, False)),
        (PinKind.JPKI_AUTH, "00 18", 0x63C1, PinStatus(PinKind.JPKI_AUTH, 1, 3, False)),
        (PinKind.JPKI_SIGN, "00 1B", 0x63C5, PinStatus(PinKind.JPKI_SIGN, 5, 5, False)),
        (PinKind.JPKI_SIGN, "00 1B", 0x63C0, PinStatus(PinKind.JPKI_SIGN, 0, 5, True)),
        (PinKind.JPKI_SIGN, "00 1B", 0x6984, PinStatus(PinKind.JPKI_SIGN, 0, 5, True)),
        (PinKind.JPKI_AUTH, "00 18", 0x9000, PinStatus(PinKind.JPKI_AUTH, 3, 3, False)),
    ],
)
def test_pin_status_uses_an_empty_verify(
    kind: PinKind, fid: str, sw: int, expected: PinStatus
) -> None:
    session, conn = jpki(select_ef(fid), ex("00 20 00 80", sw=sw))
    assert session.pin_status(kind) == expected  # type: ignore[arg-type]
    conn.assert_done()


def test_pin_status_unexpected_sw() -> None:
    session, conn = jpki(select_ef("00 18"), ex("00 20 00 80", sw=0x6A86))
    with pytest.raises(ApduError) as info:
        session.pin_status(PinKind.JPKI_AUTH)
    assert info.value.sw == 0x6A86


def test_pin_status_refuses_foreign_kinds() -> None:
    session, conn = jpki()
    with pytest.raises(ValueError):
        session.pin_status(PinKind.TEXT_PIN)  # type: ignore[arg-type]
    assert len(conn.sent) == 1


def test_verify_auth_pin() -> None:
    session, conn = jpki(select_ef("00 18"), ex("00 20 00 80 04 32 35 38 30"))
    session.verify(PinKind.JPKI_AUTH, "2580")
    conn.assert_done()


def test_verify_sign_password_upper_cases() -> None:
    session, conn = jpki(select_ef("00 1B"), ex("00 20 00 80 08" + b"MYNA2580".hex()))
    session.verify(PinKind.JPKI_SIGN, "myna2580")
    conn.assert_done()


@pytest.mark.parametrize(("sw", "tries"), [(0x63C2, 2), (0x63C0, 0)])
def test_verify_wrong_pin(sw: int, tries: int) -> None:
    session, conn = jpki(select_ef("00 18"), ex("00 20 00 80 04 31 31 31 31", sw=sw))
    with pytest.raises(WrongPinError) as info:
        session.verify(PinKind.JPKI_AUTH, "1111")
    assert info.value.tries_left == tries


def test_verify_blocked() -> None:
    session, conn = jpki(select_ef("00 1B"), ex("00 20 00 80 06 41 42 43 31 32 33", sw=0x6984))
    with pytest.raises(PinBlockedError):
        session.verify(PinKind.JPKI_SIGN, "ABC123")


@pytest.mark.parametrize(
    ("kind", "bad"), [(PinKind.JPKI_AUTH, "258"), (PinKind.JPKI_SIGN, "ONLYLETTERS")]
)
def test_malformed_pin_never_reaches_the_card(kind: PinKind, bad: str) -> None:
    session, conn = jpki()
    with pytest.raises(InvalidPinFormatError):
        session.verify(kind, bad)  # type: ignore[arg-type]
    assert conn.sent == [bytes.fromhex(SELECT_JPKI)]


def test_read_certificate_header_then_256_byte_chunks() -> None:
    der = bytes.fromhex("30820345") + bytes(i & 0xFF for i in range(0x345))
    ef = der + b"\xff" * 300  # the EF is larger than the object (§4.5 step 5)
    plan = [(0, 4), (4, 256), (0x104, 256), (0x204, 256), (0x304, 0x45)]
    session, conn = jpki(select_ef("00 0A"), *reads(ef, plan))
    assert session.read_certificate(CertificateKind.AUTH) == der
    assert conn.sent[2] == bytes.fromhex("00 B0 00 00 04")
    assert conn.sent[3] == bytes.fromhex("00 B0 00 04 00")
    assert conn.sent[-1] == bytes.fromhex("00 B0 03 04 45")
    conn.assert_done()


@pytest.mark.parametrize(
    ("which", "fid"),
    [(CertificateKind.SIGN, "00 01"), (CertificateKind.SIGN_CA, "00 02"),
     (CertificateKind.AUTH_CA, "00 0B")],
)
def test_read_other_certificates(which: CertificateKind, fid: str) -> None:
    der = bytes.fromhex("30820180") + b"c" * 0x180
    session, conn = jpki(select_ef(fid), *reads(der, [(0, 4), (4, 256), (0x104, 0x80)]))
    assert session.read_certificate(which) == der
    conn.assert_done()


def test_read_sign_certificate_without_password() -> None:
    session, conn = jpki(select_ef("00 01"), ex("00 B0 00 00 04", sw=0x6982))
    with pytest.raises(SecurityStatusError):
        session.read_certificate(CertificateKind.SIGN)


@pytest.mark.parametrize("header", ["31820345", "308103AA", "3082007F", "308200FF"])
def test_read_certificate_rejects_bad_headers(header: str) -> None:
    session, conn = jpki(select_ef("00 0A"), ex("00 B0 00 00 04", header))
    with pytest.raises(BadResponseError):
        session.read_certificate(CertificateKind.AUTH)


def test_read_certificate_rejects_a_short_file() -> None:
    session, conn = jpki(
        select_ef("00 0A"),
        ex("00 B0 00 00 04", "30820200"),
        ex("00 B0 00 04 00", b"x" * 256),
        ex("00 B0 01 04 00", b"", sw=0x6B00),
    )
    with pytest.raises(BadResponseError):
        session.read_certificate(CertificateKind.AUTH)


@pytest.mark.parametrize(("key", "fid"), [(KeyKind.AUTH, "00 17"), (KeyKind.SIGN, "00 1A")])
def test_sign(key: KeyKind, fid: str) -> None:
    session, conn = jpki(
        select_ef(fid), ex("80 2A 00 80 33" + DIGEST_INFO.hex() + "00", SIGNATURE)
    )
    assert session.sign(key, DIGEST_INFO) == SIGNATURE
    conn.assert_done()


def test_sign_without_verify() -> None:
    session, conn = jpki(
        select_ef("00 17"), ex("80 2A 00 80 33" + DIGEST_INFO.hex() + "00", sw=0x6982)
    )
    with pytest.raises(SecurityStatusError):
        session.sign(KeyKind.AUTH, DIGEST_INFO)


def test_sign_rejects_a_short_signature_and_oversized_input() -> None:
    session, conn = jpki(
        select_ef("00 17"), ex("80 2A 00 80 33" + DIGEST_INFO.hex() + "00", SIGNATURE[:255])
    )
    with pytest.raises(BadResponseError):
        session.sign(KeyKind.AUTH, DIGEST_INFO)
    with pytest.raises(ValueError):
        session.sign(KeyKind.AUTH, bytes(246))
    assert len(conn.sent) == 3  # the oversized input never reached the card


# --- 券面AP -----------------------------------------------------------------------------------


def visual(*script: Exchange, extended: bool = False) -> tuple[VisualApSession, ScriptedConnection]:
    conn = ScriptedConnection([ex(SELECT_VISUAL), *script])
    return VisualApSession(conn, extended=extended), conn


def test_pin_b_status() -> None:
    session, conn = visual(select_ef("00 12"), ex("00 20 00 80", sw=0x63CA))
    assert session.pin_b_status() == PinStatus(PinKind.VISUAL_PIN_B, 10, 10, False)
    conn.assert_done()


def test_verify_pin_b() -> None:
    # §6.2's card-confirmed example APDU.
    session, conn = visual(
        select_ef("00 12"),
        ex("00 20 00 80 0E 35 35 30 32 31 37 32 30 33 35 32 32 38 35", sw=0x63C9),
    )
    with pytest.raises(WrongPinError) as info:
        session.verify_pin_b("55021720352285")
    assert info.value.tries_left == 9
    conn.assert_done()


def test_malformed_pin_b_never_reaches_the_card() -> None:
    session, conn = visual()
    with pytest.raises(InvalidPinFormatError):
        session.verify_pin_b("5502172035228")
    assert len(conn.sent) == 1


def _chunk_plan(total: int, first: int = 256) -> list[tuple[int, int]]:
    plan, offset = [(0, first)], first
    while offset < total:
        plan.append((offset, min(256, total - offset)))
        offset += 256
    return plan


def test_read_card_face_raw_truncates_to_the_tlv(pki: Pki) -> None:
    ef = pki.card_face + b"\xff" * 700
    session, conn = visual(select_ef("00 02"), *reads(ef, _chunk_plan(len(pki.card_face))))
    assert session.read_card_face_raw() == pki.card_face
    conn.assert_done()


def test_read_card_face_parses(pki: Pki) -> None:
    plan = _chunk_plan(len(pki.card_face))
    session, conn = visual(select_ef("00 02"), *reads(pki.card_face, plan))
    assert session.read_card_face() == parse_card_face(pki.card_face)


def test_read_card_face_with_extended_length(pki: Pki) -> None:
    ef = pki.card_face + b"\xff" * 100
    session, conn = visual(select_ef("00 02"), ex("00 B0 00 00 00 00 00", ef), extended=True)
    assert session.read_card_face_raw() == pki.card_face
    conn.assert_done()


def test_read_card_face_needs_pin_b() -> None:
    session, conn = visual(select_ef("00 02"), ex("00 B0 00 00 00", sw=0x6982))
    with pytest.raises(SecurityStatusError):
        session.read_card_face_raw()


def test_read_cv_certificate(pki: Pki) -> None:
    ef = pki.cv_certificate + b"\xff" * 32
    session, conn = visual(select_ef("00 04"), *reads(ef, [(0, 256), (256, 256), (512, 56)]))
    assert session.read_cv_certificate() == pki.cv_certificate
    assert conn.sent[-1] == bytes.fromhex("00 B0 02 00 38")
    conn.assert_done()


def test_read_cv_certificate_rejects_garbage() -> None:
    garbage = bytes.fromhex("7F2105 5F4E0100 00")
    session, conn = visual(select_ef("00 04"), ex("00 B0 00 00 00", garbage))
    with pytest.raises(BadResponseError):
        session.read_cv_certificate()


def test_visual_sign_uses_the_ap_card_key() -> None:
    session, conn = visual(ex("80 2A 00 00 33" + DIGEST_INFO.hex() + "00", SIGNATURE))
    assert session.sign(DIGEST_INFO) == SIGNATURE
    conn.assert_done()


# --- text AP and 住基AP -----------------------------------------------------------------------


def test_text_ap_pin_status() -> None:
    conn = ScriptedConnection([ex(SELECT_TEXT), select_ef("00 11"), ex("00 20 00 80", sw=0x63C2)])
    assert TextApSession(conn).pin_status() == PinStatus(PinKind.TEXT_PIN, 2, 3, False)
    conn.assert_done()


def test_text_ap_basic_info() -> None:
    raw = build_ap_basic_info(key_id=make_key_id("9000034/001"), reserved=bytes(128))
    conn = ScriptedConnection([ex(SELECT_TEXT), select_ef("00 05"), ex("00 B0 00 00 00", raw)])
    info = TextApSession(conn).read_ap_basic_info()
    assert info.extended_length and info.spec_version == 1
    conn.assert_done()


def test_text_ap_cv_certificate(pki: Pki) -> None:
    ef = pki.cv_certificate + b"\xff" * 200  # 568 bytes + filler: three reads, truncated
    conn = ScriptedConnection(
        [ex(SELECT_TEXT), select_ef("00 04"), *reads(ef, [(0, 256), (256, 256), (512, 56)])]
    )
    raw = TextApSession(conn).read_cv_certificate()
    assert raw == pki.cv_certificate and parse_cv_certificate(raw).issuer == "6000023/001"
    conn.assert_done()


def test_juki_pin_status_blocked() -> None:
    conn = ScriptedConnection([ex(SELECT_JUKI), select_ef("00 1C"), ex("00 20 00 80", sw=0x63C0)])
    assert JukiSession(conn).pin_status() == PinStatus(PinKind.JUKI_PIN, 0, 3, True)
    conn.assert_done()


# --- logs never hold a PIN or 照合番号B -----------------------------------------------------------


@pytest.mark.parametrize("level", [10, 5], ids=["DEBUG", "TRAFFIC"])
def test_session_logs_hold_no_secret(caplog: pytest.LogCaptureFixture, level: int) -> None:
    caplog.set_level(level)
    pin_b, password = "60072320344821", "MYNA2580"
    conn = ScriptedConnection(
        [
            ex(SELECT_VISUAL),
            select_ef("00 12"),
            ex("00 20 00 80 0E" + pin_b.encode().hex()),
        ]
    )
    VisualApSession(conn).verify_pin_b(pin_b)
    session, _ = jpki(select_ef("00 1B"), ex("00 20 00 80 08" + password.encode().hex(), sw=0x63C4))
    with pytest.raises(WrongPinError):
        session.verify(PinKind.JPKI_SIGN, password.lower())
    assert caplog.records, "actions are logged"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (pin_b, password):
        raw = secret.encode()
        for form in (secret, raw.hex(), raw.hex(" "), raw.hex().upper(), raw.hex(" ").upper()):
            assert form not in logged


# --- a card answering nonsense raises CardError, never anything else ---------------------------


class RandomCard(ScriptedConnection):
    """Answers every APDU after the SELECT of the AP with drawn data and status word."""

    def __init__(self, data: st.DataObject) -> None:
        super().__init__([])
        self.draw = data

    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
        self.sent.append(apdu)
        if len(self.sent) == 1:
            return b"", 0x9000
        sw = self.draw.draw(
            st.one_of(
                st.sampled_from([0x9000, 0x6982, 0x6984, 0x63C1, 0x6A82, 0x6B00, 0x6C05, 0x6102]),
                st.integers(0, 0xFFFF),
            )
        )
        return self.draw.draw(st.binary(max_size=300)), sw


OPERATIONS = {
    "token_label": lambda c: JpkiSession(c).token_label(),
    "availability": lambda c: JpkiSession(c).certificate_availability(),
    "pin_status": lambda c: JpkiSession(c).pin_status(PinKind.JPKI_SIGN),
    "verify": lambda c: JpkiSession(c).verify(PinKind.JPKI_AUTH, "1234"),
    "read_certificate": lambda c: JpkiSession(c).read_certificate(CertificateKind.AUTH),
    "sign": lambda c: JpkiSession(c).sign(KeyKind.AUTH, DIGEST_INFO),
    "pin_b_status": lambda c: VisualApSession(c).pin_b_status(),
    "read_card_face": lambda c: VisualApSession(c).read_card_face(),
    "read_cv_certificate": lambda c: VisualApSession(c).read_cv_certificate(),
    "visual_sign": lambda c: VisualApSession(c).sign(DIGEST_INFO),
    "text_pin_status": lambda c: TextApSession(c).pin_status(),
    "text_ap_basic_info": lambda c: TextApSession(c).read_ap_basic_info(),
    "text_cv_certificate": lambda c: TextApSession(c).read_cv_certificate(),
    "juki_pin_status": lambda c: JukiSession(c).pin_status(),
    "token_info": lambda c: JpkiSession(c).token_info(),
    "check_token": lambda c: JpkiSession(c).check_token(),
    "verify_pin_b": lambda c: VisualApSession(c).verify_pin_b("60072320344821"),
}


@pytest.mark.parametrize("operation", list(OPERATIONS))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_random_answers_raise_only_card_errors(operation: str, data: st.DataObject) -> None:
    try:
        OPERATIONS[operation](RandomCard(data))
    except CardError:
        pass
