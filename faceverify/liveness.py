"""The liveness challenge: server-chosen prompts, held over consecutive frames, one face throughout.

This module is pure: it consumes one `FrameMeasure` per frame (numbers and, on some frames, an
embedding) and produces events, so tests can script whole sessions without video.

What it defends against (shared/docs/peers.md, remote identity proofing; docs/faceverify.md,
"Presentation attacks"):
- a printed or on-screen photo, tilted to fake a turn: the landmarks of the turned frames must
  not be explained by a homography of the frontal ones (faceverify.planarity: a plane moves by a
  homography, a head shows parallax between the nose and the outline), and the surroundings of
  the face must not move with it (faceverify.screen, computed by the session). Both are judged
  only at the end of the attempt, so no per-frame progress tells an attacker which tilt worked;
- a photo that already smiles: the smile must be a change from the same person's most neutral
  frontal frame of this attempt, with the planar motion between the two frames removed;
- prompts come in an order and number chosen by the server for each attempt (`choose_prompts`,
  SystemRandom);
- a frozen or replayed stream: the aligned face (landmark geometry and texture, session.py /
  faceverify.stillness) not changing for `frozen_seconds` ends the attempt; pixel noise, shifts
  and re-encoding do not count as change;
- a swap between people (the holder's photo for the frontal frames, someone else for the rest):
  every embedding taken during the attempt must stay within `continuity_max` of the first one;
- one lucky frame: the identity score is the median of *all* frontal distances of the attempt
  (at least `min_identity_frames`), so a few favourable frames among many cannot carry it.
"""

from __future__ import annotations

import collections
import itertools
import logging
import math
import random
import secrets
import statistics
from dataclasses import dataclass, field, replace
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from faceverify.geometry import Points
from faceverify.placement import Placement
from faceverify.planarity import expression_change, median_turn_parallax
from faceverify.quality import Advice

logger = logging.getLogger(__name__)

Embedding = npt.NDArray[np.float64]

DEFAULT_THRESHOLD = 0.60  # calibrated in docs/faceverify.md (3–5 KB JP2 references)


class Prompt(StrEnum):
    """What the resident is asked to do (official app: 画面の上部に表示される指示)."""

    TURN_LEFT = "turn_left"  # 左を向く — the resident's own left (see geometry.py)
    FACE_FRONT = "face_front"  # 正面を向く
    SMILE = "smile"  # 笑う


class FaceCheckReason(StrEnum):
    """Why an attempt failed; stable codes the page maps to Japanese help."""

    TIMEOUT = "timeout"
    STATIC = "static"
    FACE_CHANGED = "face_changed"
    NO_MATCH = "no_match"
    TOO_FEW_FRAMES = "too_few_frames"
    # A presentation attack (flat turn, surroundings moving with the face): deliberately one code
    # for every such signal, so a failed attempt does not say which check caught it.
    NOT_LIVE = "not_live"


