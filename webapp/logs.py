"""Structured logs: one JSON object per line and event, for a log shipper to read.

Every object has `time` (UTC, ISO 8601), `level`, `logger`, `event`, `message` and `request_id`
(webapp/request_id.py), plus the message's `key=value` pairs as `fields`. The event name is the
message template up to its first value (`"reservation booked target=%s"` → `reservation booked`),
so it is the same for every occurrence and never holds a value; a call may name it explicitly with
`extra={"event": ...}`.

The redaction rules hold because nothing is added that the plain format would not show, and one
thing is taken away: an exception is logged as its class and its stack frames (file, line,
function), never its message or local values, since an exception text can quote what it failed
on (a PIN, a card-face item; style.md, "logs never hold secrets").
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
import traceback
from datetime import UTC, datetime
from typing import Any

from webapp import request_id

_FIRST_VALUE = re.compile(r"\s*(\S+=|%)")
_FIELD = re.compile(r"(\w+)=(\S+)")


def event_name(record: logging.LogRecord) -> str:
    """The constant part of the message: the template before its first `key=` or `%` value."""
    explicit = getattr(record, "event", None)
    if isinstance(explicit, str) and explicit:
        return explicit
    template = str(record.msg)
    found = _FIRST_VALUE.search(template)
    head = template[: found.start()] if found else template
    return head.strip().rstrip(":").strip() or template.strip()[:80]


def _stack(exc_info: Any) -> list[str]:
    _, _, tb = exc_info
    return [f"{frame.filename}:{frame.lineno} {frame.name}" for frame in traceback.extract_tb(tb)]


class JsonFormatter(logging.Formatter):
    """A LogRecord → one line of JSON (see the module docstring for the keys)."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "event": event_name(record),
            "message": message,
            "request_id": request_id.current.get(),
        }
        fields = dict(_FIELD.findall(message))
        if fields:
            entry["fields"] = fields
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__
            entry["stack"] = _stack(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record, so the plain development format can show it too."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.current.get()
        return True


def configure_worker_process() -> None:
    """A face worker process (spawned, so without the server's set-up) logs as the server does:
    the same handlers, format and level, the request ID included (faceverify/worker_process.py)."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
