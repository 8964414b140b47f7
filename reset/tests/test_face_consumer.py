"""/ws/face/ through the real ASGI stack (origin check, sessions, routing) and the real engine.

Frames are crops of the real fixture photos (faceverify/tests/synth.py): obama3.jpg is frontal
and neutral, obama.jpg smiling, mirrored obama2.jpg is a head really turned to its own left. The
reference is a 4 KB JP2 of obama.jpg (as on the demo card); identity is judged on the frontal
frames, a different photograph. No engine part is stubbed.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import hashlib
import json
import os
import random
import signal
import struct
import time
from dataclasses import asdict
from typing import Any

import cv2
import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.utils import translation

from faceverify.liveness import DEFAULT_THRESHOLD, Prompt, choose_prompts
from faceverify.quality import Advice
from faceverify.session import FaceCheck
from faceverify.tests import synth
from faceverify.worker_process import LogSetup
from faceverify.workers import FaceWorkers
from mynacard.targets import TargetPassword
from reset import face_attempts, wizard_state
from reset.face_attempts import engine_config_from_settings, face_backend
from reset.face_consumer import FaceConsumer
from reset.face_messages import ADVICE_TEXT
from reset.wizard_state import Step, WizardState
from webapp import request_id
from webapp.asgi import application
from webapp.tests import worker_logging

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.backends]

ORIGIN = b"http://testserver"
CARD = "c0ffee" * 10 + "abcd"


@pytest.fixture(scope="module")
def chip() -> bytes:
    return synth.chip_photo("obama")


def make_session(
    photo: bytes, *, step: Step = Step.FACE, evidence_at: float | None = None
) -> SessionStore:
    session = SessionStore()
    state = WizardState(
        target=str(TargetPassword.SIGN),
        step=str(step),
        started_at=time.time(),
        card_identity=CARD,
        photo_sha256=hashlib.sha256(photo).hexdigest(),
        evidence_at=time.time() if evidence_at is None else evidence_at,
    )
    session[wizard_state.SESSION_KEY] = asdict(state)
    session.create()
    return session


def communicator(
    session: SessionStore | None,
    *,
    origin: bytes = ORIGIN,
    language: bytes = b"ja",
    extra: tuple[tuple[bytes, bytes], ...] = (),
) -> WebsocketCommunicator:
    headers = [(b"origin", origin), (b"host", b"testserver"), (b"accept-language", language)]
    headers += extra
    if session is not None:
        cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
        headers.append((b"cookie", cookie.encode()))
    return WebsocketCommunicator(application, "/ws/face/", headers=headers)


async def receive(
    comm: WebsocketCommunicator, timeout: float = 20, *, pace: bool = False
) -> dict[str, Any]:
    """The next message; `pace` and `waiting` messages (the server asking for fewer frames, or
    saying a start is slow, while its workers are busy, which on a loaded test machine they may
    be) are skipped unless asked for."""
    while True:
        message = dict(json.loads(await comm.receive_from(timeout=timeout)))
        if pace or message["type"] not in ("pace", "waiting"):
            return message


async def start(comm: WebsocketCommunicator, photo: bytes) -> dict[str, Any]:
    connected, _ = await comm.connect()
    assert connected
    await comm.send_to(text_data=reference_message(photo))
    # The first attempt of the test run waits for the face workers to load their models (a few
    # seconds, far longer on a busy machine).
    ready = await receive(comm, timeout=240)
    assert ready["type"] == "ready", ready
    advice = await receive(comm)
    assert advice["type"] == "advice"
    return ready


async def test_a_slow_start_tells_the_page_to_wait(
    chip: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A start the workers keep waiting is announced (face.js shows 「ただいま混み合っています…」),
    before the attempt's ready."""
    monkeypatch.setattr(FaceConsumer, "busy_notice_after", 0.0)
    session = await asyncio.to_thread(make_session, chip)
    comm = communicator(session)
    connected, _ = await comm.connect()
    assert connected
    await comm.send_to(text_data=reference_message(chip))
    first = dict(json.loads(await comm.receive_from(timeout=240)))
    assert first == {"type": "waiting"}
    ready = await receive(comm, timeout=240)
    assert ready["type"] == "ready", ready
    await comm.disconnect()


