"""The test PKI as trust anchors: what a development server trusts to accept simulated cards."""

from __future__ import annotations

import logging
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from mynacard.evidence import TrustAnchors
from mynacard.sim.pki import TEXT_CA_KEY_ID, VISUAL_CA_KEY_ID, load_pki

logger = logging.getLogger(__name__)

__all__ = ["export_trust_anchors", "sim_trust_anchors"]


def sim_trust_anchors(pki_dir: Path | None = None) -> TrustAnchors:
    """The simulator's JPKI roots and CV CA public keys (keyed ``"9000023/001"`` etc.)."""
    pki = load_pki(pki_dir)
    return TrustAnchors(
        jpki_roots=(pki.auth_root, pki.sign_root),
        cv_ca_keys={
            VISUAL_CA_KEY_ID: pki.visual_ca_key.public_key(),
            TEXT_CA_KEY_ID: pki.text_ca_key.public_key(),
        },
    )


def export_trust_anchors(target: Path, pki_dir: Path | None = None) -> Path:
    """Write the anchors in the layout ``mynacard.evidence.load_trust_anchors`` reads:
    ``jpki/<name>.pem`` roots and ``cv/<key id with - for />.pem`` public keys."""
    pki = load_pki(pki_dir)
    (target / "jpki").mkdir(parents=True, exist_ok=True)
    (target / "cv").mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    (target / "jpki" / "sim-jpki-auth-root.pem").write_bytes(pki.auth_root.public_bytes(pem))
    (target / "jpki" / "sim-jpki-sign-root.pem").write_bytes(pki.sign_root.public_bytes(pem))
    for key_id, key in ((VISUAL_CA_KEY_ID, pki.visual_ca_key), (TEXT_CA_KEY_ID, pki.text_ca_key)):
        (target / "cv" / f"{key_id.replace('/', '-')}.pem").write_bytes(
            key.public_key().public_bytes(pem, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
    logger.info("exported simulator trust anchors to %s", target)
    return target