@dataclass(frozen=True)
class LivenessConfig:
    """Thresholds and timing; every number here is a setting, not a constant of nature."""

    threshold: float = DEFAULT_THRESHOLD
    hold_frames: int = 3
    prompt_timeout: float = 12.0
    calibration_frames: int = 2
    calibration_timeout: float = 15.0
    frontal_max_yaw: float = 18.0  # absolute for calibration and identity frames
    frontal_max_pitch: float = 15.0  # relative to the calibration baseline
    # A left turn must end clearly on the resident's own left of the camera axis *and* be a real
    # turn away from the session's first frontal frames: calibrated at +18° (allowed), a head at
    # 28° has turned only 10° and does not count.
    left_min_yaw: float = 25.0  # absolute
    left_min_turn: float = 12.0  # relative to the calibration baseline
    turn_max_pitch: float = 25.0
    smile_min: float = 0.85
    # ... and at least this much more than the attempt's most neutral frontal frame, after the
    # planar motion between them is removed (planarity.expression_change; docs/faceverify.md).
    smile_min_change: float = 0.07
    smile_max_yaw: float = 20.0
    # Signed nose parallax of the turn (planarity.turn_parallax) at least this: flat photos
    # tilted 10–60° measure ≤ 0.026, real turned heads ≥ 0.058 (docs/faceverify.md).
    min_parallax: float = 0.045
    # Surroundings moving with the face (screen.surround_follow): a ratio below this means the
    # region around the face moved by the face's own homography, like the rest of a held photo.
    # Tilted photos read as a left turn: 0.22–0.81; real turns 1.01–1.05 (docs/faceverify.md).
    min_surround_ratio: float = 0.75
    continuity_max: float = 0.55
    # `motion` is the aligned-face change (faceverify.stillness), 1.0 = clearly moved.
    frozen_motion: float = 1.0
    frozen_seconds: float = 8.0
    frontal_landmark_frames: int = 8
    min_identity_frames: int = 3
    # Besides the frames that must carry one, an embedding at least this many frames apart
    # (2 s at the page's usual 5 frames/s; it was every 3rd frame): continuity at a bounded cost.
    recheck_every: int = 10
    # WCAG 2.2.1 Timing Adjustable, "Extend" (issue 18): a resident who asks for more time gets the
    # current phase's own limit once more, up to this many times per phase (at least ten).
    max_extensions: int = 10

    def with_more_time(self, factor: float) -> LivenessConfig:
        """The same check with `factor` times the time per prompt and for the calibration (the
        "take your time" setting, docs/faceverify.md). Nothing else changes: the holds still need
        `hold_frames` consecutive frames, and the frozen-stream limit stays in seconds of an
        unchanged face, so no check is weakened — only the time to meet each prompt grows."""
        if not 1.0 <= factor <= 100.0:
            raise ValueError("factor: 1 to 100")
        return replace(
            self,
            prompt_timeout=self.prompt_timeout * factor,
            calibration_timeout=self.calibration_timeout * factor,
        )


@dataclass(frozen=True, eq=False)
class FrameMeasure:
    """Everything the challenge needs from one frame (no pixels)."""

    t: float  # seconds, server clock
    faces: int
    advice: Advice | None = None  # first quality problem, None when the frame is usable
    yaw: float = 0.0
    pitch: float = 0.0
    smile: float = 0.0
    motion: float | None = None  # aligned-face change; None when it cannot be measured
    points: Points | None = None  # the 68 landmarks (numbers only; dropped with the decision)
    surround: float | None = None  # screen.surround_follow ratio on turned frames, else None
    embedding: Embedding | None = None
    distance: float | None = None  # to the reference, when `embedding` is set
    # The embedding of this frame is being computed off the frame's answer (issue 19) and comes
    # later through `Challenge.fold`; the frame counts as one that carries an embedding.
    embedding_pending: bool = False


@dataclass(frozen=True)
class PromptEvent:
    """Show the next prompt."""

    prompt: Prompt
    index: int
    total: int


@dataclass(frozen=True)
class ProgressEvent:
    """How many consecutive frames met the current prompt (or calibration)."""

    held: int
    needed: int


@dataclass(frozen=True)
class AdviceEvent:
    """A specific hint: the frame could not count (quality) or the pose is off."""

    code: Advice


@dataclass(frozen=True)
class PlacementEvent:
    """Where the face sits against the page's guide oval, in words (faceverify.placement); sent
    by the session when it changes, so a resident who cannot see the oval hears it."""

    where: Placement


@dataclass(frozen=True)
class Decision:
    """The outcome of one attempt."""

    passed: bool
    reason: FaceCheckReason | None
    score: float | None  # median of all frontal distances; lower is more similar
    threshold: float
    prompts: tuple[Prompt, ...]
    prompts_passed: tuple[Prompt, ...]
    identity_frames: int


Event = PromptEvent | ProgressEvent | AdviceEvent | PlacementEvent | Decision


