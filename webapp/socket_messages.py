"""A browser socket's text message as a JSON object: the one parsing guard every consumer uses.

A message that is too long, not JSON, or not an object is None, and each consumer refuses it in
its own way (a reason code, or ignoring it). Deep nesting is bad input too: "[" * 5000 + "]" *
5000 is 10 kB, within every consumer's length limit, and raises RecursionError in the parser,
which escaped the consumers as a server error and closed the socket with 1011 (found on a
Chromium walk).
"""

from __future__ import annotations

import json
from typing import Any


def json_object(text: str | None, *, max_chars: int) -> dict[str, Any] | None:
    """The object `text` holds, or None when it is missing, over `max_chars`, or not one."""
    if text is None or len(text) > max_chars:
        return None
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return message if isinstance(message, dict) else None
