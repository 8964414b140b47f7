"""Server nonces: 256 bits, single use, bound to session and purpose, short-lived, hashed."""

from __future__ import annotations

import base64
import hashlib
import time

import pytest
from django.test import Client

from mynacard.targets import TargetPassword
from reset.limits import session_key_hash
from reset.models import ServerNonce
from reset.tests.conftest import post_json, put_state
from reset.wizard_state import Step

pytestmark = [pytest.mark.django_db, pytest.mark.backends]


def test_it_issues_a_256_bit_nonce_for_the_target(client: Client) -> None:
    put_state(client, step=str(Step.CHIP), target=str(TargetPassword.AUTH))
    data = post_json(client, "/reset/nonce/", {}).json()
    assert len(base64.b64decode(data["nonce"])) == 32
    assert data["purpose"] == "myna-reset/reserve/auth"
    assert data["origin"] == "http://testserver"
    assert data["expires_in"] == 300


def test_it_stores_only_hashes_of_the_nonce_and_the_session_key(client: Client) -> None:
    put_state(client, step=str(Step.CHIP))
    data = post_json(client, "/reset/nonce/", {}).json()
    raw = base64.b64decode(data["nonce"])
    row = ServerNonce.objects.get()
    session_key = client.session.session_key
    assert session_key
    assert row.digest == hashlib.sha256(raw).hexdigest()
    assert row.session == session_key_hash(session_key)
    stored = str(list(ServerNonce.objects.values()))
    for secret in (data["nonce"], raw.hex(), session_key):
        assert secret not in stored
    assert data["nonce"] not in str(dict(client.session))
    assert raw.hex() not in str(dict(client.session))


def test_two_nonces_differ(client: Client) -> None:
    put_state(client, step=str(Step.CHIP))
    first = post_json(client, "/reset/nonce/", {}).json()["nonce"]
    second = post_json(client, "/reset/nonce/", {}).json()["nonce"]
    assert first != second


def test_it_refuses_a_nonce_before_the_chip_step(client: Client) -> None:
    put_state(client, step=str(Step.PASSWORD))
    response = post_json(client, "/reset/nonce/", {})
    assert response.status_code == 409
    assert response.json()["reason"] == "wrong_step"


def test_it_rejects_get(client: Client) -> None:
    put_state(client, step=str(Step.CHIP))
    assert client.get("/reset/nonce/").status_code == 405


def test_it_rejects_an_expired_session(client: Client) -> None:
    put_state(client, step=str(Step.CHIP), started_at=time.time() - 99999)
    assert post_json(client, "/reset/nonce/", {}).json()["reason"] == "expired_session"
