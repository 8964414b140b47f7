"""Fixtures for the wizard's view tests: a wizard session at any step, and real card evidence.

Evidence is built by running the mynacard sessions against the in-process simulated demo card —
the same bytes a bridge would relay — so verification is never mocked.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import pytest
from django.test import Client

from mynacard.targets import TargetPassword
from reset import wizard_state
from reset.wizard_state import Step

ORIGIN = "http://testserver"
DEMO_AUTH_PIN = "2580"
DEMO_SIGN_PASSWORD = "MYNA2580"
DEMO_PIN_B = "60072320344821"


@dataclass(frozen=True)
class CardEvidence:
    """What the page posts to /reset/evidence/ (binary fields still as bytes)."""

    nonce: bytes
    jpki_key: str
    jpki_certificate: bytes
    auth_certificate: bytes
    jpki_signature: bytes
    card_face: bytes
    cv_certificate: bytes
    card_key_signature: bytes
    photo_jp2: bytes

    def body(self, **overrides: Any) -> dict[str, Any]:
        fields = {
            "nonce": self.nonce,
            "jpki_key": self.jpki_key,
            "jpki_certificate": self.jpki_certificate,
            "auth_certificate": self.auth_certificate,
            "jpki_signature": self.jpki_signature,
            "card_face": self.card_face,
            "cv_certificate": self.cv_certificate,
            "card_key_signature": self.card_key_signature,
        }
        fields.update(overrides)
        return {
            key: base64.b64encode(value).decode() if isinstance(value, bytes) else value
            for key, value in fields.items()
        }


def read_evidence(
    *, purpose: str, origin: str, nonce: bytes, key: str = "auth"
) -> CardEvidence:
    """Run the reservation read against a fresh simulated demo card (spec §4.6, §6.3, §5.4)."""
    from mynacard.challenge import challenge_digest
    from mynacard.jpki import CertificateKind, JpkiSession, KeyKind
    from mynacard.pins import PinKind
    from mynacard.pkcs1 import sha256_digest_info
    from mynacard.records import parse_card_face
    from mynacard.sim import SimulatedCard, SimulatedConnection, demo_profile
    from mynacard.visual import VisualApSession

    card = SimulatedCard(demo_profile())
    digest_info = sha256_digest_info(challenge_digest(purpose, origin, nonce))
    connection = SimulatedConnection(card)
    jpki = JpkiSession(connection)
    if key == "auth":
        jpki.verify(PinKind.JPKI_AUTH, DEMO_AUTH_PIN)
        certificate = jpki.read_certificate(CertificateKind.AUTH)
        signature = jpki.sign(KeyKind.AUTH, digest_info)
    else:
        jpki.verify(PinKind.JPKI_SIGN, DEMO_SIGN_PASSWORD)
        certificate = jpki.read_certificate(CertificateKind.SIGN)
        signature = jpki.sign(KeyKind.SIGN, digest_info)
    auth_certificate = jpki.read_certificate(CertificateKind.AUTH)  # readable without a PIN
    visual = VisualApSession(connection)
    visual.verify_pin_b(DEMO_PIN_B)
    card_face = visual.read_card_face_raw()
    cv_certificate = visual.read_cv_certificate()
    card_key_signature = visual.sign(digest_info)
    return CardEvidence(
        nonce=nonce,
        jpki_key=key,
        jpki_certificate=certificate,
        auth_certificate=auth_certificate,
        jpki_signature=signature,
        card_face=card_face,
        cv_certificate=cv_certificate,
        card_key_signature=card_key_signature,
        photo_jp2=parse_card_face(card_face).photo_jp2,
    )


def put_state(client: Client, **fields: Any) -> None:
    """Write a wizard state straight into the test client's session."""
    session = client.session
    base: dict[str, Any] = {
        "target": str(TargetPassword.SIGN), "step": str(Step.CARD_FACE), "started_at": time.time()
    }
    base.update(fields)
    session[wizard_state.SESSION_KEY] = asdict(wizard_state.WizardState(**base))
    session.save()


def post_json(client: Client, url: str, body: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def at_step(client: Client) -> Callable[..., Client]:
    def make(step: Step, target: TargetPassword = TargetPassword.SIGN, **fields: Any) -> Client:
        put_state(client, step=str(step), target=str(target), **fields)
        return client

    return make


@pytest.fixture
def issue_nonce(client: Client) -> Callable[[], dict[str, Any]]:
    def issue() -> dict[str, Any]:
        response = post_json(client, "/reset/nonce/", {})
        assert response.status_code == 200, response.content
        data = response.json()
        data["raw"] = base64.b64decode(data["nonce"])
        return data

    return issue
