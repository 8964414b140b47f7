"""The part of the 24-hour window that falls inside kiosk hours, and when to warn."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from reservations.kiosk_hours import window
from reservations.models import JST

OPENS, CLOSES = time(6, 30), time(23, 0)


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=JST)


def test_a_morning_booking_has_the_whole_day_and_no_warning() -> None:
    result = window(_at(27, 9), _at(28, 9), opens=OPENS, closes=CLOSES)
    assert result.spans[0].start == _at(27, 9)
    assert result.spans[0].end == _at(27, 23)
    assert result.spans[1].start == _at(28, 6, 30)
    assert not result.warn


def test_a_booking_at_22_50_warns_that_only_tomorrow_is_left() -> None:
    result = window(_at(27, 22, 50), _at(28, 22, 50), opens=OPENS, closes=CLOSES)
    assert result.closed_now
    assert result.warn
    assert result.first_opening == _at(28, 6, 30)


def test_a_booking_at_night_warns_and_names_the_next_opening() -> None:
    result = window(_at(27, 2), _at(28, 2), opens=OPENS, closes=CLOSES)
    assert result.warn and result.first_opening == _at(27, 6, 30)
    assert result.total_open == timedelta(hours=16, minutes=30)


def test_short_windows_outside_hours_have_no_span() -> None:
    result = window(_at(27, 23, 10), _at(28, 1), opens=OPENS, closes=CLOSES)
    assert result.spans == ()
    assert result.first_opening is None and result.warn
