"""The two passwords a reservation can reset (architecture.md, table of reset targets)."""

from __future__ import annotations

from enum import StrEnum, unique


@unique
class TargetPassword(StrEnum):
    """The password the resident wants reset; the value is what pages, APIs and the database use."""

    SIGN = "sign"  # 署名用パスワード: proven with the 利用者証明用 PIN (JPKI user-auth key)
    AUTH = "auth"  # 利用者証明用パスワード: proven with the 署名用 password (JPKI signature key)
