"""The face check's bookkeeping around the engine: who may try, how often, where it runs, and
recording a pass — the synchronous parts of `/ws/face/` (called through database_sync_to_async).
"""

from __future__ import annotations

import atexit
import logging
from dataclasses import replace
from datetime import datetime
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase

from faceverify.liveness import DEFAULT_THRESHOLD, LivenessConfig
from faceverify.session import EngineConfig
from faceverify.worker_process import LogSetup
from faceverify.workers import FaceBackend, FaceWorkers, InlineFaceWorkers
from reset import limits, wizard_state
from reset.face_pace import TIME_FACTORS
from reset.wizard_state import Step, WizardState
from webapp import logs as logs_setup
from webapp import request_id

logger = logging.getLogger(__name__)

_backends: dict[tuple[int, bool], FaceBackend] = {}


def face_backend() -> FaceBackend:
    """This server process's face workers (`MYNA_FACE_WORKERS`, `MYNA_FACE_EMBED_AFTER_ANSWER`),
    started on first use; they log like the server, with each connection's request ID."""
    size = int(settings.MYNA_FACE_WORKERS)
    deferred = bool(settings.MYNA_FACE_EMBED_AFTER_ANSWER)
    backend = _backends.get((size, deferred))
    if backend is None:
        logger.info("starting face workers processes=%d embed_after_answer=%s", size, deferred)
        logs = LogSetup(configure=logs_setup.configure_worker_process, label=request_id.adopt)
        backend = _backends[(size, deferred)] = (
            FaceWorkers(size, deferred=deferred, logs=logs) if size > 0 else InlineFaceWorkers()
        )
        atexit.register(backend.close)
    return backend


def engine_config_from_settings() -> EngineConfig:
    """MYNA_FACE_THRESHOLD = 0 means the engine's calibrated default (docs/faceverify.md)."""
    configured = float(settings.MYNA_FACE_THRESHOLD or 0.0)
    threshold = configured if configured > 0 else DEFAULT_THRESHOLD
    return EngineConfig(liveness=LivenessConfig(threshold=threshold))


def at_pace(config: EngineConfig, pace: str) -> EngineConfig:
    """`config` with the time per prompt of the page's pace (face_pace.py; KeyError if unknown)."""
    return replace(config, liveness=config.liveness.with_more_time(TIME_FACTORS[pace]))


def load_state(scope: dict[str, Any]) -> WizardState | None:
    """The wizard state if this socket's session may take the face check, else None."""
    session = scope.get("session")
    if session is None or not session.session_key:
        return None
    state = wizard_state.load(session)
    if state is None or state.step_enum != Step.FACE:
        return None
    # Only wizard_state.record_evidence sets these, after the server verified the chip evidence
    # (architecture.md, trust model 1–3); check 4 builds on them.
    if not state.photo_sha256 or not state.card_identity or state.evidence_at <= 0:
        return None
    return state


def count_attempt(
    session_key: str, card_identity: str, *, now: datetime | None = None
) -> tuple[bool, int]:
    """Charge one attempt to the session and to the card; (allowed, attempts left).

    The rules (both counters, a pass gives its try back) live in reset/limits.py.
    """
    return limits.consume_face_attempt(limits.session_key_hash(session_key), card_identity, now=now)


def refund_attempt(session_key: str, card_identity: str) -> int:
    """Give back an attempt the server lost (a face worker died) before any decision; attempts
    left. Safe to give: a lost attempt told the page nothing about how close it came."""
    session_hash = limits.session_key_hash(session_key)
    limits.refund(limits.face_session_limit(), session_hash)
    limits.refund(limits.face_card_limit(), card_identity)
    return limits.face_attempts_left(session_hash, card_identity)


def record_pass(
    session_key: str,
    started_from: WizardState,
    distance: float,
    *,
    counted_at: datetime | None = None,
) -> bool:
    """Record the pass in the session, if it still holds the evidence the attempt started from;
    a pass gives back the try counted at `counted_at` (only failed attempts use tries up)."""
    # The scope's session was read when the socket opened; the attempt takes a minute, and the
    # resident's other requests may have changed the session since. Read it afresh, so the check
    # below sees the current state and the save does not overwrite newer data.
    store: type[SessionBase] = import_module(settings.SESSION_ENGINE).SessionStore
    session = store(session_key=session_key)
    state = wizard_state.load(session)
    # The evidence this attempt started from must still be the session's (not re-read with
    # another card in another tab meanwhile).
    if (
        state is None
        or state.step_enum != Step.FACE
        or state.photo_sha256 != started_from.photo_sha256
        or state.card_identity != started_from.card_identity
    ):
        return False
    wizard_state.record_face_pass(session, state, distance=round(distance, 4))
    session.save()
    if counted_at is not None:
        limits.refund_face_attempt(
            limits.session_key_hash(session_key), state.card_identity, counted_at=counted_at
        )
    return True
