"""Card profiles: the personal data and PIN state of one simulated card, read from TOML.

A profile is data, not code, so anyone can run the flow with their own face (``python -m
mynacard.sim make-profile``). The values here never leave the simulator's process except as the
card would give them out (behind the same PINs, spec §5.1 and §6.1).
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

from mynacard.constants import (
    MAX_TRIES_FOUR_DIGIT,
    MAX_TRIES_JPKI_AUTH,
    MAX_TRIES_JPKI_SIGN,
    MAX_TRIES_VISUAL_PIN_B,
)
from mynacard.errors import InvalidPinFormatError
from mynacard.pins import PinKind, normalize_pin
from mynacard.records import JP2_SIGNATURE

logger = logging.getLogger(__name__)

__all__ = [
    "JST",
    "PROFILES_DIR",
    "CardProfile",
    "PinSetting",
    "ProfileError",
    "demo_profile",
    "load_profile",
    "parse_profile",
]

JST = timezone(timedelta(hours=9))
PROFILES_DIR = Path(__file__).resolve().parent / "profiles"
#: Where source photos named without a directory are also looked up (a source checkout).
_FIXTURE_FACES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "faces"

#: The four PINs a profile sets, with their maximum tries (spec §4.3, §7).
PIN_MAX_TRIES: Mapping[str, int] = {
    "jpki_auth": MAX_TRIES_JPKI_AUTH,
    "jpki_sign": MAX_TRIES_JPKI_SIGN,
    "text_pin": MAX_TRIES_FOUR_DIGIT,
    "juki_pin": MAX_TRIES_FOUR_DIGIT,
}
#: Keys the visual AP derives from the card face (§6.2); only their tries are set in a profile.
DERIVED_KEY_MAX_TRIES: Mapping[str, int] = {
    "visual_pin_b": MAX_TRIES_VISUAL_PIN_B,  # second-hand figure, §6.2 / §13.2
    "visual_pin_a": 10,  # unknown on a real card (§13.2); the simulator chooses 10
    "visual_birth_date": 10,  # unknown on a real card (§13.2); the simulator chooses 10
}


class ProfileError(ValueError):
    """A profile file is missing, not TOML, or lacks / mistypes a field."""


@dataclass(frozen=True)
class PinSetting:
    """One PIN's value and its counter as the card starts."""

    value: str
    max_tries: int
    tries_left: int

    def __repr__(self) -> str:  # PINs are never logged (style.md "Logs never hold secrets")
        return f"PinSetting(max_tries={self.max_tries}, tries_left={self.tries_left})"


@dataclass(frozen=True)
class CardProfile:
    """Everything that differs between two simulated cards."""

    card_id: str  # names the cached per-card keys; not personal data
    name: str
    address: str
    birth_date: date
    sex: str  # "1" male, "2" female, "9" n/a, "0" unknown (§5.3)
    card_expiry: date
    security_code: str
    my_number: str  # 12 digits; also 照合番号A (§6.2)
    pins: Mapping[str, PinSetting]  # keys of PIN_MAX_TRIES
    derived_tries: Mapping[str, int]  # keys of DERIVED_KEY_MAX_TRIES -> tries left
    photo_jp2: bytes  # DF27 content, a JP2 file (§6.3)
    photo_source: Path | None
    cert_not_before: datetime
    cert_not_after: datetime
    municipality_code: str = "131016"  # 全国地方公共団体コード, Chiyoda-ku (§6.3 EF 0003)
    has_sign_certificate: bool = True  # under-15s get none (§9); EF 0008 byte 0 then is not 8F

    def __repr__(self) -> str:
        return f"CardProfile(card_id={self.card_id!r})"


def _require(table: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in table:
        raise ProfileError(f"{where}: missing field {key!r}")
    value = table[key]
    # TOML datetimes are also dates; a bool is also an int: reject those look-alikes.
    wrong_lookalike = (isinstance(value, bool) and kind is not bool) or (
        kind is date and isinstance(value, datetime)
    )
    if wrong_lookalike:
        raise ProfileError(f"{where}: field {key!r} has the wrong type")
    if not isinstance(value, kind):
        raise ProfileError(f"{where}: field {key!r} has the wrong type")
    return value


def _digits(value: str, length: int, key: str, where: str) -> str:
    if len(value) != length or not value.isascii() or not value.isdigit():
        raise ProfileError(f"{where}: {key!r} must be {length} ASCII digits")
    return value


def _as_datetime(value: object, key: str, where: str, *, end_of_day: bool) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=JST)
    if isinstance(value, date):
        moment = time(23, 59, 59) if end_of_day else time(0, 0, 0)
        return datetime.combine(value, moment, tzinfo=JST)
    raise ProfileError(f"{where}: field {key!r} must be a TOML date or datetime")


def _resolve(base: Path, name: str) -> Path:
    path = Path(name)
    if path.is_absolute():
        return path
    for folder in (base, _FIXTURE_FACES):
        if (folder / path).exists():
            return folder / path
    return base / path


