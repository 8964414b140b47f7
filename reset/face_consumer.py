"""`/ws/face/`: the live face check against the chip photo (docs/internal-api.md, "face check").

Thin by design (docs/style.md, Django and Channels): authenticate in `connect`, hand every frame to
`faceverify` on a worker thread, send typed messages back. The server, not the page, chooses the
prompts and decides (shared/docs/peers.md: a client-side check can be defeated by injected frames).

Protocol, in order:
1. connect — refused unless the session's wizard is at step `face` with verified chip evidence.
2. page → `{"type": "reference", "photo": b64}`: the chip photo the page got from the bridge.
   Accepted only if its SHA-256 equals the `photo_sha256` recorded at evidence time, so the server
   needs no copy of the photo. One attempt is counted (per session and per card) here.
3. server → `ready`, `advice` (face the camera), then `prompt` / `progress` / `advice` per frame;
   page → binary JPEG frames (≤ 200 KB, ≤ 10 per second, one in flight).
4. server → `result`; on a pass the wizard state records it. The socket then closes; a retry is a
   new connection (and a new attempt with new prompts).
Frames, embeddings and the photo live only in this object's memory and are dropped with the result.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from importlib import import_module
from typing import Any, ClassVar

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.utils import translation
from django.utils.translation import gettext_noop

from faceverify.imaging import JPEG, ImageError, decode
from faceverify.liveness import (
    DEFAULT_THRESHOLD,
    AdviceEvent,
    Decision,
    Event,
    LivenessConfig,
    ProgressEvent,
    Prompt,
    PromptEvent,
)
from faceverify.quality import Advice
from faceverify.session import (
    REFERENCE_MAX_BYTES,
    EngineConfig,
    FaceCheck,
    ReferencePhotoError,
    reference_embedding,
)
from reset import limits, wizard_state
from reset.wizard_state import Step, WizardState

logger = logging.getLogger(__name__)

MAX_FRAME_BYTES = 200 * 1024
MAX_FRAME_SIDE = 1280
MIN_FRAME_SIDE = 120
FRAME_INTERVAL_MS = 100  # 10 frames per second at most
# The only text message is the reference (base64 of ≤ REFERENCE_MAX_BYTES plus a little JSON);
# anything longer is refused before json.loads runs on the event loop.
MAX_TEXT_CHARS = REFERENCE_MAX_BYTES * 4 // 3 + 1024
_FRAME_FORMATS = frozenset({JPEG})

# Face work is CPU-bound (dlib, OpenCV): it runs on a small pool of its own so that it never blocks
# the event loop and never takes the threads database_sync_to_async relies on.
_POOL = ThreadPoolExecutor(max_workers=max(1, (os.cpu_count() or 1)), thread_name_prefix="face")

PROMPT_TEXT: dict[Prompt, str] = {
    Prompt.TURN_LEFT: gettext_noop("左を向いてください"),
    Prompt.FACE_FRONT: gettext_noop("正面を向いてください"),
    Prompt.SMILE: gettext_noop("笑顔になってください"),
}
ADVICE_TEXT: dict[Advice, str] = {
    Advice.NO_FACE: gettext_noop("顔が見つかりません。カメラに向かって正面を見てください。"),
    Advice.MULTIPLE_FACES: gettext_noop("画面に映るのはご本人お一人にしてください。"),
    Advice.TOO_DARK: gettext_noop("暗すぎます。明るい場所で行ってください。"),
    Advice.BACKLIT: gettext_noop("逆光になっています。光を背にしない場所で行ってください。"),
    Advice.TOO_BRIGHT: gettext_noop("明るすぎます。照明が反射しない場所で行ってください。"),
    Advice.TOO_SMALL: gettext_noop("もう少しカメラに近づいてください。"),
    Advice.TOO_LARGE: gettext_noop("カメラから少し離れてください。"),
    Advice.BLURRY: gettext_noop("画像がぼやけています。カメラを固定して、動かないでください。"),
    Advice.MOUTH_COVERED: gettext_noop("マスクなど顔を覆うものを外してください。"),
    Advice.BROWS_COVERED: gettext_noop("髪で顔の輪郭や眉が隠れないようにしてください。"),
    Advice.FACE_FRONT: gettext_noop("カメラに向かってまっすぐ正面を見てください。"),
}
ERROR_TEXT: dict[str, str] = {
    "bad_message": gettext_noop("送信された内容を読み取れませんでした。"),
    "bad_state": gettext_noop("この操作は今は行えません。"),
    "wrong_reference": gettext_noop(
        "ICチップの顔写真が確認できませんでした。カードの読み取りからやり直してください。"
    ),
    "reference_unusable": gettext_noop(
        "ICチップの顔写真から顔を検出できませんでした。窓口でお手続きください。"
    ),
    "frame_too_large": gettext_noop("画像が大きすぎます。"),
    "too_fast": gettext_noop("画像の送信間隔が短すぎます。"),
    "undecodable": gettext_noop("画像を読み取れませんでした。"),
    "dimensions": gettext_noop("画像のサイズが対応していません。"),
}
RESULT_TEXT: dict[str, str] = {
    "passed": gettext_noop("顔認証が完了しました。"),
    "timeout": gettext_noop("時間内に指示どおりの動作を確認できませんでした。"),
    "static": gettext_noop(
        "動きが確認できませんでした。写真や録画ではなく、ご本人がカメラの前にいてください。"
    ),
    "face_changed": gettext_noop(
        "途中で別の顔に変わりました。最初から最後までご本人だけが映るようにしてください。"
    ),
    "no_match": gettext_noop("ICチップの顔写真と一致しませんでした。"),
    "too_few_frames": gettext_noop("正面の顔を十分に確認できませんでした。"),
    "too_many_attempts": gettext_noop(
        "試行回数の上限に達しました。お住まいの市区町村窓口でお手続きください。"
    ),
}


def engine_config_from_settings() -> EngineConfig:
    """MYNA_FACE_THRESHOLD = 0 means the engine's calibrated default (docs/faceverify.md)."""
    configured = float(getattr(settings, "MYNA_FACE_THRESHOLD", 0.0) or 0.0)
    threshold = configured if configured > 0 else DEFAULT_THRESHOLD
    return EngineConfig(liveness=LivenessConfig(threshold=threshold))