async def test_it_refuses_a_socket_without_a_session(chip: bytes) -> None:
    comm = communicator(None)
    connected, _ = await comm.connect()
    assert not connected


async def test_it_refuses_a_session_before_the_chip_evidence(chip: bytes) -> None:
    session = await asyncio.to_thread(make_session, chip, step=Step.CHIP)
    comm = communicator(session)
    connected, _ = await comm.connect()
    assert not connected


async def test_it_refuses_a_face_step_without_recorded_evidence(chip: bytes) -> None:
    session = await asyncio.to_thread(make_session, chip, evidence_at=0.0)
    comm = communicator(session)
    connected, _ = await comm.connect()
    assert not connected


async def test_it_refuses_a_foreign_origin(chip: bytes) -> None:
    session = await asyncio.to_thread(make_session, chip)
    comm = communicator(session, origin=b"https://evil.example")
    connected, _ = await comm.connect()
    assert not connected


async def test_it_refuses_a_reference_other_than_the_verified_photo(chip: bytes) -> None:
    session = await asyncio.to_thread(make_session, chip)
    comm = communicator(session)
    assert (await comm.connect())[0]
    other = synth.chip_photo("biden")
    await comm.send_to(text_data=reference_message(other))
    error = await receive(comm)
    assert error["type"] == "error" and error["reason"] == "wrong_reference"
    assert error["text"]
    assert (await comm.receive_output(timeout=5))["type"] == "websocket.close"


async def test_it_answers_bad_messages_and_frames_before_the_reference(chip: bytes) -> None:
    session = await asyncio.to_thread(make_session, chip)
    comm = communicator(session)
    assert (await comm.connect())[0]
    await comm.send_to(text_data="{not json")
    assert (await receive(comm))["reason"] == "bad_message"
    await comm.send_to(text_data="[" * 5000 + "]" * 5000)  # once a RecursionError and a 1011
    assert (await receive(comm))["reason"] == "bad_message"
    # Far longer than any reference message: refused unparsed, and the socket stays open.
    await comm.send_to(text_data=json.dumps({"type": "reference", "photo": "A" * 200_000}))
    assert (await receive(comm))["reason"] == "bad_message"
    await comm.send_to(bytes_data=synth.jpeg(synth.webcam_frame("obama")))
    assert (await receive(comm))["reason"] == "bad_state"
    await comm.disconnect()


