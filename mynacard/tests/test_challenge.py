"""challenge_digest: the documented, length-prefixed encoding (docs/evidence.md)."""

from __future__ import annotations

import hashlib

import pytest

from mynacard.challenge import (
    PURPOSE_RESERVE_AUTH_RESET,
    PURPOSE_RESERVE_SIGN_RESET,
    challenge_digest,
    sha256_digest_info,
)

NONCE = bytes(range(32))


def lp(field: bytes) -> bytes:
    return len(field).to_bytes(4, "big") + field


def test_it_matches_the_documented_encoding() -> None:
    message = (
        lp(b"myna-reset/challenge/v1")
        + lp(b"myna-reset/reserve/sign")
        + lp(b"https://myna.example.jp")
        + lp(NONCE)
    )
    expected = hashlib.sha256(message).digest()
    got = challenge_digest(PURPOSE_RESERVE_SIGN_RESET, "https://myna.example.jp", NONCE)
    assert got == expected


def test_every_field_changes_the_digest() -> None:
    base = challenge_digest(PURPOSE_RESERVE_SIGN_RESET, "https://a.example", NONCE)
    assert base != challenge_digest(PURPOSE_RESERVE_AUTH_RESET, "https://a.example", NONCE)
    assert base != challenge_digest(PURPOSE_RESERVE_SIGN_RESET, "https://b.example", NONCE)
    assert base != challenge_digest(PURPOSE_RESERVE_SIGN_RESET, "https://a.example", NONCE[::-1])


def test_it_is_not_a_plain_concatenation() -> None:
    purpose, origin = PURPOSE_RESERVE_SIGN_RESET, "https://myna.example.jp"
    flat = b"myna-reset/challenge/v1" + purpose.encode() + origin.encode() + NONCE
    assert challenge_digest(purpose, origin, NONCE) != hashlib.sha256(flat).digest()


@pytest.mark.parametrize(
    "origin",
    ["https://a.jp/", "HTTPS://a.jp", "https://A.jp", "https://a.jp/path", "a.jp", "ftp://a.jp"],
)
def test_non_canonical_origins_are_refused(origin: str) -> None:
    with pytest.raises(ValueError):
        challenge_digest(PURPOSE_RESERVE_SIGN_RESET, origin, NONCE)


@pytest.mark.parametrize("size", [0, 16, 31, 65])
def test_nonce_size(size: int) -> None:
    with pytest.raises(ValueError):
        challenge_digest(PURPOSE_RESERVE_SIGN_RESET, "https://a.jp", bytes(size))


def test_digest_info_is_51_bytes() -> None:
    digest_info = sha256_digest_info(bytes(32))
    assert len(digest_info) == 51
    assert digest_info[:19].hex() == "3031300d060960864801650304020105000420"
