"""Card profiles: the shipped demo card, loading errors, and make-profile."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import pytest

from mynacard.pins import make_pin_b
from mynacard.sim import ProfileError, SimulatedCard, demo_profile, load_profile
from mynacard.sim.__main__ import main
from mynacard.sim.make_profile import my_number_check_digit, nth_birthday_after
from mynacard.sim.photo import PhotoError, encode_chip_photo
from mynacard.sim.profile import PROFILES_DIR

FACES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "faces"
JP2_SIGNATURE = bytes.fromhex("0000000C6A5020200D0A870A")


def test_demo_profile_has_the_agreed_values() -> None:
    profile = demo_profile()
    assert profile.birth_date == date(1985, 7, 23)
    assert profile.card_expiry == date(2034, 7, 23)
    assert profile.security_code == "4821"
    assert {k: p.value for k, p in profile.pins.items()} == {
        "jpki_auth": "2580",
        "jpki_sign": "MYNA2580",
        "text_pin": "2580",
        "juki_pin": "2580",
    }
    assert {k: p.tries_left for k, p in profile.pins.items()} == {
        "jpki_auth": 3,
        "jpki_sign": 5,
        "text_pin": 3,
        "juki_pin": 3,
    }
    assert make_pin_b(profile.birth_date, profile.card_expiry, profile.security_code) == (
        "60072320344821"
    )
    assert profile.photo_source is not None and profile.photo_source.name == "obama.jpg"


def test_demo_photo_is_a_small_recognisable_jp2() -> None:
    jp2 = demo_profile().photo_jp2
    assert jp2.startswith(JP2_SIGNATURE)
    assert 3 * 1024 <= len(jp2) <= 5 * 1024
    image = cv2.imdecode(np.frombuffer(jp2, np.uint8), cv2.IMREAD_UNCHANGED)
    assert image is not None and image.shape[:2] == (250, 200)


def test_profile_repr_hides_pins() -> None:
    text = repr(demo_profile()) + repr(demo_profile().pins)
    assert "2580" not in text and "MYNA" not in text


def _copy_demo(tmp_path: Path) -> Path:
    shutil.copy(PROFILES_DIR / "demo.jp2", tmp_path / "demo.jp2")
    target = tmp_path / "card.toml"
    target.write_text((PROFILES_DIR / "demo.toml").read_text(encoding="utf-8"), encoding="utf-8")
    return target


def _edit(path: Path, old: str, new: str) -> Path:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_a_copied_profile_loads_with_relative_photo(tmp_path: Path) -> None:
    profile = load_profile(_copy_demo(tmp_path))
    assert profile.photo_jp2 == demo_profile().photo_jp2


def test_missing_file_is_a_profile_error(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="cannot read profile"):
        load_profile(tmp_path / "nope.toml")


def test_invalid_toml_is_a_profile_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[card\nid = 1", encoding="utf-8")
    with pytest.raises(ProfileError, match="not valid UTF-8 TOML"):
        load_profile(path)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("birth_date = 1985-07-23", 'birth_date = "1985-07-23"', "'birth_date' has the wrong type"),
        ("birth_date = 1985-07-23", "birth_date = 1985-07-23T00:00:00", "wrong type"),
        ('security_code = "4821"', 'security_code = "48210"', "'security_code' must be 4"),
        ('sex = "1"', 'sex = "M"', "'sex' must be one of"),
        ('id = "demo"', 'id = "../x"', "'id' must be ASCII"),
        ("[pins.juki_pin]", "[pins.juki]", "missing field 'juki_pin'"),
        (
            'value = "MYNA2580"\ntries_left = 5',
            'value = "MYNA2580"\ntries_left = 6',
            "'tries_left' must be an integer 0..5",
        ),
        ('jp2 = "demo.jp2"', 'jp2 = "missing.jp2"', "cannot read the JP2 file"),
        (
            "not_after = 2029-07-22T23:59:59+09:00",
            "not_after = 2024-07-22",
            "'not_after' must be later",
        ),
        ("visual_pin_b = 10", "visual_pin_b = 11", "'visual_pin_b' must be an integer"),
        ('value = "MYNA2580"', 'value = "myna2580"', "does not have the jpki_sign format"),
        ('value = "2580"', 'value = "25800"', "does not have the jpki_auth format"),
    ],
)
def test_bad_fields_name_the_field(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = _edit(_copy_demo(tmp_path), old, new)
    with pytest.raises(ProfileError, match=message):
        load_profile(path)


def test_a_non_jp2_photo_is_refused(tmp_path: Path) -> None:
    path = _copy_demo(tmp_path)
    (tmp_path / "demo.jp2").write_bytes(b"\xff\xd8\xff\xe0 a JPEG, not a JP2")
    with pytest.raises(ProfileError, match="not a JP2 file"):
        load_profile(path)


def test_a_profile_with_blocked_counters_starts_blocked(tmp_path: Path) -> None:
    path = _edit(
        _copy_demo(tmp_path), 'value = "2580"\ntries_left = 3', 'value = "2580"\ntries_left = 0'
    )
    card = SimulatedCard(load_profile(path))
    assert card.tries_left("jpki_auth") == 0
    aid = bytes.fromhex("00A4040C0AD392F000260100000001")
    assert card.process(aid) == (b"", 0x9000)
    assert card.process(bytes.fromhex("0020009804") + b"2580") == (b"", 0x6984)


def test_my_number_check_digit() -> None:
    # 12345678901 → weights 2..7,2..6 from the right; sum mod 11 = 3 → 11 - 3 = 8.
    assert my_number_check_digit("12345678901") == "8"
    number = demo_profile().my_number
    assert my_number_check_digit(number[:11]) == number[11]


def test_validity_dates_follow_birthdays() -> None:
    assert nth_birthday_after(date(2024, 7, 23), date(1985, 7, 23), 10) == date(2034, 7, 23)
    assert nth_birthday_after(date(2024, 7, 22), date(1985, 7, 23), 5) == date(2028, 7, 23)
    assert nth_birthday_after(date(2024, 3, 1), date(2000, 2, 29), 1) == date(2025, 3, 1)


def test_make_profile_writes_a_loadable_profile(tmp_path: Path) -> None:
    out = tmp_path / "biden.toml"
    code = main(
        [
            "make-profile",
            "--photo",
            str(FACES / "biden.jpg"),
            "--out",
            str(out),
            "--birth-date",
            "1990-01-02",
            "--security-code",
            "1234",
            "--issued",
            "2025-04-01",
        ]
    )
    assert code == 0
    profile = load_profile(out)
    assert profile.card_id == "biden"
    assert profile.birth_date == date(1990, 1, 2)
    assert profile.card_expiry == date(2035, 1, 2)
    assert profile.cert_not_after.date() == date(2030, 1, 1)
    assert 3 * 1024 <= len(profile.photo_jp2) <= 5 * 1024
    assert (tmp_path / "biden.jp2").read_bytes() == profile.photo_jp2


def test_a_photo_without_a_face_is_refused() -> None:
    blank = cv2.imencode(".png", np.full((400, 300, 3), 200, np.uint8))[1].tobytes()
    with pytest.raises(PhotoError, match="no face"):
        encode_chip_photo(blank)
    with pytest.raises(PhotoError, match="not an image"):
        encode_chip_photo(b"not an image")


def test_a_card_without_a_sign_certificate(tmp_path: Path) -> None:
    path = _edit(_copy_demo(tmp_path), 'sex = "1"', 'sex = "1"\nhas_sign_certificate = false')
    card = SimulatedCard(load_profile(path))
    card.process(bytes.fromhex("00A4040C0AD392F000260100000001"))
    assert card.process(bytes.fromhex("00B0880003")) == (bytes.fromhex("008F00"), 0x9000)
    assert card.process(bytes.fromhex("0020009B08") + b"MYNA2580")[1] == 0x9000
    data, sw = card.process(bytes.fromhex("00B0810010"))
    assert (data, sw) == (b"\xff" * 16, 0x9000)  # EF 0001 holds only filler (§9)
