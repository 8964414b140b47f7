"""PIN formats and 照合番号B (spec §4.3, §6.2)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mynacard.errors import InvalidPinFormatError
from mynacard.pins import PinKind, make_birth_date_key, make_pin_b, normalize_pin, to_wareki

FOUR_DIGIT_KINDS = [PinKind.JPKI_AUTH, PinKind.TEXT_PIN, PinKind.JUKI_PIN]


@pytest.mark.parametrize("kind", FOUR_DIGIT_KINDS)
def test_four_digit_pins(kind: PinKind) -> None:
    assert normalize_pin(kind, "0123") == "0123"
    for bad in ["123", "12345", "12a4", "１２３４", "1234\n", " 1234", "", "١٢٣٤"]:
        with pytest.raises(InvalidPinFormatError):
            normalize_pin(kind, bad)


def test_signature_password_is_upper_cased() -> None:
    assert normalize_pin(PinKind.JPKI_SIGN, "myna2580") == "MYNA2580"
    assert normalize_pin(PinKind.JPKI_SIGN, "A1B2C3") == "A1B2C3"
    assert normalize_pin(PinKind.JPKI_SIGN, "a" * 15 + "1") == "A" * 15 + "1"


@pytest.mark.parametrize(
    "bad",
    [
        "ABC12",  # 5 characters
        "A" * 16 + "1",  # 17 characters
        "ABCDEFG",  # no digit
        "1234567",  # no letter
        "ABC-123",  # symbol
        "ABC 123",
        "ＡＢＣ１２３",  # full-width
        "straße1",  # "ß".upper() == "SS" must not sneak in
        "ABC123\n",
    ],
)
def test_signature_password_rejects(bad: str) -> None:
    with pytest.raises(InvalidPinFormatError):
        normalize_pin(PinKind.JPKI_SIGN, bad)


def test_pin_b_is_14_digits() -> None:
    assert normalize_pin(PinKind.VISUAL_PIN_B, "60072320344821") == "60072320344821"
    for bad in ["6007232034482", "600723203448211", "6007232034482X"]:
        with pytest.raises(InvalidPinFormatError):
            normalize_pin(PinKind.VISUAL_PIN_B, bad)


def test_errors_do_not_echo_the_value() -> None:
    with pytest.raises(InvalidPinFormatError) as info:
        normalize_pin(PinKind.JPKI_SIGN, "SECRET")
    assert "SECRET" not in str(info.value)


@pytest.mark.parametrize(
    ("day", "era", "year"),
    [
        (date(1868, 1, 25), "明治", 1),
        (date(1912, 7, 29), "明治", 45),
        (date(1912, 7, 30), "大正", 1),
        (date(1926, 12, 24), "大正", 15),
        (date(1926, 12, 25), "昭和", 1),
        (date(1989, 1, 7), "昭和", 64),
        (date(1989, 1, 8), "平成", 1),
        (date(2019, 4, 30), "平成", 31),
        (date(2019, 5, 1), "令和", 1),
        (date(2026, 11, 27), "令和", 8),
    ],
)
def test_era_boundaries(day: date, era: str, year: int) -> None:
    got_era, got_year = to_wareki(day)
    assert (got_era.name, got_year) == (era, year)


def test_before_meiji_has_no_era() -> None:
    with pytest.raises(InvalidPinFormatError):
        to_wareki(date(1868, 1, 24))


def test_birth_date_key_uses_two_digit_era_year() -> None:
    assert make_birth_date_key(date(1989, 1, 8)) == "010108"  # 平成元年
    assert make_birth_date_key(date(1989, 1, 7)) == "640107"  # 昭和64年
    assert make_birth_date_key(date(2019, 5, 1)) == "010501"  # 令和元年


def test_pin_b_examples() -> None:
    # Confirmed on a card (§6.2): born 1980-02-17 (昭和55), expiry 2035, code 2285.
    assert make_pin_b(date(1980, 2, 17), date(2035, 2, 17), "2285") == "55021720352285"
    # Demo profile (docs/internal-api.md).
    assert make_pin_b(date(1985, 7, 23), date(2034, 7, 23), "4821") == "60072320344821"


@pytest.mark.parametrize("code", ["482", "48211", "48a1", "４８２１"])
def test_pin_b_rejects_bad_security_codes(code: str) -> None:
    with pytest.raises(InvalidPinFormatError):
        make_pin_b(date(1985, 7, 23), date(2034, 7, 23), code)


@given(st.dates(min_value=date(1868, 1, 25), max_value=date(2099, 12, 31)))
def test_every_date_gives_a_valid_pin_b(day: date) -> None:
    pin_b = make_pin_b(day, date(2030, 1, 1), "0000")
    assert normalize_pin(PinKind.VISUAL_PIN_B, pin_b) == pin_b
    assert pin_b[2:6] == f"{day.month:02d}{day.day:02d}"
    era, year = to_wareki(day)
    assert 1 <= year <= 99 and int(pin_b[:2]) == year
