from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from webapp.env import env_bool, env_float, env_int, env_list, env_str


@pytest.mark.parametrize(
    "raw,expected",
    [("1", True), ("TRUE", True), ("yes", True), ("on", True),
     ("0", False), ("false", False), ("No", False), ("", False)],
)
def test_env_bool_reads_the_usual_spellings(raw: str, expected: bool) -> None:
    assert env_bool("X", not expected, environ={"X": raw}) is expected


def test_env_bool_uses_the_default_when_unset() -> None:
    assert env_bool("X", True, environ={}) is True
    assert env_bool("X", False, environ={}) is False


@pytest.mark.parametrize("raw", ["maybe", "2", "tru", "enabled"])
def test_env_bool_rejects_anything_else(raw: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="X must be a boolean"):
        env_bool("X", False, environ={"X": raw})


def test_env_int_parses_and_checks_bounds() -> None:
    assert env_int("N", 5, environ={"N": " 42 "}) == 42
    assert env_int("N", 5, environ={}) == 5
    with pytest.raises(ImproperlyConfigured, match="integer"):
        env_int("N", 5, environ={"N": "4.2"})
    with pytest.raises(ImproperlyConfigured, match="at least 10"):
        env_int("N", 50, minimum=10, environ={"N": "9"})
    with pytest.raises(ImproperlyConfigured, match="at most 10"):
        env_int("N", 5, maximum=10, environ={"N": "11"})


def test_env_float_rejects_text_and_out_of_range() -> None:
    assert env_float("F", 0.0, environ={"F": "0.5"}) == 0.5
    with pytest.raises(ImproperlyConfigured):
        env_float("F", 0.0, environ={"F": "half"})
    with pytest.raises(ImproperlyConfigured):
        env_float("F", 0.0, maximum=1.0, environ={"F": "1.5"})


def test_env_list_splits_on_commas() -> None:
    assert env_list("L", ["a"], environ={"L": "x, y,,z "}) == ["x", "y", "z"]
    assert env_list("L", ["a"], environ={}) == ["a"]


def test_file_variant_reads_a_secret_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_text("s3cret-value\n", encoding="utf-8")
    assert env_str("SECRET_KEY", "", environ={"SECRET_KEY_FILE": str(secret)}) == "s3cret-value"


def test_file_variant_fails_loudly_when_missing(tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match="cannot read"):
        env_str("SECRET_KEY", "", environ={"SECRET_KEY_FILE": str(tmp_path / "absent")})


def test_file_variant_and_plain_variable_together_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_text("a", encoding="utf-8")
    with pytest.raises(ImproperlyConfigured, match="either"):
        env_str("SECRET_KEY", "", environ={"SECRET_KEY": "b", "SECRET_KEY_FILE": str(secret)})
