"""When the resident can actually finish: the part of the 24-hour window inside kiosk hours.

Kiosks serve 06:30–23:00 JST (peers.md; settings MYNA_KIOSK_OPENS / MYNA_KIOSK_CLOSES). A booking
at 22:50 leaves only the next morning, so the done page warns when the window is mostly closed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings

from reservations.models import JST

logger = logging.getLogger(__name__)

#: Warn when less than this much opening time falls inside the window...
MIN_OPEN = timedelta(hours=6)
#: ...or when the kiosks are closed (or about to close) right after booking.
SOON = timedelta(hours=1)


@dataclass(frozen=True)
class OpenSpan:
    """One stretch of kiosk opening time inside the reservation window (JST)."""

    start: datetime
    end: datetime

    @property
    def length(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class KioskWindow:
    """Kiosk opening time between booking and deadline, and whether to warn about it."""

    opens: time
    closes: time
    spans: tuple[OpenSpan, ...]
    closed_now: bool

    @property
    def total_open(self) -> timedelta:
        return sum((span.length for span in self.spans), timedelta())

    @property
    def first_opening(self) -> datetime | None:
        """The first stretch long enough to get there (a 10-minute tail tonight does not count)."""
        useful = [span for span in self.spans if span.length >= SOON]
        chosen = useful or list(self.spans)
        return chosen[0].start if chosen else None

    @property
    def warn(self) -> bool:
        return self.closed_now or self.total_open < MIN_OPEN


def parse_hhmm(value: str) -> time:
    hours, _, minutes = value.partition(":")
    return time(int(hours), int(minutes or 0))


def kiosk_hours() -> tuple[time, time]:
    return (
        parse_hhmm(str(settings.MYNA_KIOSK_OPENS)),
        parse_hhmm(str(settings.MYNA_KIOSK_CLOSES)),
    )


def is_open(now: datetime, *, opens: time | None = None, closes: time | None = None) -> bool:
    """Whether a kiosk may complete a reset at `now` (hours are daily, JST; the kiosk enforces
    them, the done page only warns)."""
    if opens is None or closes is None:
        opens, closes = kiosk_hours()
    moment = now.astimezone(JST).time()
    if opens < closes:
        return opens <= moment < closes
    return moment >= opens or moment < closes  # hours past midnight (e.g. 06:00–02:00)


def window(start: datetime, end: datetime, *, opens: time, closes: time) -> KioskWindow:
    """Opening spans between `start` and `end` (kiosk hours are daily, in JST)."""
    start_jst, end_jst = start.astimezone(JST), end.astimezone(JST)
    spans: list[OpenSpan] = []
    day = start_jst.date() - timedelta(days=1)
    while day <= end_jst.date():
        open_at = datetime.combine(day, opens, tzinfo=JST)
        close_at = datetime.combine(day, closes, tzinfo=JST)
        if close_at <= open_at:  # hours past midnight (e.g. 06:00–02:00)
            close_at += timedelta(days=1)
        lo, hi = max(open_at, start_jst), min(close_at, end_jst)
        if lo < hi:
            spans.append(OpenSpan(lo, hi))
        day += timedelta(days=1)
    closed_now = not spans or spans[0].start > start_jst or spans[0].length < SOON
    return KioskWindow(opens=opens, closes=closes, spans=tuple(spans), closed_now=closed_now)


def for_reservation(created: datetime, expires: datetime) -> KioskWindow:
    opens, closes = kiosk_hours()
    return window(created, expires, opens=opens, closes=closes)
