"""The 住基AP: only its PIN's retry counter is needed here (spec §7).

Like the text AP's PIN, the 住基 PIN cannot be reset by this service; the counter lets the page
route a resident with a locked 住基 PIN to the municipal counter (architecture.md).
"""

from __future__ import annotations

import logging

from mynacard.constants import AID, MAX_TRIES_FOUR_DIGIT, JukiEF
from mynacard.pins import PinKind, PinStatus
from mynacard.session import ApplicationSession

logger = logging.getLogger(__name__)

__all__ = ["JukiSession"]


class JukiSession(ApplicationSession):
    """A session with the 住基AP; selecting it happens on construction."""

    aid = AID.JUKI

    def pin_status(self) -> PinStatus:
        """Tries left for the 住基 PIN (EF 001C, 4 digits, 3 tries), none spent (§7, §4.4)."""
        return self._retry_status(JukiEF.PIN, PinKind.JUKI_PIN, MAX_TRIES_FOUR_DIGIT)
