"""`/ws/face/`: the live face check against the chip photo (docs/internal-api.md, "face check").

Thin by design (docs/style.md, Django and Channels): authenticate in `connect`, hand the photo and
every frame to a face worker (faceverify/workers.py), send typed messages back. The server, not
the page, chooses the prompts and decides (shared/docs/peers.md: a client-side check can be
defeated by injected frames).

Protocol, in order:
1. connect — refused unless the session's wizard is at step `face` with verified chip evidence.
2. page → `{"type": "reference", "photo": b64}`: the chip photo the page got from the bridge.
   Accepted only if its SHA-256 equals the `photo_sha256` recorded at evidence time, so the server
   needs no copy of the photo. One attempt is counted (per session and per card) here.
   With it the page names its pace (`"pace"`: the "take your time" setting, issue 18); the server
   maps it to the time per prompt (face_pace.TIME_FACTORS) — the page never sets a time.
3. server → `ready`, `advice` (face the camera), then `prompt` / `progress` / `advice` /
   `placement` per frame, and `pace` when the workers are busy; page → binary JPEG frames
   (≤ 200 KB, one in flight). `ready` and `prompt` carry `seconds`, the time the phase has.
   page → `{"type": "more_time"}` at any time: server → `time` (`extended`, `seconds` left), the
   current phase's limit given once more, a bounded number of times (LivenessConfig).
4. server → `result`; on a pass the wizard state records it. The socket then closes; a retry is a
   new connection (and a new attempt with new prompts).
Frames, embeddings and the photo live only in memory — here and in the worker that holds the
attempt — and are dropped with the result.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from faceverify.imaging import MAX_FRAME_BYTES, ImageError
from faceverify.liveness import (
    AdviceEvent,
    Decision,
    Event,
    LivenessConfig,
    PlacementEvent,
    ProgressEvent,
    PromptEvent,
)
from faceverify.quality import Advice
from faceverify.session import REFERENCE_MAX_BYTES, EngineConfig, ReferencePhotoError
from faceverify.workers import Attempt, EngineFailure, WorkerLost
from reset import face_attempts, face_pace, limits, signals
from reset.face_messages import (
    ADVICE_TEXT,
    ERROR_TEXT,
    PLACEMENT_TEXT,
    PROMPT_TEXT,
    RESULT_TEXT,
    page_language,
    text,
)
from reset.wizard_state import WizardState
from webapp import request_id
from webapp.socket_messages import json_object

logger = logging.getLogger(__name__)

FRAME_INTERVAL_MS = 100  # 10 frames per second at most; `pace` asks for fewer when workers are busy
# The only text message is the reference (base64 of ≤ REFERENCE_MAX_BYTES plus a little JSON);
# anything longer is refused before json.loads runs on the event loop.
MAX_TEXT_CHARS = REFERENCE_MAX_BYTES * 4 // 3 + 1024


class FaceConsumer(AsyncWebsocketConsumer):
    """One face-check attempt per connection."""

    # The check talks to its one page and to no group: it needs no channel layer, and must keep
    # working while Redis (the production layer) is down. No layer is configured under this
    # alias, so Channels gives the consumer none (channels.layers.get_channel_layer).
    channel_layer_alias = "face-check-uses-no-channel-layer"

    # Injection points for tests and deployments; None means "from settings" / SystemRandom.
    engine_config: ClassVar[EngineConfig | None] = None
    # Frames may come a little early (timer jitter in the browser): on average no sooner than
    # this apart, with a few early ones forgiven (limits.FrameRate).
    min_frame_gap: ClassVar[float] = FRAME_INTERVAL_MS / 1000 * 0.8
    # The challenge times out only when frames arrive; a page that goes quiet must not hold the
    # reference embedding open: after this many seconds the attempt fails as a time-out.
    # (At the standard pace; the "take your time" paces and every extension lengthen it alike.)
    attempt_deadline: ClassVar[float] = 90.0
    # The workers answer a start in a second or two; when they have kept the page waiting this
    # long they are busy with other residents' checks (or still loading their models), and the
    # page is told so rather than left showing its first prompt for up to the pool's start
    # timeout (faceverify.workers._START_TIMEOUT).
    busy_notice_after: ClassVar[float] = 5.0
    rng_factory: ClassVar[Callable[[], random.Random] | None] = None
    # The server clock the challenge's times are read on (tests step it to cross time limits).
    clock: ClassVar[Callable[[], float]] = time.monotonic

    attempt: Attempt | None = None
    frame_rate: limits.FrameRate
    state: WizardState | None = None
    attempts_left: int = 0
    counted_at: datetime | None = None
    pace_ms: int = FRAME_INTERVAL_MS
    language: str = "ja"
    watchdog: asyncio.Task[None] | None = None
    deadline_at: float = 0.0  # event-loop time at which the watchdog ends a silent attempt
    liveness: LivenessConfig = LivenessConfig()
    finished: bool = False

    async def connect(self) -> None:
        self.language = page_language(self.scope)
        self.state = await database_sync_to_async(face_attempts.load_state)(self.scope)
        if self.state is None:
            logger.info("face socket refused: no verified chip evidence in session")
            await self.close(code=4403)
            return
        self.frame_rate = limits.FrameRate()
        face_attempts.face_backend()  # workers start loading while the page sends the photo
        await self.accept()

    async def disconnect(self, code: int) -> None:
        self._drop()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.finished:
            return
        if bytes_data is not None:
            await self._frame(bytes_data)
            return
        message = json_object(text_data, max_chars=MAX_TEXT_CHARS) or {}
        kind, pace = message.get("type"), message.get("pace", face_pace.STANDARD)
        if kind == "more_time":
            await self._more_time()
        elif kind == "reference" and pace in face_pace.TIME_FACTORS:
            await self._reference(message.get("photo"), str(pace))
        else:
            await self._error("bad_message")

    # -- reference ------------------------------------------------------------------------------

    async def _reference(self, photo_b64: Any, pace: str) -> None:
        if self.attempt is not None or self.state is None:
            await self._error("bad_state")
            return
        photo = _b64(photo_b64, limit=REFERENCE_MAX_BYTES)
        expected = self.state.photo_sha256
        if photo is None or not hmac.compare_digest(hashlib.sha256(photo).hexdigest(), expected):
            logger.info("face reference refused: not the photo verified at evidence time")
            await self._error("wrong_reference")
            await self._end()
            return
        self.counted_at = datetime.now(tz=UTC)
        allowed, self.attempts_left = await database_sync_to_async(face_attempts.count_attempt)(
            self.scope["session"].session_key, self.state.card_identity, now=self.counted_at
        )
        if not allowed:
            await self._result("too_many_attempts", attempts_left=0)
            return
        config = face_attempts.at_pace(
            self.engine_config or face_attempts.engine_config_from_settings(), pace
        )
        self.liveness = config.liveness
        factory = type(self).rng_factory
        notice = asyncio.create_task(self._notice_busy())
        try:
            self.attempt = await face_attempts.face_backend().start(
                photo,
                config,
                factory() if factory is not None else None,
                request_id=request_id.current.get(),
            )
        except ReferencePhotoError:
            logger.warning("chip photo has no usable face")
            await self._error("reference_unusable")
            await self._end()
            return
        except WorkerLost:
            await self._interrupted()
            return
        except Exception:
            logger.exception("chip photo could not be analysed")
            await self._error("reference_unusable")
            await self._end()
            return
        finally:
            notice.cancel()
            del photo
        self.pace_ms = self.attempt.pace_ms(FRAME_INTERVAL_MS)
        await self._send(
            type="ready",
            prompts=[str(p) for p in self.attempt.prompts],
            frame_interval_ms=self.pace_ms,
            max_frame_bytes=MAX_FRAME_BYTES,
            attempts_left=self.attempts_left,
            seconds=round(self.liveness.calibration_timeout),
        )
        await self._advice(Advice.FACE_FRONT)
        factor = face_pace.TIME_FACTORS[pace]
        self.deadline_at = asyncio.get_running_loop().time() + type(self).attempt_deadline * factor
        self.watchdog = asyncio.create_task(self._expire())
        await self._tell_listeners("started")

    async def _notice_busy(self) -> None:
        """Tells the page, once a start has kept it waiting, that the check is coming."""
        await asyncio.sleep(type(self).busy_notice_after)
        await self._send(type="waiting")

    async def _expire(self) -> None:
        loop = asyncio.get_running_loop()
        while (left := self.deadline_at - loop.time()) > 0:  # more time moves the deadline
            await asyncio.sleep(left)
        if self.attempt is not None and not self.finished:
            logger.info("face check failed reason=deadline")
            self._drop()
            await self._result("timeout")

    # -- frames ---------------------------------------------------------------------------------

    async def _frame(self, data: bytes) -> None:
        attempt = self.attempt
        if attempt is None:
            await self._error("bad_state")
            return
        if len(data) > MAX_FRAME_BYTES:
            await self._error("frame_too_large")
            return
        now = type(self).clock()
        if not self.frame_rate.take(now, gap=type(self).min_frame_gap):
            await self._error("too_fast")
            return
        try:
            events = await attempt.feed(data, now)
        except ImageError as exc:
            if not self.finished:
                await self._error(exc.reason)
            return
        except EngineFailure:
            # An engine failure on one odd frame (OpenCV or dlib raising) must not end the
            # connection: the frame is refused like any unreadable one and the attempt goes on.
            if not self.finished:
                await self._error("undecodable")
            return
        except WorkerLost:
            if not self.finished:
                await self._interrupted()
            return
        if self.finished or self.attempt is not attempt:
            attempt.end()  # the deadline ended the attempt while this frame was analysed
            return
        await self._pace(attempt)
        for event in events:
            await self._event(event)

    async def _pace(self, attempt: Attempt) -> None:
        """Ask the page for fewer frames while its worker is busy, and for more again after."""
        wanted = attempt.pace_ms(FRAME_INTERVAL_MS)
        if abs(wanted - self.pace_ms) >= max(20, self.pace_ms // 5):
            self.pace_ms = wanted
            await self._send(type="pace", frame_interval_ms=wanted)

    async def _event(self, event: Event) -> None:
        if isinstance(event, PromptEvent):
            await self._send(
                type="prompt",
                prompt=str(event.prompt),
                text=self._t(PROMPT_TEXT[event.prompt]),
                index=event.index,
                total=event.total,
                seconds=round(self.liveness.prompt_timeout),
            )
        elif isinstance(event, ProgressEvent):
            await self._send(type="progress", held=event.held, needed=event.needed)
        elif isinstance(event, AdviceEvent):
            await self._advice(event.code)
        elif isinstance(event, PlacementEvent):
            text = self._t(PLACEMENT_TEXT[event.where])
            await self._send(type="placement", where=str(event.where), text=text)
        elif isinstance(event, Decision):
            await self._decided(event)

    async def _decided(self, decision: Decision) -> None:
        self._drop()
        if decision.passed and decision.score is not None and self.state is not None:
            recorded = await database_sync_to_async(face_attempts.record_pass)(
                self.scope["session"].session_key,
                self.state,
                decision.score,
                counted_at=self.counted_at,
            )
            if recorded:
                logger.info("face check passed")
                await self._result("passed")
                return
            reason = "bad_state"
        else:
            reason = str(decision.reason)
        logger.info("face check failed reason=%s", reason)
        # Pass or fail and the advice only: no per-prompt progress (issue 13), so a failed attack
        # learns nothing about which of its frames got through.
        await self._result(reason)

    async def _more_time(self) -> None:
        """The resident asked for more time for the current prompt (WCAG 2.2.1, "Extend"): the
        challenge decides whether it may still be given; the silent-page deadline moves with it."""
        attempt = self.attempt
        if attempt is None:
            await self._error("bad_state")
            return
        try:
            left = await attempt.extend(type(self).clock())
        except WorkerLost:
            if not self.finished:
                await self._interrupted()
            return
        if self.finished or self.attempt is not attempt:
            return
        if left is not None:
            self.deadline_at += max(self.liveness.prompt_timeout, self.liveness.calibration_timeout)
        logger.info("face check more time extended=%s", left is not None)
        await self._send(
            type="time", extended=left is not None, seconds=None if left is None else round(left)
        )

    async def _interrupted(self) -> None:
        """The worker holding this attempt died: the attempt is given back, the page retries."""
        logger.warning("face check interrupted: its worker died")
        self._drop()
        if self.state is not None:
            self.attempts_left = await database_sync_to_async(face_attempts.refund_attempt)(
                self.scope["session"].session_key, self.state.card_identity
            )
        await self._result("interrupted")

    # -- plumbing -------------------------------------------------------------------------------

    async def _result(self, reason: str, **extra: Any) -> None:
        passed = reason == "passed"
        await self._send(
            type="result",
            passed=passed,
            reason=None if passed else reason,
            text=self._t(RESULT_TEXT.get(reason, ERROR_TEXT["bad_state"])),
            attempts_left=extra.pop("attempts_left", self.attempts_left),
            **extra,
        )
        await self._end()
        await self._tell_listeners(reason)

    async def _tell_listeners(self, result: str) -> None:
        """reset/signals.py: after the page's own message, and never failing the check."""
        await signals.face_check_event.asend_robust(
            sender=type(self), scope=self.scope, result=result, attempts_left=self.attempts_left
        )

    async def _advice(self, code: Advice) -> None:
        await self._send(type="advice", code=str(code), text=self._t(ADVICE_TEXT[code]))

    async def _error(self, reason: str) -> None:
        await self._send(type="error", reason=reason, text=self._t(ERROR_TEXT[reason]))

    async def _send(self, **message: Any) -> None:
        await self.send(text_data=json.dumps(message, ensure_ascii=False))

    async def _end(self) -> None:
        self.finished = True
        self._drop()
        await self.close(code=1000)

    def _drop(self) -> None:
        if self.attempt is not None:
            self.attempt.end()
        self.attempt = None
        current = asyncio.current_task()
        if self.watchdog is not None and self.watchdog is not current:
            self.watchdog.cancel()
        self.watchdog = None

    def _t(self, message: str) -> str:
        return text(self.language, message)


def _b64(value: Any, *, limit: int) -> bytes | None:
    if not isinstance(value, str) or len(value) > limit * 4 // 3 + 8:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
