"""The 券面事項入力補助AP (text AP): its PIN's retry counter and its free records (spec §5).

This project never resets or presents the text AP's PIN (architecture.md): it reads the counter
so the page can tell the resident, before any password is typed, that a locked 入力補助 PIN is a
matter for the municipal counter (§6.2 "Unblocking"). The two EFs that need no credential — the
AP basic info (EF 0005, which says whether the card takes extended Lc/Le) and the AP's CV
certificate (EF 0004) — can be read too; everything else in this AP is behind that PIN (§5.1).
"""

from __future__ import annotations

import logging

from mynacard.constants import AID, MAX_TRIES_FOUR_DIGIT, TextEF
from mynacard.pins import PinKind, PinStatus
from mynacard.records import ApBasicInfo, parse_ap_basic_info, parse_cv_certificate
from mynacard.session import ApplicationSession

logger = logging.getLogger(__name__)

__all__ = ["TextApSession"]


class TextApSession(ApplicationSession):
    """A session with the text AP; selecting it happens on construction."""

    aid = AID.TEXT

    def pin_status(self) -> PinStatus:
        """Tries left for the 入力補助 PIN (EF 0011, 4 digits, 3 tries), none spent (§5.1, §4.4)."""
        return self._retry_status(TextEF.PIN, PinKind.TEXT_PIN, MAX_TRIES_FOUR_DIGIT)

    def read_ap_basic_info(self) -> ApBasicInfo:
        """EF 0005 ``FF40`` (free, §5.1/§5.3); ``.extended_length`` is the card's own claim."""
        self._select_ef(TextEF.BASIC_INFO)
        return parse_ap_basic_info(self._read_tlv_ef())

    def read_cv_certificate(self) -> bytes:
        """EF 0004: this AP's CV certificate, the ``7F21`` TLV exactly (free, §5.1, §5.3)."""
        self._select_ef(TextEF.CV_CERT)
        raw = self._read_tlv_ef()
        parse_cv_certificate(raw)  # a malformed certificate is the card's fault: say so here
        return raw