def parse_profile(data: Mapping[str, Any], *, base: Path, where: str = "profile") -> CardProfile:
    """Build a profile from parsed TOML; relative file names resolve against ``base``."""
    card = _require(data, "card", dict, where)
    w = f"{where} [card]"
    birth_date = _require(card, "birth_date", date, w)
    card_expiry = _require(card, "card_expiry", date, w)
    sex = _require(card, "sex", str, w)
    if sex not in {"0", "1", "2", "9"}:
        raise ProfileError(f"{w}: 'sex' must be one of 0, 1, 2, 9 (ISO 5218)")
    card_id = _require(card, "id", str, w)
    if not card_id or not all(c.isascii() and (c.isalnum() or c in "-_") for c in card_id):
        raise ProfileError(f"{w}: 'id' must be ASCII letters, digits, '-' or '_'")

    pins_table = _require(data, "pins", dict, where)
    pins: dict[str, PinSetting] = {}
    for kind, max_tries in PIN_MAX_TRIES.items():
        entry = _require(pins_table, kind, dict, f"{where} [pins]")
        pw = f"{where} [pins.{kind}]"
        value = _require(entry, "value", str, pw)
        try:
            # The card stores what it compares: a format the card would never accept is a
            # mistake in the profile (the sign password must already be upper-case, §4.3).
            valid = normalize_pin(PinKind(kind), value) == value
        except InvalidPinFormatError:
            valid = False
        if not valid:
            raise ProfileError(f"{pw}: 'value' does not have the {kind} format (§4.3)")
        tries = entry.get("tries_left", max_tries)
        if isinstance(tries, bool) or not isinstance(tries, int) or not 0 <= tries <= max_tries:
            raise ProfileError(f"{pw}: 'tries_left' must be an integer 0..{max_tries}")
        pins[kind] = PinSetting(value=value, max_tries=max_tries, tries_left=tries)

    derived: dict[str, int] = {}
    derived_table = data.get("derived_keys", {})
    if not isinstance(derived_table, dict):
        raise ProfileError(f"{where}: [derived_keys] must be a table")
    for kind, max_tries in DERIVED_KEY_MAX_TRIES.items():
        tries = derived_table.get(kind, max_tries)
        if isinstance(tries, bool) or not isinstance(tries, int) or not 0 <= tries <= max_tries:
            raise ProfileError(
                f"{where} [derived_keys]: {kind!r} must be an integer 0..{max_tries}"
            )
        derived[kind] = tries

    photo_table = _require(data, "photo", dict, where)
    jp2_path = _resolve(base, _require(photo_table, "jp2", str, f"{where} [photo]"))
    try:
        photo_jp2 = jp2_path.read_bytes()
    except OSError as exc:
        raise ProfileError(f"{where} [photo]: cannot read the JP2 file {jp2_path.name!r}") from exc
    if not photo_jp2.startswith(JP2_SIGNATURE):
        raise ProfileError(f"{where} [photo]: {jp2_path.name!r} is not a JP2 file (§6.3)")
    source = photo_table.get("source")
    if source is not None and not isinstance(source, str):
        raise ProfileError(f"{where} [photo]: 'source' must be a string")

    certs = _require(data, "certificates", dict, where)
    cw = f"{where} [certificates]"
    not_before = _as_datetime(
        _require(certs, "not_before", (date, datetime), cw), "not_before", cw, end_of_day=False
    )
    not_after = _as_datetime(
        _require(certs, "not_after", (date, datetime), cw), "not_after", cw, end_of_day=True
    )
    if not_after <= not_before:
        raise ProfileError(f"{cw}: 'not_after' must be later than 'not_before'")
    has_sign = card.get("has_sign_certificate", True)
    if not isinstance(has_sign, bool):
        raise ProfileError(f"{w}: 'has_sign_certificate' must be true or false")
    municipality = card.get("municipality_code", "131016")
    if not isinstance(municipality, str):
        raise ProfileError(f"{w}: 'municipality_code' must be a string")

    return CardProfile(
        card_id=card_id,
        name=_require(card, "name", str, w),
        address=_require(card, "address", str, w),
        birth_date=birth_date,
        sex=sex,
        card_expiry=card_expiry,
        security_code=_digits(_require(card, "security_code", str, w), 4, "security_code", w),
        my_number=_digits(_require(card, "my_number", str, w), 12, "my_number", w),
        pins=pins,
        derived_tries=derived,
        photo_jp2=photo_jp2,
        photo_source=_resolve(base, source) if source else None,
        cert_not_before=not_before,
        cert_not_after=not_after,
        municipality_code=_digits(municipality, 6, "municipality_code", w),
        has_sign_certificate=has_sign,
    )


def load_profile(path: Path | str) -> CardProfile:
    """Read a profile TOML file; raises ProfileError with a message naming the bad field."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ProfileError(f"cannot read profile {path}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ProfileError(f"{path.name}: not valid UTF-8 TOML: {exc}") from exc
    logger.debug("loading card profile %s", path.name)
    return parse_profile(data, base=path.parent, where=path.name)


def demo_profile() -> CardProfile:
    """The shipped demo card (docs/internal-api.md, "Demo profile")."""
    return load_profile(PROFILES_DIR / "demo.toml")
