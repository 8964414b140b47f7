"""The evidence endpoint, fed with real evidence read from the simulated demo card."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client, override_settings

from mynacard.targets import TargetPassword
from reservations import anchors
from reset import api_views, evidence_check, wizard_state
from reset.models import ServerNonce
from reset.tests.conftest import ORIGIN, post_json, put_state, read_evidence
from reset.wizard_state import Step

pytestmark = [pytest.mark.django_db, pytest.mark.backends]

SIGN_PURPOSE = "myna-reset/reserve/sign"
AUTH_PURPOSE = "myna-reset/reserve/auth"


@pytest.fixture
def at_chip(client: Client) -> Client:
    put_state(client, step=str(Step.CHIP), target=str(TargetPassword.SIGN))
    return client


def _post(client: Client, body: dict[str, Any]) -> Any:
    return post_json(client, "/reset/evidence/", body)


def _reason(response: Any) -> str:
    data = response.json()
    assert data["ok"] is False
    assert data["message"]  # a resident-readable sentence
    return str(data["reason"])


def test_it_accepts_real_evidence_and_records_the_photo_hash(
    at_chip: Client, issue_nonce: Callable[[], dict[str, Any]]
) -> None:
    nonce = issue_nonce()
    evidence = read_evidence(purpose=SIGN_PURPOSE, origin=ORIGIN, nonce=nonce["raw"])
    response = _post(at_chip, evidence.body())
    assert response.status_code == 200, response.content
    assert response.json() == {"ok": True, "next": "/reset/face/"}
    state = wizard_state.load(at_chip.session)
    assert state is not None
    assert state.step == Step.FACE
    assert state.photo_sha256 == hashlib.sha256(evidence.photo_jp2).hexdigest()
    assert len(state.card_identity) == 64
    assert state.certificate_not_after


def test_it_accepts_sign_key_evidence_for_an_auth_reset(
    client: Client, issue_nonce: Callable[[], dict[str, Any]]
) -> None:
    put_state(client, step=str(Step.CHIP), target=str(TargetPassword.AUTH))
    nonce = issue_nonce()
    evidence = read_evidence(purpose=AUTH_PURPOSE, origin=ORIGIN, nonce=nonce["raw"], key="sign")
    assert _post(client, evidence.body()).status_code == 200


def test_it_rejects_evidence_from_the_key_being_reset(
    at_chip: Client, issue_nonce: Callable[[], dict[str, Any]]
) -> None:
    # Resetting 署名用 needs the auth key: a signature-key proof is the wrong credential.
    nonce = issue_nonce()
    evidence = read_evidence(purpose=SIGN_PURPOSE, origin=ORIGIN, nonce=nonce["raw"], key="sign")
    assert _reason(_post(at_chip, evidence.body())) == "wrong_key"


def test_it_rejects_a_replayed_nonce(
    at_chip: Client, issue_nonce: Callable[[], dict[str, Any]]
) -> None:
    nonce = issue_nonce()
    evidence = read_evidence(purpose=SIGN_PURPOSE, origin=ORIGIN, nonce=nonce["raw"])
    assert _post(at_chip, evidence.body()).status_code == 200
    put_state(at_chip, step=str(Step.CHIP))  # even back at the chip step...
    assert _reason(_post(at_chip, evidence.body())) == "wrong_nonce"


def test_it_rejects_an_expired_nonce(
    at_chip: Client, issue_nonce: Callable[[], dict[str, Any]]
) -> None:
    nonce = issue_nonce()
    evidence = read_evidence(purpose=SIGN_PURPOSE, origin=ORIGIN, nonce=nonce["raw"])
    ServerNonce.objects.update(expires_at=datetime.now(tz=UTC) - timedelta(seconds=1))
    assert _reason(_post(at_chip, evidence.body())) == "expired_nonce"


def test_it_rejects_a_nonce_it_never_issued(at_chip: Client) -> None:
    evidence = read_evidence(purpose=SIGN_PURPOSE, origin=ORIGIN, nonce=b"\x01" * 32)
    assert _reason(_post(at_chip, evidence.body())) == "wrong_nonce"


def test_it_rejects_a_bad_signature(
    at_chip: Client, issue_nonce: Callable[[], dict[str, Any]]
) -> None:
    nonce = issue_nonce()
    evidence = read_evidence(purpose=SIGN_PURPOSE, origin=ORIGIN, nonce=nonce["raw"])
    broken = bytearray(evidence.jpki_signature)
    broken[10] ^= 0xFF
    assert _reason(_post(at_chip, evidence.body(jpki_signature=bytes(broken)))) == (
        "bad_jpki_signature"
    )


def test_it_rejects_an_untrusted_chain(
    at_chip: Client, issue_nonce: Callable[[], dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    from mynacard.evidence import TrustAnchors

    real = anchors.trust_anchors()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Some Other Root")])
    now = datetime.now(tz=UTC)
    other_root = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    monkeypatch.setattr(
        anchors,
        "trust_anchors",
        lambda: TrustAnchors(jpki_roots=(other_root,), cv_ca_keys=real.cv_ca_keys),
    )
    nonce = issue_nonce()
    evidence = read_evidence(purpose=SIGN_PURPOSE, origin=ORIGIN, nonce=nonce["raw"])
    assert _reason(_post(at_chip, evidence.body())) == "untrusted_chain"


def test_it_rejects_an_expired_certificate(
    at_chip: Client, issue_nonce: Callable[[], dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    nonce = issue_nonce()
    evidence = read_evidence(purpose=SIGN_PURPOSE, origin=ORIGIN, nonce=nonce["raw"])
    # Check the same, real certificate at a time after it has expired.
    monkeypatch.setattr(api_views, "verification_time", lambda: datetime(2099, 1, 1, tzinfo=UTC))
    assert _reason(_post(at_chip, evidence.body())) == "certificate_expired"


def test_it_rejects_a_tampered_photo(
    at_chip: Client, issue_nonce: Callable[[], dict[str, Any]]
) -> None:
    nonce = issue_nonce()
    evidence = read_evidence(purpose=SIGN_PURPOSE, origin=ORIGIN, nonce=nonce["raw"])
    start = evidence.card_face.index(evidence.photo_jp2)
    face = bytearray(evidence.card_face)
    face[start + len(evidence.photo_jp2) // 2] ^= 0x01  # one pixel's worth of the JP2 stream
    assert _reason(_post(at_chip, evidence.body(card_face=bytes(face)))) == "tampered_card_face"


def test_it_rejects_evidence_made_for_another_origin(
    at_chip: Client, issue_nonce: Callable[[], dict[str, Any]]
) -> None:
    nonce = issue_nonce()
    evil = "https://evil.example"
    evidence = read_evidence(purpose=SIGN_PURPOSE, origin=evil, nonce=nonce["raw"])
    assert _reason(_post(at_chip, evidence.body(origin=evil))) == "wrong_origin"


def test_evidence_for_another_origin_fails_even_unannounced(
    at_chip: Client, issue_nonce: Callable[[], dict[str, Any]]
) -> None:
    nonce = issue_nonce()
    evil = "https://evil.example"
    evidence = read_evidence(purpose=SIGN_PURPOSE, origin=evil, nonce=nonce["raw"])
    assert _reason(_post(at_chip, evidence.body())) == "bad_jpki_signature"


@override_settings(MYNA_PUBLIC_ORIGIN="https://myna.example.jp")
def test_it_uses_the_configured_public_origin(
    at_chip: Client, issue_nonce: Callable[[], dict[str, Any]]
) -> None:
    nonce = issue_nonce()
    assert nonce["origin"] == "https://myna.example.jp"
    origin = "https://myna.example.jp"
    evidence = read_evidence(purpose=SIGN_PURPOSE, origin=origin, nonce=nonce["raw"])
    assert _post(at_chip, evidence.body()).status_code == 200


def test_a_host_header_in_upper_case_names_the_same_origin(
    at_chip: Client, issue_nonce: Callable[[], dict[str, Any]]
) -> None:
    # Host names are case-insensitive and the browser signs its origin in lower case; a Host
    # header in capitals must neither crash the check nor name another origin.
    nonce = issue_nonce()
    evidence = read_evidence(purpose=SIGN_PURPOSE, origin=ORIGIN, nonce=nonce["raw"])
    response = at_chip.post(
        "/reset/evidence/", data=json.dumps(evidence.body()),
        content_type="application/json", headers={"host": "TESTSERVER"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["ok"] is True


@override_settings(MYNA_PUBLIC_ORIGIN="https://Myna.example.jp")
def test_a_non_canonical_origin_is_a_reason_code_not_a_server_error(
    at_chip: Client, issue_nonce: Callable[[], dict[str, Any]]
) -> None:
    # settings.py refuses such a MYNA_PUBLIC_ORIGIN at start-up; should one reach the view anyway,
    # challenge_digest's ValueError still ends as `malformed` (400), never as a 500.
    nonce = issue_nonce()
    evidence = read_evidence(purpose=SIGN_PURPOSE, origin=ORIGIN, nonce=nonce["raw"])
    response = _post(at_chip, evidence.body())
    assert response.status_code == 400
    assert _reason(response) == "malformed"


def test_it_rejects_a_bad_card_key_signature(
    at_chip: Client, issue_nonce: Callable[[], dict[str, Any]]
) -> None:
    nonce = issue_nonce()
    evidence = read_evidence(purpose=SIGN_PURPOSE, origin=ORIGIN, nonce=nonce["raw"])
    broken = bytearray(evidence.card_key_signature)
    broken[-1] ^= 0x01
    assert _reason(_post(at_chip, evidence.body(card_key_signature=bytes(broken)))) == (
        "bad_card_key_signature"
    )


def test_it_rejects_malformed_json(at_chip: Client) -> None:
    response = at_chip.post("/reset/evidence/", data=b"{not json", content_type="application/json")
    assert _reason(response) == "malformed"
    assert _reason(_post(at_chip, {"nonce": "%%%"})) == "malformed"


def test_it_rejects_the_wrong_step(client: Client) -> None:
    put_state(client, step=str(Step.PASSWORD))
    response = _post(client, {})
    assert response.status_code == 409
    assert _reason(response) == "wrong_step"


def test_it_rejects_get(at_chip: Client) -> None:
    assert at_chip.get("/reset/evidence/").status_code == 405


def test_it_rejects_an_expired_session(client: Client) -> None:
    put_state(client, step=str(Step.CHIP), started_at=time.time() - 99999)
    assert _reason(_post(client, {})) == "expired_session"


@override_settings(MYNA_EVIDENCE_ATTEMPTS=2)
def test_it_limits_attempts_per_session(at_chip: Client) -> None:
    for _ in range(2):
        assert _reason(_post(at_chip, {})) == "malformed"
    response = _post(at_chip, {})
    assert response.status_code == 429
    assert _reason(response) == "rate_limited"
    # The resident is told when to try again, not just "later".
    wait = int(response["Retry-After"])
    assert 0 < wait <= 3600 and response.json()["retry_after"] == wait
    assert "以降に、もう一度お試しください" in response.json()["message"]


@override_settings(MYNA_EVIDENCE_ATTEMPTS=1)
def test_it_limits_verified_reads_per_card(issue_nonce: Callable[[], dict[str, Any]]) -> None:
    from reset import limits

    first = Client()
    put_state(first, step=str(Step.CHIP))
    # Same card, another browser: the per-card counter is shared, the session one is not.
    nonce = post_json(first, "/reset/nonce/", {}).json()
    import base64

    raw = base64.b64decode(nonce["nonce"])
    evidence = read_evidence(purpose=SIGN_PURPOSE, origin=ORIGIN, nonce=raw)
    assert _post(first, evidence.body()).status_code == 200
    identity = wizard_state.load(first.session).card_identity  # type: ignore[union-attr]
    assert limits.remaining(limits.evidence_card_limit(), identity) == 1
    second = Client()
    put_state(second, step=str(Step.CHIP))
    raw2 = base64.b64decode(post_json(second, "/reset/nonce/", {}).json()["nonce"])
    second_evidence = read_evidence(purpose=SIGN_PURPOSE, origin=ORIGIN, nonce=raw2)
    assert _post(second, second_evidence.body()).status_code == 200
    third = Client()
    put_state(third, step=str(Step.CHIP))
    raw3 = base64.b64decode(post_json(third, "/reset/nonce/", {}).json()["nonce"])
    response = _post(third, read_evidence(purpose=SIGN_PURPOSE, origin=ORIGIN, nonce=raw3).body())
    assert response.status_code == 429
    assert _reason(response) == "card_rate_limited"
    assert 0 < int(response["Retry-After"]) <= 86400
    assert "以降に、もう一度お試しください" in response.json()["message"]


def test_every_failure_code_has_its_own_message() -> None:
    texts = [str(message) for message in evidence_check.MESSAGES.values()]
    assert len(texts) == len(set(texts))
    from mynacard.evidence import EvidenceErrorCode

    assert {code.value for code in EvidenceErrorCode} <= set(evidence_check.MESSAGES)
