"""Face-check tries: shown before 開始 and before the card is read, and a pass uses none up."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from django.test import Client

from reset import limits
from reset.tests.conftest import put_state
from reset.tests.test_face_consumer import CARD, communicator, make_session, run_attempt, start
from reset.wizard_state import Step

PASSED = {"card_identity": CARD, "photo_sha256": "cd" * 32, "evidence_at": 1.0}


def _session_hash(client: Client) -> str:
    return limits.session_key_hash(str(client.session.session_key))


@pytest.mark.django_db
def test_the_face_page_says_how_many_tries_are_left_before_start(client: Client) -> None:
    put_state(client, step=str(Step.FACE), **PASSED)
    body = client.get("/reset/face/").content.decode()
    assert "顔認証はあと 3 回試せます" in body
    limits.consume_face_attempt(_session_hash(client), CARD)
    body = client.get("/reset/face/").content.decode()
    assert "顔認証はあと 2 回試せます" in body


@pytest.mark.django_db
def test_the_face_page_with_no_tries_left_offers_the_counter_not_start(client: Client) -> None:
    put_state(client, step=str(Step.FACE), **PASSED)
    for _ in range(3):
        limits.consume(limits.face_card_limit(), CARD)  # used up from another browser
    body = client.get("/reset/face/").content.decode()
    assert "試行回数の上限に達しています" in body
    assert 'id="face-start" hidden disabled' in body
    assert 'id="face-counter" hidden' not in body


@pytest.mark.django_db
def test_the_card_page_says_so_before_the_card_is_read_when_no_tries_are_left(
    client: Client,
) -> None:
    put_state(client, step=str(Step.CARD_FACE))
    assert 'id="face-limit-reached"' not in client.get("/reset/card/").content.decode()
    for _ in range(3):
        limits.consume(limits.face_session_limit(), _session_hash(client))
    body = client.get("/reset/card/").content.decode()
    assert 'id="face-limit-reached"' in body
    assert "wizard.js" not in body  # nothing is read from the card


@pytest.mark.django_db(transaction=True)
@pytest.mark.backends
async def test_a_passed_face_check_uses_no_try_up(chip: bytes) -> None:
    session = await asyncio.to_thread(make_session, chip)
    comm = communicator(session)
    ready = await start(comm, chip)
    assert ready["attempts_left"] == 2  # counted while it runs: leaving mid-way costs a try
    result, _ = await run_attempt(comm, ready)
    assert result is not None and result["passed"] is True, result
    key = limits.session_key_hash(str(session.session_key))
    left = await asyncio.to_thread(limits.face_attempts_left, key, CARD)
    assert left == 3


@pytest.fixture(scope="module")
def chip() -> Any:
    from faceverify.tests import synth

    return synth.chip_photo("obama3")


@pytest.mark.django_db(transaction=True)
async def test_the_face_check_works_while_the_channel_layer_is_down(
    chip: bytes, settings: Any
) -> None:
    from channels.layers import channel_layers

    # Redis, the production channel layer, on a port where nothing listens.
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    channel_layers.backends.clear()
    try:
        session = await asyncio.to_thread(make_session, chip)
        comm = communicator(session)
        ready = await start(comm, chip)  # the socket opens and the check starts
        assert ready["attempts_left"] == 2
        await comm.disconnect()
    finally:
        channel_layers.backends.clear()