async def test_oversized_and_garbage_frames_get_errors_not_a_crash(
    chip: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = await asyncio.to_thread(make_session, chip)
    comm = communicator(session)
    await start(comm, chip)
    await comm.send_to(bytes_data=b"\xff\xd8" + bytes(201 * 1024))
    assert (await receive(comm))["reason"] == "frame_too_large"
    await asyncio.sleep(0.1)
    await comm.send_to(bytes_data=b"\xff\xd8\xff\xe0 not really a jpeg")
    assert (await receive(comm))["reason"] == "undecodable"
    await asyncio.sleep(0.1)
    await comm.send_to(bytes_data=synth.jpeg(synth.blank((2000, 200))))
    assert (await receive(comm))["reason"] == "dimensions"
    await asyncio.sleep(0.1)
    # Frames are JPEG only: a (small, well-formed) PNG is refused.
    png = cv2.imencode(".png", synth.blank((320, 240)))[1].tobytes()
    await comm.send_to(bytes_data=bytes(png))
    assert (await receive(comm))["reason"] == "undecodable"
    await asyncio.sleep(0.1)
    # A small JPEG whose header declares 20000×20000 is refused before decoding.
    bomb = bytearray(synth.jpeg(synth.webcam_frame("obama")))
    struct.pack_into(">HH", bomb, bomb.index(b"\xff\xc0") + 5, 20000, 20000)
    await comm.send_to(bytes_data=bytes(bomb))
    assert (await receive(comm))["reason"] == "dimensions"
    await asyncio.sleep(0.1)
    await comm.send_to(bytes_data=synth.jpeg(synth.webcam_frame("obama")))
    assert await answer(comm) == "progress"  # still alive and working
    # Frames come far sooner than the (here widened) interval: a few early ones are forgiven
    # (browser timer jitter), then they are refused.
    monkeypatch.setattr(FaceConsumer, "min_frame_gap", 60.0)
    answers = []
    for seed in range(1, 6):
        await comm.send_to(bytes_data=synth.jpeg(synth.webcam_frame("obama", seed=seed)))
        answers.append(await answer(comm))
    assert answers[-1] == "too_fast" and answers[0] != "too_fast", answers
    await comm.disconnect()


async def answer(comm: WebsocketCommunicator) -> str:
    """The last message answering one frame: "progress", "result" or the error's reason."""
    while True:
        message = await receive(comm)
        if message["type"] == "error":
            return str(message["reason"])
        if message["type"] in ("progress", "result"):
            return str(message["type"])


async def test_a_correctly_paced_frame_is_not_refused_when_the_server_is_slow(
    chip: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The page sends one frame in flight, each `interval` after the previous one. Every other
    # time the server's event loop is busy for half an interval before it gets to the frame (as
    # on a saturated server), so that frame and the next reach the consumer closer together than
    # the page sent them. None of them may be refused as too fast. (Slow intervals, so that the
    # frame's own analysis time on a busy test machine cannot hide the squeeze.)
    monkeypatch.setattr(FaceConsumer, "min_frame_gap", 0.8)
    interval = 1.0
    session = await asyncio.to_thread(make_session, chip)
    comm = communicator(session)
    await start(comm, chip)
    answers = []
    for seed in range(6):
        sent = time.monotonic()
        await comm.send_to(bytes_data=synth.jpeg(synth.webcam_frame("obama", seed=seed)))
        time.sleep(interval / 2 if seed % 2 == 0 else 0)  # noqa: ASYNC251 - blocking on purpose
        answers.append(await answer(comm))
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - sent)))
    assert "too_fast" not in answers, answers
    await comm.disconnect()


