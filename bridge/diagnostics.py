"""A diagnostics report without personal data, for support requests (``GET_DIAGNOSTICS``).

peers.md: what the good desktop card helpers do includes "a diagnostics export without personal
data", and their users' top complaints are an undetected reader, a stopped PC/SC service and
another program holding the reader. The report therefore names versions, the PC/SC service
state, the readers, the allowed origins and the last failures (reason codes and PC/SC / status
word names only). It never holds a PIN, 照合番号B, card data, certificate, photo or nonce: a
failure is recorded from a fixed list of fields, never from a message text.
"""

from __future__ import annotations

import importlib.metadata
import logging
import platform
import sys
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bridge import __version__
from bridge.reasons import BridgeFailure

logger = logging.getLogger(__name__)

#: How many recent failures the report keeps (oldest dropped first).
MAX_FAILURES = 20
#: The only failure fields copied into the report: codes, never values the resident typed.
_SAFE_FIELDS = ("pcsc_error", "sw", "pin", "tries_left", "token_label")
_PACKAGES = ("pyscard", "websockets", "cryptography")


@dataclass(frozen=True)
class FailureRecord:
    """One final failure of a card command, as the report shows it."""

    at: str
    command: str
    reason: str
    details: tuple[tuple[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "command": self.command, "reason": self.reason,
                **dict(self.details)}


def _package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


class Diagnostics:
    """Recent failures, shared by every connection of one bridge process (thread-safe)."""

    def __init__(self, *, limit: int = MAX_FAILURES) -> None:
        self._failures: deque[FailureRecord] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def record(self, command: str, failure: BridgeFailure) -> None:
        details = tuple((k, failure.extra[k]) for k in _SAFE_FIELDS if k in failure.extra)
        record = FailureRecord(
            at=datetime.now(UTC).isoformat(timespec="seconds"),
            command=command,
            reason=failure.reason.value,
            details=details,
        )
        with self._lock:
            self._failures.append(record)

    def failures(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_json() for f in self._failures]

    def environment(self) -> dict[str, Any]:
        """Versions and platform: what support asks first."""
        return {
            "bridge": __version__,
            "python": platform.python_version(),
            "platform": sys.platform,
            "os_release": platform.release(),
            "packages": {name: _package_version(name) for name in _PACKAGES},
        }
