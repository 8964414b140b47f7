"""``python -m mynacard.sim make-profile``: a new card profile (TOML + JP2) from any photo."""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from mynacard.pins import PinKind, make_pin_b, normalize_pin
from mynacard.sim.photo import encode_chip_photo

logger = logging.getLogger(__name__)

__all__ = [
    "NewProfile",
    "add_arguments",
    "my_number_check_digit",
    "nth_birthday_after",
    "run",
    "write_profile",
]


def my_number_check_digit(first_eleven: str) -> str:
    """Check digit of a 12-digit 個人番号 (weights 2..7, 2..6 from the right; mod 11)."""
    if len(first_eleven) != 11 or not first_eleven.isdigit():
        raise ValueError("11 digits expected")
    total = 0
    for n, digit in enumerate(reversed(first_eleven), start=1):
        weight = n + 1 if n <= 6 else n - 5
        total += int(digit) * weight
    remainder = total % 11
    return "0" if remainder <= 1 else str(11 - remainder)


def nth_birthday_after(issued: date, birth: date, n: int) -> date:
    """The ``n``-th birthday strictly after ``issued`` (a 29 February birthday counts on 1 March
    in common years). The card expires on the 10th, the JPKI certificates the day before the
    5th (§9)."""
    first_year = (
        issued.year if (birth.month, birth.day) > (issued.month, issued.day) else (issued.year + 1)
    )
    year = first_year + n - 1
    try:
        return date(year, birth.month, birth.day)
    except ValueError:
        return date(year, 3, 1)


@dataclass(frozen=True)
class NewProfile:
    """The fields make-profile writes."""

    card_id: str
    name: str
    address: str
    birth_date: date
    sex: str
    card_expiry: date
    security_code: str
    my_number: str
    auth_pin: str
    sign_password: str
    text_pin: str
    juki_pin: str
    issued: date
    photo_source: str

    def __repr__(self) -> str:
        return f"NewProfile(card_id={self.card_id!r})"


def _q(text: str) -> str:
    # JSON strings are valid TOML basic strings (same escapes, \\uXXXX included).
    return json.dumps(text, ensure_ascii=False)


def write_profile(new: NewProfile, out: Path, jp2: bytes) -> Path:
    """Write ``out`` (TOML) and ``<out stem>.jp2`` beside it; return the JP2 path."""
    # Reject impossible values before writing anything: the card would never accept them.
    normalize_pin(PinKind.JPKI_AUTH, new.auth_pin)
    normalize_pin(PinKind.JPKI_SIGN, new.sign_password)
    normalize_pin(PinKind.TEXT_PIN, new.text_pin)
    normalize_pin(PinKind.JUKI_PIN, new.juki_pin)
    make_pin_b(new.birth_date, new.card_expiry, new.security_code)
    jp2_path = out.with_suffix(".jp2")
    not_after = nth_birthday_after(new.issued, new.birth_date, 5) - timedelta(days=1)
    text = f"""# Simulated My Number Card profile (mynacard/sim/profile.py documents the fields).
# Test data only: never put a real card's PINs here.

[card]
id = {_q(new.card_id)}
name = {_q(new.name)}
address = {_q(new.address)}
birth_date = {new.birth_date.isoformat()}
sex = {_q(new.sex)}
card_expiry = {new.card_expiry.isoformat()}
security_code = {_q(new.security_code)}
my_number = {_q(new.my_number)}

[photo]
source = {_q(new.photo_source)}
jp2 = {_q(jp2_path.name)}

[certificates]
not_before = {new.issued.isoformat()}T00:00:00+09:00
not_after = {not_after.isoformat()}T23:59:59+09:00

[pins.jpki_auth]
value = {_q(new.auth_pin)}
tries_left = 3

[pins.jpki_sign]
value = {_q(new.sign_password.upper())}
tries_left = 5

[pins.text_pin]
value = {_q(new.text_pin)}
tries_left = 3

[pins.juki_pin]
value = {_q(new.juki_pin)}
tries_left = 3

[derived_keys]
visual_pin_b = 10
visual_pin_a = 10
visual_birth_date = 10
"""
    out.parent.mkdir(parents=True, exist_ok=True)
    jp2_path.write_bytes(jp2)
    out.write_text(text, encoding="utf-8")
    logger.info("wrote profile %s and its chip photo (%d bytes)", out.name, len(jp2))
    return jp2_path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The make-profile options."""
    today = date.today()
    parser.add_argument("--photo", type=Path, required=True, help="any photo with one face")
    parser.add_argument("--out", type=Path, required=True, help="profile TOML to write")
    parser.add_argument("--id", dest="card_id", help="profile id (default: the file stem)")
    parser.add_argument("--name", default="見本　太郎")
    parser.add_argument("--address", default="東京都千代田区霞が関２丁目１番２号")
    parser.add_argument("--birth-date", type=date.fromisoformat, default=date(1985, 7, 23))
    parser.add_argument("--sex", choices=["0", "1", "2", "9"], default="1")
    parser.add_argument(
        "--expiry",
        type=date.fromisoformat,
        default=None,
        help="card expiry (default: 10th birthday after issuance)",
    )
    parser.add_argument("--issued", type=date.fromisoformat, default=today)
    parser.add_argument("--security-code", default="4821")
    parser.add_argument("--my-number", default=None, help="12 digits (default: derived)")
    parser.add_argument("--auth-pin", default="2580")
    parser.add_argument("--sign-password", default="MYNA2580")
    parser.add_argument("--text-pin", default="2580")
    parser.add_argument("--juki-pin", default="2580")
    parser.add_argument("--colour", action="store_true", help="store a colour photo")


def run(args: argparse.Namespace) -> int:
    """Encode the photo and write the profile."""
    issued: date = args.issued
    birth: date = args.birth_date
    expiry = args.expiry or nth_birthday_after(issued, birth, 10)
    card_id = args.card_id or args.out.stem
    seed = int.from_bytes(hashlib.sha256(f"my-number:{card_id}".encode()).digest()[:8], "big")
    first_eleven = f"{seed % 10**11:011d}"
    my_number = args.my_number or first_eleven + my_number_check_digit(first_eleven)
    jp2 = encode_chip_photo(args.photo, colour=args.colour)
    new = NewProfile(
        card_id=card_id,
        name=args.name,
        address=args.address,
        birth_date=birth,
        sex=args.sex,
        card_expiry=expiry,
        security_code=args.security_code,
        my_number=my_number,
        auth_pin=args.auth_pin,
        sign_password=args.sign_password,
        text_pin=args.text_pin,
        juki_pin=args.juki_pin,
        issued=issued,
        photo_source=str(args.photo),
    )
    write_profile(new, args.out, jp2)
    print(f"wrote {args.out} and {args.out.with_suffix('.jp2')} ({len(jp2)} bytes)")
    return 0