async def test_an_engine_failure_on_one_frame_is_answered_not_fatal(
    chip: bytes, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.MYNA_FACE_WORKERS = 0  # face work on threads of this process, where the patch applies
    session = await asyncio.to_thread(make_session, chip)
    comm = communicator(session)
    await start(comm, chip)
    original = FaceCheck.feed
    failed: list[bool] = []

    def fail_once(self: FaceCheck, image: Any, t: float) -> Any:
        if not failed:
            failed.append(True)
            raise RuntimeError("the engine tripped over this frame")
        return original(self, image, t)

    monkeypatch.setattr(FaceCheck, "feed", fail_once)
    await comm.send_to(bytes_data=synth.jpeg(synth.webcam_frame("obama")))
    assert (await receive(comm))["reason"] == "undecodable"
    await asyncio.sleep(0.1)
    await comm.send_to(bytes_data=synth.jpeg(synth.webcam_frame("obama", seed=1)))
    assert await answer(comm) == "progress"  # the attempt goes on
    await comm.disconnect()


FRAMES = {
    None: ("obama3", False),
    "face_front": ("obama3", False),
    "smile": ("obama", False),  # a smile is a change from the neutral frontal frames
    "turn_left": ("obama2", True),
}


# Far more than any attempt's time limits allow at the test's frame rate.
MAX_ATTEMPT_FRAMES = 2000


async def run_attempt(
    comm: WebsocketCommunicator, ready: dict[str, Any]
) -> tuple[dict[str, Any] | None, list[str]]:
    """Answer every prompt with matching real frames until the result arrives.

    The server ends every attempt itself (each prompt has its time limit), so frames are sent
    until it does. The count is only a backstop: on a busy machine the low-priority embedding
    helpers fall behind and the verdict waits for them, and a fixed 40 frames ran out first.
    """
    current = FRAMES[None]
    result: dict[str, Any] | None = None
    prompts_seen: list[str] = []
    for seed in range(MAX_ATTEMPT_FRAMES):
        await asyncio.sleep(ready["frame_interval_ms"] / 1000)
        frame = synth.webcam_frame(current[0], mirror=current[1], seed=seed)
        await comm.send_to(bytes_data=synth.jpeg(frame))
        while True:  # every frame is answered; its last message is "progress" or the result
            message = await receive(comm)
            if message["type"] == "prompt":
                prompts_seen.append(message["prompt"])
                current = FRAMES[message["prompt"]]
                assert message["text"]
            if message["type"] == "result":
                result = message
            if message["type"] in ("progress", "result"):
                break
        if result is not None:
            break
    return result, prompts_seen


async def biometric_leftovers() -> list[str]:
    """What any live FaceCheck or FaceConsumer still holds of a face (should be nothing), here
    and in every face worker process."""
    gc.collect()
    found = []
    backend = face_backend()
    if isinstance(backend, FaceWorkers):
        found += [item for attempt in await backend.census() for item in attempt]
    for obj in gc.get_objects():
        if isinstance(obj, FaceCheck):
            found += obj.leftovers()
        elif isinstance(obj, FaceConsumer) and obj.attempt is not None:
            found.append("consumer still holds its attempt")
    return found


async def test_a_full_pass_is_recorded_in_the_session(chip: bytes) -> None:
    session = await asyncio.to_thread(make_session, chip)
    comm = communicator(session)
    ready = await start(comm, chip)
    assert set(ready["prompts"]) == {"face_front", "smile", "turn_left"}  # 3 or 4, random
    result, prompts_seen = await run_attempt(comm, ready)
    assert result is not None and result["passed"] is True, result
    assert "score" not in result  # the page never learns how close it came (no hill-climbing)
    assert (await comm.receive_output(timeout=5))["type"] == "websocket.close"
    assert await biometric_leftovers() == []
    assert prompts_seen == ready["prompts"]
    stored = await asyncio.to_thread(lambda: SessionStore(session_key=session.session_key).load())
    state = WizardState(**stored[wizard_state.SESSION_KEY])
    assert state.step == Step.DONE
    assert state.face_passed_at > 0
    assert 0 < state.face_distance < 0.6
    # Only the photo's hash was ever stored, never the photo (nor frames or embeddings).
    assert set(stored) == {wizard_state.SESSION_KEY}
    assert base64.b64encode(chip).decode()[:64] not in json.dumps(stored)


async def test_a_pass_is_not_recorded_over_evidence_from_another_card(chip: bytes) -> None:
    session = await asyncio.to_thread(make_session, chip)
    comm = communicator(session)
    ready = await start(comm, chip)

    def other_card_meanwhile() -> None:  # another tab verified a different card, same photo
        stored = SessionStore(session_key=session.session_key)
        stored[wizard_state.SESSION_KEY] = dict(
            stored[wizard_state.SESSION_KEY], card_identity="ab" * 32
        )
        stored.save()

    await asyncio.to_thread(other_card_meanwhile)
    result, _ = await run_attempt(comm, ready)
    assert result is not None and result["passed"] is False and result["reason"] == "bad_state"
    stored = await asyncio.to_thread(lambda: SessionStore(session_key=session.session_key).load())
    assert WizardState(**stored[wizard_state.SESSION_KEY]).step == Step.FACE


async def test_the_configured_threshold_decides(chip: bytes, settings: Any) -> None:
    settings.MYNA_FACE_THRESHOLD = 0.05  # far stricter than any real same-person distance
    assert engine_config_from_settings().liveness.threshold == 0.05
    session = await asyncio.to_thread(make_session, chip)
    comm = communicator(session)
    result, _ = await run_attempt(comm, await start(comm, chip))
    assert result is not None and result["passed"] is False, result
    assert result["reason"] == "no_match"
    # Pass or fail and the advice, nothing about which prompts the frames got through.
    assert set(result) == {"type", "passed", "reason", "text", "attempts_left"}
    stored = await asyncio.to_thread(lambda: SessionStore(session_key=session.session_key).load())
    assert WizardState(**stored[wizard_state.SESSION_KEY]).step == Step.FACE  # nothing recorded
    settings.MYNA_FACE_THRESHOLD = 0  # 0 = the calibrated default
    assert engine_config_from_settings().liveness.threshold == DEFAULT_THRESHOLD


async def test_attempts_are_limited_per_card(chip: bytes, settings: Any) -> None:
    settings.MYNA_FACE_ATTEMPTS = 1
    first = await asyncio.to_thread(make_session, chip)
    comm = communicator(first)
    ready = await start(comm, chip)
    assert ready["attempts_left"] == 0
    await comm.disconnect()
    second = await asyncio.to_thread(make_session, chip)  # a new session, the same card
    comm = communicator(second)
    assert (await comm.connect())[0]
    await comm.send_to(text_data=reference_message(chip))
    result = await receive(comm)
    assert result == {
        **result,
        "type": "result",
        "passed": False,
        "reason": "too_many_attempts",
        "attempts_left": 0,
    }


async def test_attempts_are_limited_per_session(chip: bytes, settings: Any) -> None:
    settings.MYNA_FACE_ATTEMPTS = 1
    session = await asyncio.to_thread(make_session, chip)
    comm = communicator(session)
    await start(comm, chip)
    await comm.disconnect()

    def another_card() -> None:  # same session, a different card: the session's limit holds
        stored = SessionStore(session_key=session.session_key)
        state = dict(stored[wizard_state.SESSION_KEY], card_identity="ab" * 32)
        stored[wizard_state.SESSION_KEY] = state
        stored.save()

    await asyncio.to_thread(another_card)
    comm = communicator(session)
    assert (await comm.connect())[0]
    await comm.send_to(text_data=reference_message(chip))
    result = await receive(comm)
    assert result["type"] == "result" and result["reason"] == "too_many_attempts"


async def test_a_silent_page_times_out(chip: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FaceConsumer, "attempt_deadline", 0.2)
    session = await asyncio.to_thread(make_session, chip)
    comm = communicator(session)
    await start(comm, chip)
    result = await receive(comm)  # no frame sent at all
    assert result["type"] == "result" and result["passed"] is False
    assert result["reason"] == "timeout"
    assert (await comm.receive_output(timeout=5))["type"] == "websocket.close"


async def test_messages_follow_the_page_language(chip: bytes) -> None:
    session = await asyncio.to_thread(make_session, chip)
    comm = communicator(session, language=b"en-US,en;q=0.8")
    connected, _ = await comm.connect()
    assert connected
    await comm.send_to(text_data=reference_message(chip))
    assert (await receive(comm, timeout=240))["type"] == "ready"
    advice = await receive(comm)
    with translation.override("en"):
        expected = translation.gettext(ADVICE_TEXT[Advice.FACE_FRONT])
    assert advice["code"] == "face_front"
    assert advice["text"] == expected
    assert advice["text"] != ADVICE_TEXT[Advice.FACE_FRONT]  # the English catalogue has it
    await comm.disconnect()


def reference_message(photo: bytes, *, pace: str | None = None) -> str:
    message = {"type": "reference", "photo": base64.b64encode(photo).decode()}
    if pace is not None:
        message["pace"] = pace
    return json.dumps(message)


async def test_a_killed_face_worker_interrupts_only_its_own_attempt(
    chip: bytes, settings: Any
) -> None:
    settings.MYNA_FACE_WORKERS = 2
    backend = face_backend()
    assert isinstance(backend, FaceWorkers)
    first, second = [await asyncio.to_thread(make_session, chip) for _ in range(2)]
    victim = communicator(first)
    victim_ready = await start(victim, chip)
    busy = [pid for pid, attempts in backend.workers() if attempts and pid is not None]
    assert len(busy) == 1
    other = communicator(second)
    other_ready = await start(other, chip)
    assert sorted(n for _, n in backend.workers()) == [1, 1]  # one attempt per worker
    for comm in (victim, other):
        await comm.send_to(bytes_data=synth.jpeg(synth.webcam_frame("obama")))
        assert await answer(comm) == "progress"

    os.kill(busy[0], signal.SIGKILL)  # the worker holding the first attempt dies mid-attempt
    await asyncio.sleep(0.2)
    await victim.send_to(bytes_data=synth.jpeg(synth.webcam_frame("obama", seed=1)))
    result = await receive(victim)
    assert result["type"] == "result" and result["reason"] == "interrupted", result
    assert "もう一度お試しください" in result["text"]
    # The lost attempt is given back: the card has only the other resident's attempt charged.
    assert result["attempts_left"] == victim_ready["attempts_left"]
    assert (await victim.receive_output(timeout=5))["type"] == "websocket.close"

    # The other resident's attempt goes on to the end on its own worker.
    passed, _ = await run_attempt(other, other_ready)
    assert passed is not None and passed["passed"] is True, passed

    # The dead worker is replaced, and the interrupted resident's retry passes.
    for _ in range(600):
        pids = [pid for pid, _ in backend.workers()]
        if None not in pids and busy[0] not in pids:
            break
        await asyncio.sleep(0.2)
    assert None not in pids and busy[0] not in pids, pids
    retry = communicator(first)
    retry_ready = await start(retry, chip)
    again, _ = await run_attempt(retry, retry_ready)
    assert again is not None and again["passed"] is True, again
    assert await biometric_leftovers() == []


# -- time limits (issue 18): the "take your time" pace and "more time" are the server's ---------


class SteppedClock:
    """The consumer's server clock, stepped by the test to cross the prompts' time limits at once
    (frames are still analysed by the real engine; only the seconds between them are invented)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _frame_at(
    comm: WebsocketCommunicator, clock: SteppedClock, t: float, seed: int
) -> list[dict[str, Any]]:
    """A frontal frame (never a left turn) at server time `t`; the messages that answer it.
    Two different photographs in turn, so the face is never "frozen" across the long gaps."""
    clock.now = t
    name = "obama3" if seed % 2 else "obama"
    await comm.send_to(bytes_data=synth.jpeg(synth.webcam_frame(name, seed=seed)))
    messages = []
    while True:
        message = await receive(comm)
        messages.append(message)
        if message["type"] in ("progress", "result", "error"):
            return messages


async def _verdict_at(
    comm: WebsocketCommunicator, clock: SteppedClock, t: float, seed: int
) -> dict[str, Any]:
    """The attempt's result for a frame at server time `t`: a verdict that waits for embeddings
    still out answers the next frame (issue 19), so frames go on until it comes: paced on the
    stepped clock, and in real time while the embedding helper works."""
    for extra in range(100):
        answer = await _frame_at(comm, clock, t + 0.25 * extra, seed + 2 * extra)
        if answer[-1]["type"] == "result":
            return answer[-1]
        assert answer[-1]["type"] == "progress", answer
        await asyncio.sleep(0.1)
    raise AssertionError("no verdict after a hundred frames")


async def _at_turn_left(
    chip: bytes, clock: SteppedClock, pace: str | None
) -> tuple[WebsocketCommunicator, dict[str, Any], dict[str, Any]]:
    """An attempt at `pace`, calibrated; (socket, ready, the 左 prompt it shows first)."""
    session = await asyncio.to_thread(make_session, chip)
    comm = communicator(session)
    assert (await comm.connect())[0]
    await comm.send_to(text_data=reference_message(chip, pace=pace))
    ready = await receive(comm, timeout=240)
    assert ready["type"] == "ready", ready
    for seed in range(20):
        messages = await _frame_at(comm, clock, clock.now + 0.2, seed)
        prompts = [m for m in messages if m["type"] == "prompt"]
        if prompts:
            assert prompts[0]["prompt"] == "turn_left"
            return comm, ready, prompts[0]
    raise AssertionError("calibration never finished")


async def test_the_take_your_time_pace_is_applied_by_the_server(
    chip: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = SteppedClock()
    monkeypatch.setattr(FaceConsumer, "clock", clock)
    # A seeded generator (it travels to the face worker) whose attempts ask for 左 first.
    seed = next(s for s in range(100) if choose_prompts(random.Random(s))[0] is Prompt.TURN_LEFT)
    monkeypatch.setattr(FaceConsumer, "rng_factory", lambda: random.Random(seed))

    # The standard pace: 15 s to calibrate, 12 s per prompt; 12.5 s without a left turn ends it.
    comm, ready, prompt = await _at_turn_left(chip, clock, None)
    assert (ready["seconds"], prompt["seconds"]) == (15, 12)
    shown = clock.now
    verdict = await _verdict_at(comm, clock, shown + 12.5, 1)
    assert verdict["reason"] == "timeout", verdict
    await comm.disconnect()

    # "slow": three times the time per prompt, decided by the server (the page only names it).
    comm, ready, prompt = await _at_turn_left(chip, clock, "slow")
    assert (ready["seconds"], prompt["seconds"]) == (45, 36)
    shown = clock.now
    for seed, after in enumerate((12.5, 30.0), start=1):
        answer = await _frame_at(comm, clock, shown + after, seed)
        assert answer[-1] == {"type": "progress", "held": 0, "needed": 3}, answer
    # Asked before the time runs out, more time: the prompt's own 36 s once more.
    await comm.send_to(text_data=json.dumps({"type": "more_time"}))
    assert await receive(comm) == {"type": "time", "extended": True, "seconds": 42}
    answer = await _frame_at(comm, clock, shown + 37.0, 3)
    assert answer[-1]["type"] == "progress", answer
    verdict = await _verdict_at(comm, clock, shown + 72.5, 4)
    assert verdict["reason"] == "timeout", verdict
    await comm.disconnect()


async def test_a_page_cannot_name_its_own_time(chip: bytes) -> None:
    session = await asyncio.to_thread(make_session, chip)
    comm = communicator(session)
    assert (await comm.connect())[0]
    for pace in ("forever", 1000, None):
        await comm.send_to(text_data=json.dumps({"type": "reference", "photo": "", "pace": pace}))
        assert (await receive(comm))["reason"] == "bad_message"
    await comm.send_to(text_data=json.dumps({"type": "more_time"}))  # nothing to extend yet
    assert (await receive(comm))["reason"] == "bad_state"
    await comm.disconnect()


async def test_face_worker_log_lines_carry_the_connection_request_id(
    chip: bytes, settings: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "worker.log"
    monkeypatch.setenv(worker_logging.LOG_ENV, str(log))  # inherited by the spawned workers
    settings.MYNA_FACE_WORKERS = 1
    settings.MYNA_TRUST_REQUEST_ID = True  # as behind the proxy, which sets X-Request-ID
    backend = FaceWorkers(
        1, logs=LogSetup(configure=worker_logging.copy_to_file, label=request_id.adopt)
    )
    monkeypatch.setitem(face_attempts._backends, (1, True), backend)
    try:
        offered = "req-" + os.urandom(8).hex()
        session = await asyncio.to_thread(make_session, chip)
        comm = communicator(session, extra=((b"x-request-id", offered.encode()),))
        await start(comm, chip)
        await comm.send_to(bytes_data=synth.jpeg(synth.webcam_frame("obama3")))
        assert await answer(comm) == "progress"
        await comm.disconnect()  # the attempt ends; its worker logs its timings
        lines: list[str] = []
        for _ in range(300):
            text = log.read_text(encoding="utf-8") if log.exists() else ""
            lines = [line for line in text.splitlines() if "face attempt timings" in line]
            if lines:
                break
            await asyncio.sleep(0.2)
        assert lines and all(f"[{offered}]" in line for line in lines), text[-2000:]
    finally:
        backend.close()
