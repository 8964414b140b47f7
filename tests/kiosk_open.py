"""Kiosk hours that include the moment a test runs.

The kiosk refuses outside MYNA_KIOSK_OPENS–MYNA_KIOSK_CLOSES (JST, 06:30–23:00 by default), so a
completion test run at night would be refused as `closed`. Tests of the completion itself use a
window around now; the test of the hours rule sets its own window.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")


def hours_around_now(*, margin: timedelta = timedelta(hours=3)) -> dict[str, str]:
    """MYNA_KIOSK_OPENS / MYNA_KIOSK_CLOSES as HH:MM, `margin` either side of now (JST)."""
    now = datetime.now(JST)
    return {
        "MYNA_KIOSK_OPENS": (now - margin).strftime("%H:%M"),
        "MYNA_KIOSK_CLOSES": (now + margin).strftime("%H:%M"),
    }
