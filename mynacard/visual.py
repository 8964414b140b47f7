"""The 券面AP (券面事項確認AP): 照合番号B, the card face, its CV certificate, the card key (§6)."""

from __future__ import annotations

import logging

from mynacard.constants import AID, MAX_TRIES_VISUAL_PIN_B, VisualEF
from mynacard.pins import PinKind, PinStatus, normalize_pin
from mynacard.records import CardFace, parse_card_face, parse_cv_certificate
from mynacard.session import ApplicationSession

logger = logging.getLogger(__name__)

__all__ = ["VisualApSession"]

#: ``80 2A 00 00``: P2=00 names no key file; the AP signs with its own card key (§3, §5.4).
_P2_AP_CARD_KEY = 0x00


class VisualApSession(ApplicationSession):
    """A session with the 券面AP; selecting it happens on construction."""

    aid = AID.VISUAL

    def pin_b_status(self) -> PinStatus:
        """Tries left for 照合番号B (EF 0012) without spending one. Max 10 is second-hand (§6.2)."""
        return self._retry_status(VisualEF.PIN_B, PinKind.VISUAL_PIN_B, MAX_TRIES_VISUAL_PIN_B)

    def verify_pin_b(self, pin_b: str) -> None:
        """Present 照合番号B (14 digits, see :func:`mynacard.pins.make_pin_b`). It opens EF 0002
        to 0004 and 0006 (§6.1). WrongPinError / PinBlockedError as for any key (§4.4)."""
        value = normalize_pin(PinKind.VISUAL_PIN_B, pin_b)
        self._verify(VisualEF.PIN_B, PinKind.VISUAL_PIN_B, value)

    def read_card_face_raw(self) -> bytes:
        """EF 0002 exactly as stored, truncated to its FF20 TLV (the signature covers the stored
        bytes, §6.3). Needs 照合番号B verified, else SecurityStatusError."""
        self._select_ef(VisualEF.CARD_FACE)
        raw = self._read_tlv_ef()
        logger.debug("read the card face (%d bytes)", len(raw))
        return raw

    def read_card_face(self) -> CardFace:
        """EF 0002, parsed (:func:`mynacard.records.parse_card_face`)."""
        return parse_card_face(self.read_card_face_raw())

    def read_cv_certificate(self) -> bytes:
        """EF 0004: this AP's CV certificate, the ``7F21`` TLV exactly (§6.1, §5.3); free."""
        self._select_ef(VisualEF.CV_CERT)
        raw = self._read_tlv_ef()
        parse_cv_certificate(raw)  # a malformed certificate is the card's fault: say so here
        return raw

    def sign(self, digest_info: bytes) -> bytes:
        """Sign a DigestInfo with the AP's own card key: ``80 2A 00 00 <Lc> <data> 00``; no
        credential needed (§3, §5.4). The public key is DF24 in the card face."""
        signature = self._compute_signature(_P2_AP_CARD_KEY, digest_info)
        logger.debug("signed with the 券面AP card key")
        return signature
