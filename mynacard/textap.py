"""The 券面事項入力補助AP (text AP): only its PIN's retry counter is needed here (spec §5).

This project never resets or reads the text AP's PIN (architecture.md): it reads the counter so
the page can tell the resident, before any password is typed, that a locked 入力補助 PIN is a
matter for the municipal counter (§6.2 "Unblocking").
"""

from __future__ import annotations

import logging

from mynacard.constants import AID, MAX_TRIES_FOUR_DIGIT, TextEF
from mynacard.pins import PinKind, PinStatus
from mynacard.session import ApplicationSession

logger = logging.getLogger(__name__)

__all__ = ["TextApSession"]


class TextApSession(ApplicationSession):
    """A session with the text AP; selecting it happens on construction."""

    aid = AID.TEXT

    def pin_status(self) -> PinStatus:
        """Tries left for the 入力補助 PIN (EF 0011, 4 digits, 3 tries), none spent (§5.1, §4.4)."""
        return self._retry_status(TextEF.PIN, PinKind.TEXT_PIN, MAX_TRIES_FOUR_DIGIT)