def choose_prompts(rng: random.Random | None = None) -> tuple[Prompt, ...]:
    """Every prompt once in an order the client cannot predict, and in half of the attempts one
    more 正面 where it does not follow another: neither the order nor the number of prompts can be
    prepared for (a recorded clip would have to match both). SystemRandom unless injected."""
    chooser = rng or secrets.SystemRandom()
    order = list(Prompt)
    chooser.shuffle(order)
    if chooser.random() < 0.5:
        slots = [
            i
            for i in range(len(order) + 1)
            if Prompt.FACE_FRONT not in order[max(0, i - 1) : i + 1]
        ]
        order.insert(chooser.choice(slots), Prompt.FACE_FRONT)
    return tuple(order)


def valid_prompts(prompts: tuple[Prompt, ...]) -> bool:
    """左 and 笑う once each, 正面 once or twice, never the same prompt twice in a row."""
    counts = collections.Counter(prompts)
    return (
        counts[Prompt.TURN_LEFT] == 1
        and counts[Prompt.SMILE] == 1
        and counts[Prompt.FACE_FRONT] in (1, 2)
        and all(a != b for a, b in itertools.pairwise(prompts))
    )


@dataclass
class Challenge:
    """One attempt's state machine: calibrate → each prompt in turn → decision."""

    prompts: tuple[Prompt, ...]
    config: LivenessConfig = field(default_factory=LivenessConfig)
    decision: Decision | None = None
    _started: float | None = None
    _phase_started: float = 0.0
    _index: int = -1  # -1 while calibrating
    _held: int = 0
    _calibration: list[tuple[float, float]] = field(default_factory=list)  # (yaw, pitch)
    _baseline_yaw: float | None = None
    _baseline_pitch: float | None = None
    _passed: list[Prompt] = field(default_factory=list)
    _anchor: Embedding | None = None
    _distances: list[float] = field(default_factory=list)
    _still_since: float | None = None
    # Landmarks of this attempt (numbers, dropped with the decision): recent frontal frames, the
    # most neutral frontal frame (the smile's baseline), the frames of the current / completed
    # turn hold, and the surroundings ratios of the completed turn.
    _frontal_points: list[Points] = field(default_factory=list)
    _neutral: Points | None = None
    _neutral_smile: float = math.inf
    _turn_points: list[Points] = field(default_factory=list)
    _turn_surround: list[float] = field(default_factory=list)
    _turned: list[Points] = field(default_factory=list)
    _surround: list[float] = field(default_factory=list)
    _frames_since_embedding: int = 1_000_000
    _need_fresh_embedding: bool = True
    _last_advice: Advice | None = None
    _phase_identity: int = 0  # identity frames taken in the current phase
    # The current phase's time limit (seconds from its start) and the extensions it was given.
    _phase_limit: float = 0.0
    _extensions: int = 0
    # Embeddings asked for and not yet folded in, oldest first: whether each frame was a frontal
    # identity frame. A decision that comes while any is out waits for them (`_due`): every
    # embedding asked for is checked before any verdict, as if it had come with its frame.
    _pending: collections.deque[bool] = field(default_factory=collections.deque)
    _due: bool = False
    _due_reason: FaceCheckReason | None = None  # None: judge the evidence (`_decide`)

    def __post_init__(self) -> None:
        if not valid_prompts(self.prompts):
            raise ValueError("prompts: 左 and 笑う once, 正面 once or twice, no repeats in a row")
        self._phase_limit = self.config.calibration_timeout

    @property
    def current(self) -> Prompt | None:
        if 0 <= self._index < len(self.prompts):
            return self.prompts[self._index]
        return None

    def remaining(self, now: float) -> float:
        """Seconds left in the current phase (the whole limit before the first frame)."""
        if self._started is None:
            return self._phase_limit
        return self._phase_limit - (now - self._phase_started)

    def extend(self, now: float) -> float | None:
        """More time for the current phase, asked for by the resident (WCAG 2.2.1): its own limit
        once more, at most `max_extensions` times per phase; the seconds left afterwards, or None
        when no more may be given (the limit reached, the time already up, or decided)."""
        if self.decision is not None or self._extensions >= self.config.max_extensions:
            return None
        if self.awaiting:
            return None  # ended; the verdict only waits for embeddings still out
        if self.remaining(now) <= 0:
            return None  # too late: the next frame ends the attempt as a time-out
        self._extensions += 1
        self._phase_limit += self._base_limit()
        return self.remaining(now)

    def wants_embedding(self, m: FrameMeasure) -> bool:
        """Whether this frame (measured, not yet embedded) is worth the embedding.

        The embedding is the engine's slowest step (~90 ms against ~10 ms for the rest of a
        frame), so it is computed on a few well-chosen usable frames per attempt instead of every
        third one (issue 19): the first frame of a face — and again whenever a face comes back —
        for continuity; the frame that completes a prompt's hold, so each prompt is bound to the
        face; any frame `recheck_every` frames after the last embedding, so a swap between people
        shows within that many frames whatever the pose; and frontal identity frames spread over
        the attempt: the first of each phase (calibration, each prompt, the end) so that enough
        are in hand whichever prompt comes last, and at the end as many as `min_identity_frames`
        still needs.
        """
        if self.decision is not None or m.faces != 1 or m.advice is not None:
            return False
        if abs(m.yaw) > self.config.left_min_yaw + 25:
            return False
        if self._need_fresh_embedding or self._completes_hold(m):
            return True
        if self._frames_since_embedding >= self.config.recheck_every - 1:
            return True
        if not self._is_frontal(m):
            return False
        if self._phase_identity == 0:
            return True
        return self._index >= len(self.prompts) and self._identity_frames() < (
            self.config.min_identity_frames
        )

    @property
    def awaiting(self) -> bool:
        """The attempt has ended but its verdict waits for embeddings still being computed."""
        return self.decision is None and self._due

    def fold(self, embedding: Embedding, distance: float | None) -> list[Event]:
        """The embedding of the oldest frame that asked for one (`FrameMeasure.embedding_pending`).

        The same checks as for an embedding that comes with its frame: continuity with the
        attempt's first embedding, and a frontal frame's distance counts for identity. Returns the
        Decision when the face changed, or when this was the last embedding a due decision waited
        for; otherwise nothing (the frames were already answered).
        """
        if self.decision is not None or not self._pending:
            return []
        identity = self._pending.popleft()
        if self._anchor is None:
            self._anchor = embedding
        elif float(np.linalg.norm(embedding - self._anchor)) > self.config.continuity_max:
            return [self._finish(FaceCheckReason.FACE_CHANGED)]
        if identity and distance is not None:
            self._distances.append(distance)
        if self._due and not self._pending:
            reason = self._due_reason
            return [self._decide() if reason is None else self._finish(reason)]
        return []

    def step(self, m: FrameMeasure) -> list[Event]:
        """Advance by one frame.

        The events end with exactly one ProgressEvent (the state after this frame), or with the
        Decision when the attempt ends; the page uses that last event as "frame handled". While
        a decision waits for pending embeddings (`awaiting`) the frame changes nothing and is
        answered with the progress so far: the Decision comes from `fold`, and the caller sends
        it as the answer to the next frame.
        """
        if self.decision is not None:
            return []
        if self._due:
            return [self.waiting_progress()]
        if self._started is None:
            self._started = m.t
            self._phase_started = m.t
        events: list[Event] = []

        # Frozen: the aligned face has not changed for frozen_seconds (a live face blinks, shifts
        # its gaze and turns a little; a still photo, a replayed frame or a frozen virtual camera
        # does not, whatever noise is added to the pixels).
        if m.motion is not None and m.motion < self.config.frozen_motion:
            if self._still_since is None:
                self._still_since = m.t
            elif m.t - self._still_since >= self.config.frozen_seconds:
                return self._conclude(FaceCheckReason.STATIC) or [self.waiting_progress()]
        elif m.motion is not None:
            self._still_since = None

        usable = m.faces == 1 and m.advice is None
        if usable and m.points is not None:
            self._remember_frontal(m)
        if m.faces != 1:
            self._need_fresh_embedding = True  # whoever comes back must be checked again
        if m.embedding_pending and m.embedding is None and m.faces == 1:
            # Counted now as if it were in hand, so the choice of the next frames to embed is the
            # same; checked when it is folded in, before any verdict.
            self._frames_since_embedding = 0
            self._need_fresh_embedding = False
            identity = usable and self._is_frontal(m)
            self._pending.append(identity)
            self._phase_identity += identity
        elif m.embedding is not None and m.faces == 1:
            self._frames_since_embedding = 0
            self._need_fresh_embedding = False
            if self._anchor is None:
                self._anchor = m.embedding
            elif float(np.linalg.norm(m.embedding - self._anchor)) > self.config.continuity_max:
                return [self._finish(FaceCheckReason.FACE_CHANGED)]
            if usable and m.distance is not None and self._is_frontal(m):
                self._distances.append(m.distance)
                self._phase_identity += 1
        else:
            self._frames_since_embedding += 1

        advice = (
            m.advice
            if m.faces == 1
            else (Advice.NO_FACE if m.faces == 0 else Advice.MULTIPLE_FACES)
        )
        if advice is not None and advice != self._last_advice:
            # Said once per change, not on every frame; forgotten when a frame counts again.
            events.append(AdviceEvent(advice))
            self._last_advice = advice

        if self._index < 0:
            events.extend(self._calibrate(m, usable))
        elif self._index < len(self.prompts):
            events.extend(self._hold(m, usable))
        else:
            events.extend(self._collect_identity(m))
        if self.decision is None and not self._due and self._timed_out(m.t):
            events = [e for e in events if not isinstance(e, ProgressEvent)]
            events.extend(self._conclude(FaceCheckReason.TIMEOUT))
        if self._due:  # the Decision comes once the embeddings are in
            events = [e for e in events if not isinstance(e, ProgressEvent)]
            events.append(self.waiting_progress())
        return events

    def discard(self) -> None:
        """Forget embeddings, distances and landmarks (kept no longer than the attempt)."""
        self._anchor = None
        self._distances.clear()
        self._calibration.clear()
        self._frontal_points.clear()
        self._neutral = None
        self._turn_points.clear()
        self._turn_surround.clear()
        self._turned.clear()
        self._surround.clear()
        self._pending.clear()

    # -- phases -----------------------------------------------------------------------------

    def _calibrate(self, m: FrameMeasure, usable: bool) -> list[Event]:
        if usable and self._is_frontal_yaw(m.yaw) and not math.isnan(m.pitch):
            self._calibration.append((m.yaw, m.pitch))
            self._last_advice = None
        else:
            self._calibration.clear()
        needed = self.config.calibration_frames
        if usable and not self._calibration:
            return [*self._advise(Advice.FACE_FRONT), ProgressEvent(held=0, needed=needed)]
        if len(self._calibration) < needed:
            return [ProgressEvent(held=len(self._calibration), needed=needed)]
        # The session's first frontal frames fix where "straight ahead" is (docs/faceverify.md).
        self._baseline_yaw = statistics.median(yaw for yaw, _ in self._calibration)
        self._baseline_pitch = statistics.median(pitch for _, pitch in self._calibration)
        return self._next_prompt(m.t)

    def _hold(self, m: FrameMeasure, usable: bool) -> list[Event]:
        prompt = self.prompts[self._index]
        if usable and self._meets(prompt, m):
            self._held += 1
            self._last_advice = None
            if prompt is Prompt.TURN_LEFT and m.points is not None:
                self._turn_points.append(m.points)
                if m.surround is not None:
                    self._turn_surround.append(m.surround)
        else:
            self._held = 0
            self._turn_points.clear()
            self._turn_surround.clear()
        needed = self.config.hold_frames
        # The frame that completes a hold must carry an embedding (continuity per prompt).
        if self._held >= needed and m.embedding is None and not m.embedding_pending:
            self._held = needed - 1
        if self._held >= needed:
            self._passed.append(prompt)
            if prompt is Prompt.TURN_LEFT:
                # The evidence of the hold that counted; judged with the decision.
                self._turned = list(self._turn_points)
                self._surround = list(self._turn_surround)
            return self._next_prompt(m.t)
        return [ProgressEvent(held=self._held, needed=needed)]

    def _collect_identity(self, m: FrameMeasure) -> list[Event]:
        needed = self.config.min_identity_frames
        have = self._identity_frames()
        if have >= needed:
            return self._conclude(None)
        return [ProgressEvent(held=have, needed=needed)]

    def _next_prompt(self, now: float) -> list[Event]:
        self._index += 1
        self._held = 0
        self._phase_identity = 0
        self._phase_started = now
        self._phase_limit = self._base_limit()
        self._extensions = 0
        if self._index < len(self.prompts):
            prompt = self.prompts[self._index]
            return [
                PromptEvent(prompt=prompt, index=self._index, total=len(self.prompts)),
                ProgressEvent(held=0, needed=self.config.hold_frames),
            ]
        have, needed = self._identity_frames(), self.config.min_identity_frames
        if have >= needed:
            return self._conclude(None)
        return [*self._advise(Advice.FACE_FRONT), ProgressEvent(held=have, needed=needed)]

    def _conclude(self, reason: FaceCheckReason | None) -> list[Event]:
        """End the attempt: judge the evidence (reason None) or fail for `reason` — at once, or
        as soon as the embeddings still being computed are in (one of them may change the outcome
        to FACE_CHANGED, as it would have had it come with its frame)."""
        if self._pending:
            self._due, self._due_reason = True, reason
            return []
        return [self._decide() if reason is None else self._finish(reason)]

    def waiting_progress(self) -> ProgressEvent:
        """The answer to a frame while the verdict waits for embeddings: where the attempt
        stands (the frame itself changes nothing)."""
        if self._index < 0:
            return ProgressEvent(held=len(self._calibration), needed=self.config.calibration_frames)
        if self._index < len(self.prompts):
            return ProgressEvent(held=self._held, needed=self.config.hold_frames)
        needed = self.config.min_identity_frames
        return ProgressEvent(held=min(needed, self._identity_frames()), needed=needed)

    def _identity_frames(self) -> int:
        """Frontal distances in hand plus those on their way."""
        return len(self._distances) + sum(self._pending)

    def _decide(self) -> Decision:
        if not self._distances:  # only an attempt without a reference gets here with none
            return self._finish(FaceCheckReason.TOO_FEW_FRAMES)
        score = float(statistics.median(self._distances))
        if not self._looks_live():
            return self._finish(FaceCheckReason.NOT_LIVE, score=score)
        if score <= self.config.threshold:
            return self._finish(None, score=score)
        return self._finish(FaceCheckReason.NO_MATCH, score=score)

    def _finish(self, reason: FaceCheckReason | None, *, score: float | None = None) -> Decision:
        if score is None and self._distances:
            score = float(statistics.median(self._distances))
        if reason is FaceCheckReason.TIMEOUT and self._index >= len(self.prompts):
            reason = FaceCheckReason.TOO_FEW_FRAMES
        self.decision = Decision(
            passed=reason is None,
            reason=reason,
            score=score,
            threshold=self.config.threshold,
            prompts=self.prompts,
            prompts_passed=tuple(self._passed),
            identity_frames=len(self._distances),
        )
        self._due = False
        logger.info("face challenge decided passed=%s reason=%s", reason is None, reason)
        self.discard()
        return self.decision

    def _remember_frontal(self, m: FrameMeasure) -> None:
        """Keep the recent frontal landmarks (the turn's "before") and the most neutral face.

        By yaw alone, not the calibrated pitch: the landmarks are compared through homographies,
        which absorb a nod, and a resident who calibrated looking a little up or down must still
        leave neutral frames to smile from.
        """
        if m.points is None:
            return
        if self._is_frontal_yaw(m.yaw):
            self._frontal_points.append(m.points)
            del self._frontal_points[: -self.config.frontal_landmark_frames]
        # The least smiling face so far at a yaw where 笑う counts is the baseline, whenever it
        # came: a resident who smiled while calibrating relaxes later, and a smile never lowers it.
        if abs(m.yaw) <= self.config.smile_max_yaw and m.smile < self._neutral_smile:
            self._neutral, self._neutral_smile = m.points, m.smile

    def _looks_live(self) -> bool:
        """The completed turn was three-dimensional and its surroundings did not follow it."""
        frontal = self._frontal_points
        if not frontal or not self._turned:
            logger.info("presentation check: no landmarks of the turn")
            return False
        parallax = median_turn_parallax(frontal, self._turned)
        if not math.isfinite(parallax) or parallax < self.config.min_parallax:
            logger.info("presentation check: the turn is explained by a plane")
            return False
        if self._surround and statistics.median(self._surround) < self.config.min_surround_ratio:
            logger.info("presentation check: the surroundings moved with the face")
            return False
        return True

    # -- predicates -------------------------------------------------------------------------

    def _timed_out(self, now: float) -> bool:
        return now - self._phase_started > self._phase_limit

    def _base_limit(self) -> float:
        return self.config.calibration_timeout if self._index < 0 else self.config.prompt_timeout

    def _advise(self, code: Advice) -> list[Event]:
        if code == self._last_advice:
            return []
        self._last_advice = code
        return [AdviceEvent(code)]

    def _relative_yaw(self, m: FrameMeasure) -> float:
        base = self._baseline_yaw if self._baseline_yaw is not None else 0.0
        return m.yaw - base

    def _relative_pitch(self, m: FrameMeasure) -> float:
        base = self._baseline_pitch if self._baseline_pitch is not None else m.pitch
        return m.pitch - base

    def _completes_hold(self, m: FrameMeasure) -> bool:
        return (
            0 <= self._index < len(self.prompts)
            and self._held == self.config.hold_frames - 1
            and self._meets(self.prompts[self._index], m)
        )

    def _is_frontal_yaw(self, yaw: float) -> bool:
        return abs(yaw) <= self.config.frontal_max_yaw

    def _is_frontal(self, m: FrameMeasure) -> bool:
        return (
            self._is_frontal_yaw(m.yaw)
            and abs(self._relative_pitch(m)) <= self.config.frontal_max_pitch
        )

    def _meets(self, prompt: Prompt, m: FrameMeasure) -> bool:
        if prompt is Prompt.FACE_FRONT:
            # Back to the calibrated "straight ahead", and facing the camera.
            return self._is_frontal(m) and abs(self._relative_yaw(m)) <= self.config.frontal_max_yaw
        if prompt is Prompt.TURN_LEFT:
            # yaw > 0 is the resident's own left in an unmirrored frame (geometry.py).
            return (
                m.yaw >= self.config.left_min_yaw
                and self._relative_yaw(m) >= self.config.left_min_turn
                and abs(self._relative_pitch(m)) <= self.config.turn_max_pitch
            )
        return (
            m.smile >= self.config.smile_min
            and abs(m.yaw) <= self.config.smile_max_yaw
            and self._smile_change(m) >= self.config.smile_min_change
        )

    def _smile_change(self, m: FrameMeasure) -> float:
        # Relative to this person's own most neutral frontal frame of this attempt: a photo that
        # already smiles (or any photo, tilted or moved) changes by ≈ 0.
        if m.points is None or self._neutral is None:
            return -math.inf
        change = expression_change(self._neutral, m.points)
        return change if math.isfinite(change) else -math.inf
