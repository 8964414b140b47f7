"""Server nonces: 256 bits, single use, bound to session and purpose, short-lived, hashed."""

from __future__ import annotations

import base64
import hashlib
import time

import pytest
from django.test import Client

from reset import nonces
from reset.tests.conftest import post_json, put_state
from reset.wizard_state import Step, Target

pytestmark = [pytest.mark.django_db, pytest.mark.backends]


def test_it_issues_a_256_bit_nonce_for_the_target(client: Client) -> None:
    put_state(client, step=str(Step.CHIP), target=str(Target.AUTH))
    data = post_json(client, "/reset/nonce/", {}).json()
    assert len(base64.b64decode(data["nonce"])) == 32
    assert data["purpose"] == "myna-reset/reserve/auth"
    assert data["origin"] == "http://testserver"
    assert data["expires_in"] == 300


def test_it_stores_only_a_hash_of_the_nonce(client: Client) -> None:
    put_state(client, step=str(Step.CHIP))
    data = post_json(client, "/reset/nonce/", {}).json()
    raw = base64.b64decode(data["nonce"])
    stored = client.session[nonces.SESSION_KEY]
    assert hashlib.sha256(raw).hexdigest() in stored
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


def test_take_is_single_use_and_purpose_bound() -> None:
    session: dict[str, object] = {}
    value = nonces.issue(session, "myna-reset/reserve/sign")
    assert nonces.take(session, value, "myna-reset/reserve/auth") is nonces.NonceCheck.WRONG_PURPOSE
    value = nonces.issue(session, "myna-reset/reserve/sign")
    assert nonces.take(session, value, "myna-reset/reserve/sign") is nonces.NonceCheck.OK
    assert nonces.take(session, value, "myna-reset/reserve/sign") is nonces.NonceCheck.UNKNOWN


def test_take_refuses_after_the_lifetime() -> None:
    session: dict[str, object] = {}
    value = nonces.issue(session, "p", now=1000.0)
    assert nonces.take(session, value, "p", now=1000.0 + 301) is nonces.NonceCheck.EXPIRED


def test_a_nonce_of_another_session_is_unknown() -> None:
    mine: dict[str, object] = {}
    theirs: dict[str, object] = {}
    value = nonces.issue(theirs, "p")
    assert nonces.take(mine, value, "p") is nonces.NonceCheck.UNKNOWN