class FaceConsumer(AsyncWebsocketConsumer):
    """One face-check attempt per connection."""

    # The check talks to its one page and to no group: it needs no channel layer, and must keep
    # working while Redis (the production layer) is down. No layer is configured under this
    # alias, so Channels gives the consumer none (channels.layers.get_channel_layer).
    channel_layer_alias = "face-check-uses-no-channel-layer"

    # Injection points for tests and deployments; None means "from settings" / SystemRandom.
    engine_config: ClassVar[EngineConfig | None] = None
    # A frame may start a little early (timer jitter in the browser); earlier than this is refused.
    min_frame_gap: ClassVar[float] = FRAME_INTERVAL_MS / 1000 * 0.8
    # The challenge times out only when frames arrive; a page that goes quiet must not hold the
    # reference embedding open: after this many seconds the attempt fails as a time-out.
    attempt_deadline: ClassVar[float] = 90.0
    rng_factory: ClassVar[Callable[[], random.Random] | None] = None

    check: FaceCheck | None = None
    state: WizardState | None = None
    last_frame_at: float | None = None
    attempts_left: int = 0
    counted_at: datetime | None = None
    language: str = "ja"
    watchdog: asyncio.Task[None] | None = None
    finished: bool = False

    async def connect(self) -> None:
        self.language = _language(self.scope)
        self.state = await database_sync_to_async(self._load_state)()
        if self.state is None:
            logger.info("face socket refused: no verified chip evidence in session")
            await self.close(code=4403)
            return
        await self.accept()

    async def disconnect(self, code: int) -> None:
        self._drop()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.finished:
            return
        if bytes_data is not None:
            await self._frame(bytes_data)
            return
        try:
            too_long = len(text_data or "") > MAX_TEXT_CHARS
            message = None if too_long else json.loads(text_data or "")
        except ValueError:
            message = None
        if not isinstance(message, dict) or message.get("type") != "reference":
            await self._error("bad_message")
            return
        await self._reference(message.get("photo"))

    # -- reference ------------------------------------------------------------------------------

    async def _reference(self, photo_b64: Any) -> None:
        if self.check is not None or self.state is None:
            await self._error("bad_state")
            return
        photo = _b64(photo_b64, limit=REFERENCE_MAX_BYTES)
        expected = self.state.photo_sha256
        if photo is None or not hmac.compare_digest(hashlib.sha256(photo).hexdigest(), expected):
            logger.info("face reference refused: not the photo verified at evidence time")
            await self._error("wrong_reference")
            await self._end()
            return
        allowed, left = await database_sync_to_async(self._count_attempt)()
        if not allowed:
            await self._send(
                type="result",
                passed=False,
                reason="too_many_attempts",
                text=self._t(RESULT_TEXT["too_many_attempts"]),
                attempts_left=0,
            )
            await self._end()
            return
        self.attempts_left = left
        config = self.engine_config or engine_config_from_settings()
        factory = type(self).rng_factory
        rng = factory() if factory is not None else None
        try:
            self.check = await self._offload(self._start_check, photo, config, rng)
        except ReferencePhotoError:
            logger.warning("chip photo has no usable face")
            await self._error("reference_unusable")
            await self._end()
            return
        except Exception:
            logger.exception("chip photo could not be analysed")
            await self._error("reference_unusable")
            await self._end()
            return
        finally:
            del photo
        await self._send(
            type="ready",
            prompts=[str(p) for p in self.check.prompts],
            frame_interval_ms=FRAME_INTERVAL_MS,
            max_frame_bytes=MAX_FRAME_BYTES,
            attempts_left=left,
        )
        await self._advice(Advice.FACE_FRONT)
        self.watchdog = asyncio.create_task(self._expire(type(self).attempt_deadline))

    async def _expire(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        if self.check is not None and not self.finished:
            logger.info("face check failed reason=deadline")
            self._drop()
            await self._send(
                type="result",
                passed=False,
                reason="timeout",
                text=self._t(RESULT_TEXT["timeout"]),
                attempts_left=self.attempts_left,
            )
            await self._end()

    @staticmethod
    def _start_check(photo: bytes, config: EngineConfig, rng: random.Random | None) -> FaceCheck:
        return FaceCheck(reference_embedding(photo), config=config, rng=rng)

    # -- frames ---------------------------------------------------------------------------------

    async def _frame(self, data: bytes) -> None:
        check = self.check
        if check is None:
            await self._error("bad_state")
            return
        if len(data) > MAX_FRAME_BYTES:
            await self._error("frame_too_large")
            return
        now = time.monotonic()
        if self.last_frame_at is not None and now - self.last_frame_at < self.min_frame_gap:
            await self._error("too_fast")
            return
        self.last_frame_at = now
        try:
            events = await self._offload(self._process, check, data, now)
        except ImageError as exc:
            if not self.finished:
                await self._error(exc.reason)
            return
        except Exception:
            # An engine failure on one odd frame (OpenCV or dlib raising) must not end the
            # connection: the frame is refused like any unreadable one and the attempt goes on.
            logger.exception("face frame could not be analysed")
            if not self.finished:
                await self._error("undecodable")
            return
        if self.finished or self.check is not check:
            # The deadline ended the attempt while this frame was being analysed; the worker may
            # have kept this frame's crop after the discard, so drop it again.
            check.discard()
            return
        for event in events:
            await self._event(event)

    @staticmethod
    def _process(check: FaceCheck, data: bytes, now: float) -> list[Event]:
        # Frames are JPEG only; the sides are checked from the header before any pixel is decoded.
        image = decode(
            data, max_side=MAX_FRAME_SIDE, min_side=MIN_FRAME_SIDE, formats=_FRAME_FORMATS
        )
        return check.feed(image, now)

    async def _event(self, event: Event) -> None:
        if isinstance(event, PromptEvent):
            await self._send(
                type="prompt",
                prompt=str(event.prompt),
                text=self._t(PROMPT_TEXT[event.prompt]),
                index=event.index,
                total=event.total,
            )
        elif isinstance(event, ProgressEvent):
            await self._send(type="progress", held=event.held, needed=event.needed)
        elif isinstance(event, AdviceEvent):
            await self._advice(event.code)
        elif isinstance(event, Decision):
            await self._decided(event)

    async def _decided(self, decision: Decision) -> None:
        self._drop()
        left = self.attempts_left
        if decision.passed and decision.score is not None:
            recorded = await database_sync_to_async(self._record_pass)(decision.score)
            if recorded:
                logger.info("face check passed")
                await self._send(
                    type="result",
                    passed=True,
                    reason=None,
                    text=self._t(RESULT_TEXT["passed"]),
                    attempts_left=left,
                )
                await self._end()
                return
            decision_reason = "bad_state"
        else:
            decision_reason = str(decision.reason)
        logger.info("face check failed reason=%s", decision_reason)
        await self._send(
            type="result",
            passed=False,
            reason=decision_reason,
            text=self._t(RESULT_TEXT.get(decision_reason, ERROR_TEXT["bad_state"])),
            attempts_left=left,
            prompts_passed=[str(p) for p in decision.prompts_passed],
        )
        await self._end()

    # -- session and limits (sync, called through database_sync_to_async) -----------------------

    def _load_state(self) -> WizardState | None:
        session = self.scope.get("session")
        if session is None or not session.session_key:
            return None
        state = wizard_state.load(session)
        if state is None or state.step_enum != Step.FACE:
            return None
        # Only wizard_state.record_evidence sets these, after the server verified the chip
        # evidence (architecture.md, trust model 1–3); check 4 builds on them.
        if not state.photo_sha256 or not state.card_identity or state.evidence_at <= 0:
            return None
        return state

    def _count_attempt(self) -> tuple[bool, int]:
        # The rules (both counters, a pass gives its try back) live in reset/limits.py.
        self.counted_at = datetime.now(tz=UTC)
        card = self.state.card_identity if self.state else ""
        return limits.consume_face_attempt(self._session_hash(), card, now=self.counted_at)

    def _session_hash(self) -> str:
        return limits.session_key_hash(self.scope["session"].session_key)

    def _record_pass(self, distance: float) -> bool:
        # The scope's session was read when the socket opened; the attempt takes a minute, and the
        # resident's other requests may have changed the session since. Read it afresh, so the
        # check below sees the current state and the save does not overwrite newer data.
        session = _fresh_session(self.scope["session"].session_key)
        state = wizard_state.load(session)
        # The evidence this attempt started from must still be the session's (not re-read with
        # another card in another tab meanwhile).
        if (
            state is None
            or self.state is None
            or state.step_enum != Step.FACE
            or state.photo_sha256 != self.state.photo_sha256
            or state.card_identity != self.state.card_identity
        ):
            return False
        wizard_state.record_face_pass(session, state, distance=round(distance, 4))
        session.save()
        if self.counted_at is not None:
            limits.refund_face_attempt(
                self._session_hash(), state.card_identity, counted_at=self.counted_at
            )
        return True

    # -- plumbing -------------------------------------------------------------------------------

    async def _offload(self, function: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(_POOL, function, *args)

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
        if self.check is not None:
            self.check.discard()
        self.check = None
        current = asyncio.current_task()
        if self.watchdog is not None and self.watchdog is not current:
            self.watchdog.cancel()
        self.watchdog = None

    def _t(self, message: str) -> str:
        with translation.override(self.language):
            return translation.gettext(message)


def _fresh_session(session_key: str) -> SessionBase:
    store: type[SessionBase] = import_module(settings.SESSION_ENGINE).SessionStore
    return store(session_key=session_key)


def _language(scope: dict[str, Any]) -> str:
    """The page's language, chosen as LocaleMiddleware would: the language cookie, then
    Accept-Language, then LANGUAGE_CODE — so messages match the page they appear on."""
    cookies = scope.get("cookies") or {}
    candidates = [cookies.get(settings.LANGUAGE_COOKIE_NAME, "")]
    headers = dict(scope.get("headers") or [])
    accept = headers.get(b"accept-language", b"").decode("latin-1")
    candidates += [code for code, _q in translation.trans_real.parse_accept_lang_header(accept)]
    for code in candidates:
        if not code or code == "*":
            continue
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return str(settings.LANGUAGE_CODE)


def _b64(value: Any, *, limit: int) -> bytes | None:
    if not isinstance(value, str) or len(value) > limit * 4 // 3 + 8:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
