"""Check the bridge's results with the server's own verifier (mynacard.evidence)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from mynacard.evidence import ReservationEvidence, VerifiedEvidence, verify_reservation_evidence
from mynacard.sim.anchors import sim_trust_anchors


def verify_evidence(
    reply: dict[str, Any], *, origin: str, purpose: str, nonce: str
) -> VerifiedEvidence:
    """Raise EvidenceError unless the EVIDENCE reply convinces the server's checker."""
    raw = {k: base64.b64decode(reply[k]) for k in (
        "jpki_certificate", "jpki_signature", "card_face", "cv_certificate", "card_key_signature",
        "auth_certificate",
    ) if k in reply}
    evidence = ReservationEvidence(
        purpose=reply["purpose"],
        origin=reply["origin"],
        nonce=base64.b64decode(reply["nonce"]),
        jpki_key=reply["jpki_key"],
        **raw,
    )
    return verify_reservation_evidence(
        evidence, sim_trust_anchors(), purpose=purpose, origin=origin,
        nonce=base64.b64decode(nonce), now=datetime.now(UTC),
    )


def evidence_from_two_replies(card_face: dict[str, Any], auth: dict[str, Any]) -> dict[str, Any]:
    """READ_CARD_FACE + AUTHENTICATE replies merged into the EVIDENCE shape."""
    assert card_face["nonce"] == auth["nonce"]
    assert card_face["origin"] == auth["origin"]
    return {
        **{k: card_face[k] for k in ("card_face", "cv_certificate", "card_key_signature",
                                     "origin", "purpose", "nonce")},
        "jpki_key": auth["key"],
        "jpki_certificate": auth["certificate"],
        "jpki_signature": auth["signature"],
        "auth_certificate": auth["auth_certificate"],
    }
