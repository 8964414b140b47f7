"""An iCalendar (RFC 5545) event for the kiosk deadline, so the resident does not miss it.

It carries no personal data: a title, the window, the deadline and what to bring.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.utils.translation import gettext as _

from reservations.models import Reservation

logger = logging.getLogger(__name__)


def _escape(text: str) -> str:
    # RFC 5545 §3.3.11: backslash, semicolon, comma and newline are escaped in TEXT values.
    return (
        text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """RFC 5545 §3.1: lines longer than 75 octets are folded (CRLF + space), never inside a char."""
    out: list[str] = []
    current = ""
    for char in line:
        limit = 75 if not out else 74
        if len((current + char).encode()) > limit:
            out.append(current)
            current = char
        else:
            current += char
    out.append(current)
    return "\r\n ".join(out)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def reservation_ics(reservation: Reservation, *, now: datetime, opens_text: str) -> str:
    deadline = reservation.deadline_jst.strftime("%Y/%m/%d %H:%M")
    title = _("マイナンバーカード パスワード初期化(期限 %(deadline)s)") % {"deadline": deadline}
    description = _(
        "%(target)sの初期化予約の有効期限は %(deadline)s(日本時間)です。"
        "期限までに、コンビニエンスストア等のキオスク端末(マルチコピー機)で「行政サービス」を選び、"
        "パスワードを初期化・再設定してください。キオスク端末の利用時間は %(hours)s です。"
        "マイナンバーカードを持参し、新しいパスワードを事前に決めておいてください。"
    ) % {
        "target": reservation.get_target_display(),
        "deadline": deadline,
        "hours": opens_text,
    }
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//myna-reset//reservation//JA",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{reservation.public_id}@myna-reset",
        f"DTSTAMP:{_stamp(now)}",
        f"DTSTART:{_stamp(reservation.created)}",
        f"DTEND:{_stamp(reservation.expires)}",
        f"SUMMARY:{_escape(title)}",
        f"DESCRIPTION:{_escape(description)}",
        "TRANSP:TRANSPARENT",
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        f"DESCRIPTION:{_escape(title)}",
        f"TRIGGER;RELATED=END:-PT{int(timedelta(hours=2).total_seconds() // 60)}M",
        "END:VALARM",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
