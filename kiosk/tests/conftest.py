"""Kiosk tests run whatever the hour: the completion tests must not depend on the clock."""

from __future__ import annotations

from typing import Any

import pytest

from tests.kiosk_open import hours_around_now


@pytest.fixture(autouse=True)
def kiosk_open_now(settings: Any) -> None:
    for name, value in hours_around_now().items():
        setattr(settings, name, value)
