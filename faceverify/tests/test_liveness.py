"""The challenge state machine, driven by scripted per-frame measurements (no video).

Landmarks come from faceverify.tests.landmarks: one real frontal detection, turned in 3-D (or
flat, like a photo) and smiling on demand.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import replace

import numpy as np
import pytest

from faceverify.liveness import (
    AdviceEvent,
    Challenge,
    Decision,
    Event,
    FaceCheckReason,
    FrameMeasure,
    LivenessConfig,
    ProgressEvent,
    Prompt,
    PromptEvent,
    choose_prompts,
    valid_prompts,
)
from faceverify.quality import Advice
from faceverify.tests.landmarks import face_points

CONFIG = LivenessConfig()
FPS = 10.0


def _identity(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=128)
    return np.asarray(vector / np.linalg.norm(vector) * 0.8, dtype=np.float64)


HOLDER = _identity(1)
OTHER = _identity(2)  # ‖HOLDER − OTHER‖ ≈ 1.1, far beyond continuity_max


def _embedding_near(base: np.ndarray, seed: int, spread: float = 0.05) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(size=128)
    return np.asarray(base + noise / np.linalg.norm(noise) * spread, dtype=np.float64)


class Script:
    """Feeds frames whose pose answers whatever the challenge currently asks."""

    def __init__(
        self,
        challenge: Challenge,
        *,
        distance: float = 0.4,
        face: np.ndarray = HOLDER,
        flat: bool = False,
        surround: float | None = None,
    ):
        self.challenge = challenge
        self.distance = distance
        self.face = face
        self.flat = flat  # landmarks of a photo: turning it shows no parallax
        self.surround = surround  # screen.surround_follow on turned frames
        self.t = 0.0
        self.frame = 0
        self.events: list[Event] = []

    def pose_for(self, prompt: Prompt | None) -> dict[str, float]:
        if prompt is Prompt.TURN_LEFT:
            return {"yaw": 32.0, "pitch": -4.0, "smile": 0.72}
        if prompt is Prompt.SMILE:
            return {"yaw": 3.0, "pitch": -5.0, "smile": 0.97}
        return {"yaw": 2.0, "pitch": -5.0, "smile": 0.74}

    def frame_measure(self, **override: object) -> FrameMeasure:
        """This frame's measurements, with an embedding when the challenge asks for one (as
        faceverify.session does); `override` wins over both."""
        pose = self.pose_for(self.challenge.current)
        values: dict[str, object] = {
            "t": self.t,
            "faces": 1,
            "motion": 1.5 if self.frame else None,
            **pose,
        }
        values.update({k: v for k, v in override.items() if k not in ("embedding", "distance")})
        if "points" not in override:
            values["points"] = face_points(
                float(values["yaw"]),  # type: ignore[arg-type]
                smile=float(values["smile"]) >= CONFIG.smile_min,  # type: ignore[arg-type]
                flat=self.flat,
            )
        if "surround" not in override and float(values["yaw"]) >= CONFIG.left_min_yaw:  # type: ignore[arg-type]
            values["surround"] = self.surround
        measure = FrameMeasure(**values)  # type: ignore[arg-type]
        if self.challenge.wants_embedding(measure):
            embedding = _embedding_near(self.face, self.frame)
            measure = replace(measure, embedding=embedding, distance=self.distance)
        extra = {k: v for k, v in override.items() if k in ("embedding", "distance")}
        return replace(measure, **extra)  # type: ignore[arg-type]

    def feed(self, measure: FrameMeasure | None = None) -> list[Event]:
        events = self.challenge.step(measure or self.frame_measure())
        self.events.extend(events)
        self.t += 1.0 / FPS
        self.frame += 1
        return events

    def run(self, limit: int = 200) -> Decision:
        for _ in range(limit):
            self.feed()
            if self.challenge.decision is not None:
                return self.challenge.decision
        raise AssertionError("no decision")


class FixedOrder(random.Random):
    def __init__(self, order: tuple[Prompt, ...]) -> None:
        super().__init__(0)
        self.order = order

    def shuffle(self, x: list[Prompt]) -> None:  # type: ignore[override]
        x[:] = list(self.order)

    def random(self) -> float:
        return 0.99  # no extra 正面


@pytest.mark.parametrize("order", list(itertools.permutations(Prompt)))
def test_it_passes_in_every_order(order: tuple[Prompt, ...]) -> None:
    challenge = Challenge(prompts=choose_prompts(FixedOrder(order)))
    script = Script(challenge)
    decision = script.run()
    assert decision.passed, decision
    assert decision.reason is None
    assert decision.prompts_passed == order
    shown = [e.prompt for e in script.events if isinstance(e, PromptEvent)]
    assert shown == list(order)
    assert decision.score == pytest.approx(0.4)
    assert decision.threshold == CONFIG.threshold


def test_prompts_are_a_permutation_and_the_order_varies() -> None:
    rng = random.Random(7)
    orders = {choose_prompts(rng) for _ in range(200)}
    assert all(valid_prompts(o) and set(o) == set(Prompt) for o in orders)
    assert {len(o) for o in orders} == {3, 4}  # the number of prompts varies too
    assert len([o for o in orders if len(o) == 3]) == 6  # every order turns up
    assert set(choose_prompts()) == set(Prompt)  # SystemRandom by default


def test_a_static_photo_replay_fails() -> None:
    challenge = Challenge(prompts=tuple(Prompt))
    script = Script(challenge)
    frozen = script.frame_measure(motion=0.2, embedding=None, distance=None)
    for _ in range(int(CONFIG.frozen_seconds * FPS) + 2):
        frozen = script.frame_measure(motion=0.2, embedding=None, distance=None)
        script.feed(frozen)
    decision = challenge.decision
    assert decision is not None and not decision.passed
    assert decision.reason is FaceCheckReason.STATIC


def test_natural_motion_resets_the_frozen_count() -> None:
    challenge = Challenge(prompts=tuple(Prompt))
    script = Script(challenge)
    every = int(CONFIG.frozen_seconds * FPS) // 2
    for i in range(6 * every):
        moving = i % every == 0
        script.feed(script.frame_measure(motion=1.2 if moving else 0.1))
    assert challenge.decision is None or challenge.decision.reason is not FaceCheckReason.STATIC


def test_a_face_swap_mid_session_fails() -> None:
    challenge = Challenge(prompts=(Prompt.FACE_FRONT, Prompt.TURN_LEFT, Prompt.SMILE))
    script = Script(challenge)
    while challenge.current is not Prompt.TURN_LEFT:
        script.feed()
    script.face = OTHER  # someone else does the turn
    decision = script.run()
    assert not decision.passed
    assert decision.reason is FaceCheckReason.FACE_CHANGED
    assert Prompt.TURN_LEFT not in decision.prompts_passed


def test_a_face_that_leaves_and_returns_is_checked_again() -> None:
    challenge = Challenge(prompts=tuple(Prompt))
    script = Script(challenge)
    turned = FrameMeasure(t=script.t, faces=1, yaw=40.0)
    while challenge.wants_embedding(turned):
        script.feed()
    script.feed(FrameMeasure(t=script.t, faces=0))
    assert challenge.wants_embedding(turned)


def test_it_times_out_when_a_prompt_is_never_met() -> None:
    challenge = Challenge(prompts=(Prompt.TURN_LEFT, Prompt.FACE_FRONT, Prompt.SMILE))
    script = Script(challenge)
    script.pose_for = lambda prompt: {"yaw": 2.0, "pitch": -5.0, "smile": 0.74}  # type: ignore[method-assign]
    decision = script.run(limit=int(CONFIG.prompt_timeout * FPS) + 20)
    assert not decision.passed
    assert decision.reason is FaceCheckReason.TIMEOUT
    assert decision.prompts_passed == ()


def test_it_times_out_without_a_face() -> None:
    challenge = Challenge(prompts=tuple(Prompt))
    t = 0.0
    while challenge.decision is None and t < CONFIG.calibration_timeout + 5:
        challenge.step(FrameMeasure(t=t, faces=0))
        t += 0.1
    assert challenge.decision is not None
    assert challenge.decision.reason is FaceCheckReason.TIMEOUT


def test_turning_right_does_not_count_as_left() -> None:
    challenge = Challenge(prompts=(Prompt.TURN_LEFT, Prompt.FACE_FRONT, Prompt.SMILE))
    script = Script(challenge)
    script.pose_for = lambda prompt: {"yaw": -32.0 if prompt else 2.0, "pitch": -5.0, "smile": 0.7}  # type: ignore[method-assign]
    decision = script.run(limit=int(CONFIG.prompt_timeout * FPS) + 20)
    assert decision.reason is FaceCheckReason.TIMEOUT


def test_a_hold_must_be_consecutive() -> None:
    challenge = Challenge(prompts=(Prompt.SMILE, Prompt.FACE_FRONT, Prompt.TURN_LEFT))
    script = Script(challenge)
    while challenge.current is not Prompt.SMILE:
        script.feed()
    for _ in range(6):  # smile, neutral, smile, neutral...: never three in a row
        script.feed()
        script.feed(script.frame_measure(smile=0.7))
    assert challenge.current is Prompt.SMILE
    assert challenge.decision is None


def test_a_different_person_does_not_match() -> None:
    decision = Script(Challenge(prompts=tuple(Prompt)), distance=0.78).run()
    assert not decision.passed
    assert decision.reason is FaceCheckReason.NO_MATCH
    assert decision.score == pytest.approx(0.78)
    assert decision.prompts_passed == tuple(Prompt)


def test_one_lucky_frame_does_not_decide() -> None:
    challenge = Challenge(prompts=tuple(Prompt))
    script = Script(challenge, distance=0.75)
    script.feed(script.frame_measure(embedding=_embedding_near(HOLDER, 99), distance=0.1))
    decision = script.run()
    assert decision.reason is FaceCheckReason.NO_MATCH
    assert decision.score is not None and decision.score > CONFIG.threshold


def test_poor_frames_give_advice_and_do_not_count() -> None:
    challenge = Challenge(prompts=tuple(Prompt))
    script = Script(challenge)
    events = script.feed(script.frame_measure(advice=Advice.TOO_DARK, embedding=None))
    assert AdviceEvent(Advice.TOO_DARK) in events
    events = script.feed(FrameMeasure(t=script.t, faces=2))
    assert AdviceEvent(Advice.MULTIPLE_FACES) in events
    assert challenge.current is None  # still calibrating


def test_biometric_data_is_dropped_with_the_decision() -> None:
    challenge = Challenge(prompts=tuple(Prompt))
    Script(challenge).run()
    assert challenge._anchor is None
    assert challenge._distances == []


def test_prompts_must_be_each_prompt_once() -> None:
    with pytest.raises(ValueError):
        Challenge(prompts=(Prompt.SMILE, Prompt.SMILE, Prompt.TURN_LEFT))
    with pytest.raises(ValueError):  # 正面 twice, but in a row
        Challenge(prompts=(Prompt.FACE_FRONT, Prompt.FACE_FRONT, Prompt.SMILE, Prompt.TURN_LEFT))


def test_an_extra_front_prompt_is_answered_like_the_first() -> None:
    order = (Prompt.FACE_FRONT, Prompt.TURN_LEFT, Prompt.FACE_FRONT, Prompt.SMILE)
    challenge = Challenge(prompts=order)
    script = Script(challenge)
    decision = script.run()
    assert decision.passed, decision
    assert [e.prompt for e in script.events if isinstance(e, PromptEvent)] == list(order)
    assert {e.total for e in script.events if isinstance(e, PromptEvent)} == {4}


@pytest.mark.parametrize("order", [tuple(Prompt), tuple(reversed(Prompt))])
def test_every_frame_ends_with_progress_or_the_decision(order: tuple[Prompt, ...]) -> None:
    challenge = Challenge(prompts=order)
    script = Script(challenge)
    script.feed(FrameMeasure(t=script.t, faces=0))
    script.feed(script.frame_measure(yaw=40.0))  # not frontal while calibrating
    while challenge.decision is None:
        events = script.feed()
        assert events, "a frame went unanswered"
        assert isinstance(events[-1], ProgressEvent | Decision)
        assert sum(isinstance(e, ProgressEvent | Decision) for e in events) == 1


def test_advice_is_given_once_per_change_not_every_frame() -> None:
    challenge = Challenge(prompts=tuple(Prompt))
    script = Script(challenge)
    advice = []
    for _ in range(4):
        advice += [
            e for e in script.feed(script.frame_measure(yaw=40.0)) if isinstance(e, AdviceEvent)
        ]
    assert advice == [AdviceEvent(Advice.FACE_FRONT)]
    script.feed()  # a frontal frame counts; the next problem is announced again
    events = script.feed(script.frame_measure(advice=Advice.TOO_DARK, embedding=None))
    assert AdviceEvent(Advice.TOO_DARK) in events


def test_a_few_lucky_frames_among_many_do_not_decide() -> None:
    # An impostor at ~0.68 who lingers facing the camera before turning, with one favourable
    # frame in three: the best few frames are under the threshold, the median of all is not.
    challenge = Challenge(prompts=(Prompt.TURN_LEFT, Prompt.FACE_FRONT, Prompt.SMILE))
    script = Script(challenge, distance=0.68)
    lingering = 0
    lucky = 0
    while challenge.decision is None and script.frame < 300:
        if challenge.current is Prompt.TURN_LEFT and lingering < 40:
            lingering += 1
            measure = script.frame_measure(yaw=2.0, smile=0.74)
        else:
            measure = script.frame_measure()
        if measure.embedding is not None and abs(measure.yaw) <= CONFIG.frontal_max_yaw:
            if lucky < 4 and script.frame % 3 == 0:
                measure = script.frame_measure(yaw=measure.yaw, smile=measure.smile, distance=0.30)
                lucky += 1
        script.feed(measure)
    decision = challenge.decision
    assert decision is not None and lucky >= 3 and decision.identity_frames >= 9, decision
    assert decision.reason is FaceCheckReason.NO_MATCH
    assert decision.score == pytest.approx(0.68)


def _turn_from(baseline_yaw: float, turned_yaw: float) -> Decision:
    challenge = Challenge(prompts=(Prompt.TURN_LEFT, Prompt.FACE_FRONT, Prompt.SMILE))
    script = Script(challenge)
    poses = {
        None: {"yaw": baseline_yaw, "pitch": -5.0, "smile": 0.74},
        Prompt.TURN_LEFT: {"yaw": turned_yaw, "pitch": -5.0, "smile": 0.72},
        Prompt.FACE_FRONT: {"yaw": baseline_yaw, "pitch": -5.0, "smile": 0.74},
        Prompt.SMILE: {"yaw": baseline_yaw, "pitch": -5.0, "smile": 0.97},
    }
    script.pose_for = poses.__getitem__  # type: ignore[assignment]
    return script.run(limit=int(CONFIG.prompt_timeout * FPS) + 60)


def test_left_is_measured_from_the_first_frontal_frames() -> None:
    # Calibrated at +18° (still "frontal"), a head at 28° has turned only 10°: not a left turn,
    # although 28° alone would be.
    slight = _turn_from(18.0, 28.0)
    assert slight.reason is FaceCheckReason.TIMEOUT and slight.prompts_passed == ()
    # Calibrated at −5°, a turn to 27° is.
    real = _turn_from(-5.0, 27.0)
    assert real.passed, real
    # Calibrated at −15°, a 27° turn that ends at +12° is not clearly left of the camera.
    short = _turn_from(-15.0, 12.0)
    assert short.reason is FaceCheckReason.TIMEOUT


def test_embeddings_are_computed_on_a_few_frames_spread_over_the_attempt() -> None:
    # A resident who takes 1.5 s to react to each prompt (the previous pose meanwhile): a long
    # attempt, as a real one is. Embeddings go to the anchor, each prompt's completing frame and
    # a few frontal identity frames in every phase — not to every third frame (issue 19).
    challenge = Challenge(prompts=(Prompt.FACE_FRONT, Prompt.TURN_LEFT, Prompt.SMILE))
    script = Script(challenge)
    poses = script.pose_for
    shown: list[Prompt | None] = [None]
    since = [0]

    def slow_resident(prompt: Prompt | None) -> dict[str, float]:
        if prompt is not shown[-1]:
            shown.append(prompt)
            since[0] = 0
        since[0] += 1
        return poses(shown[-2] if since[0] <= 15 and len(shown) > 1 else prompt)

    script.pose_for = slow_resident  # type: ignore[method-assign]
    embedded = 0
    while challenge.decision is None and script.frame < 300:
        measure = script.frame_measure()
        embedded += measure.embedding is not None
        script.feed(measure)
    decision = challenge.decision
    assert decision is not None and decision.passed, decision
    assert script.frame >= 40
    # Every third frame (the previous rule) would be at least 13 of these 41 frames.
    assert embedded <= script.frame // 4, (embedded, script.frame)
    assert decision.identity_frames >= CONFIG.min_identity_frames


class LateScript(Script):
    """The same frames, each embedding folded in `lag` frames after its frame was answered — and
    all of them before a verdict — as the face workers do (faceverify/worker_process.py)."""

    def __init__(self, challenge: Challenge, *, lag: int, **kwargs: object) -> None:
        super().__init__(challenge, **kwargs)  # type: ignore[arg-type]
        self.lag = lag
        self.waiting: list[tuple[int, np.ndarray, float | None]] = []
        self.awaited = 0  # frames whose answer had to wait for embeddings

    def feed(self, measure: FrameMeasure | None = None) -> list[Event]:
        measure = measure or self.frame_measure()
        if measure.embedding is not None:
            self.waiting.append((self.frame, measure.embedding, measure.distance))
            measure = replace(measure, embedding=None, distance=None, embedding_pending=True)
        events = super().feed(measure)
        if self.challenge.awaiting:
            # Answered at once with the progress so far; the verdict comes with the embeddings.
            self.awaited += 1
            assert isinstance(events[-1], ProgressEvent), events
            assert not any(isinstance(e, Decision) for e in events), events
        while self.waiting and (
            self.waiting[0][0] <= self.frame - 1 - self.lag or self.challenge.awaiting
        ):
            _, embedding, distance = self.waiting.pop(0)
            folded = self.challenge.fold(embedding, distance)
            self.events.extend(folded)
            events += folded
        return events


@pytest.mark.parametrize("lag", [0, 3])
def test_late_embeddings_decide_as_if_they_came_with_their_frames(lag: int) -> None:
    order = (Prompt.SMILE, Prompt.FACE_FRONT, Prompt.TURN_LEFT)
    inline = Script(Challenge(prompts=order)).run()
    late = LateScript(Challenge(prompts=order), lag=lag)
    decision = late.run()
    assert decision == inline
    assert late.awaited == 1  # the verdict waited for the last frame's embedding(s)
    assert not late.waiting


def test_a_late_embedding_of_another_face_still_ends_the_attempt() -> None:
    # The swap comes during the last prompt: its embeddings are still out when the last hold
    # completes, and the verdict waits for them instead of passing.
    challenge = Challenge(prompts=(Prompt.FACE_FRONT, Prompt.SMILE, Prompt.TURN_LEFT))
    late = LateScript(challenge, lag=5)
    while challenge.current is not Prompt.TURN_LEFT:
        late.feed()
    late.face = OTHER
    decision = late.run()
    assert not decision.passed
    assert decision.reason is FaceCheckReason.FACE_CHANGED
    assert late.awaited == 1


def test_a_frozen_stream_waits_for_its_late_embeddings_then_fails_as_static() -> None:
    # A frozen frontal face that never turns: each frame embedded as the challenge asks, none of
    # them folded until a verdict waits for them.
    challenge = Challenge(prompts=(Prompt.TURN_LEFT, Prompt.FACE_FRONT, Prompt.SMILE))
    late = LateScript(challenge, lag=1000)
    for _ in range(int(CONFIG.frozen_seconds * FPS) + 2):
        late.feed(late.frame_measure(motion=0.2, yaw=2.0, smile=0.74))
        if challenge.decision is not None:
            break
    assert late.awaited == 1
    assert challenge.decision is not None and challenge.decision.reason is FaceCheckReason.STATIC


# -- presentation attacks -------------------------------------------------------------------------


@pytest.mark.parametrize("order", list(itertools.permutations(Prompt)))
def test_a_flat_turn_fails_only_at_the_end(order: tuple[Prompt, ...]) -> None:
    # A photo turned in front of the camera: every pose is met (so the attacker is shown the
    # same progress as a resident), and the attempt fails with the decision, not at the turn.
    challenge = Challenge(prompts=order)
    script = Script(challenge, flat=True)
    decision = script.run()
    assert decision.reason is FaceCheckReason.NOT_LIVE and not decision.passed
    assert [e.prompt for e in script.events if isinstance(e, PromptEvent)] == list(order)
    assert challenge._turned == [] and challenge._frontal_points == []  # dropped


def test_a_real_turn_passes_the_same_attempt() -> None:
    challenge = Challenge(prompts=tuple(Prompt))
    decision = Script(challenge).run()
    assert decision.passed, decision


def test_a_turn_without_landmarks_is_not_taken_on_trust() -> None:
    challenge = Challenge(prompts=(Prompt.TURN_LEFT, Prompt.FACE_FRONT, Prompt.SMILE))
    script = Script(challenge)
    while challenge.decision is None:
        measure = script.frame_measure()
        if challenge.current is Prompt.TURN_LEFT:
            measure = script.frame_measure(points=None)
        script.feed(measure)
    assert challenge.decision.reason is FaceCheckReason.NOT_LIVE


def test_surroundings_that_move_with_the_face_fail() -> None:
    # The second signal alone: a 3-D turn whose surroundings followed the face's homography.
    decision = Script(Challenge(prompts=tuple(Prompt)), surround=0.3).run()
    assert decision.reason is FaceCheckReason.NOT_LIVE
    fine = Script(Challenge(prompts=tuple(Prompt)), surround=1.0).run()
    assert fine.passed, fine


def _smiling_throughout(prompt: Prompt | None) -> dict[str, float]:
    if prompt is Prompt.TURN_LEFT:
        return {"yaw": 32.0, "pitch": -4.0, "smile": 0.97}
    return {"yaw": 2.0, "pitch": -5.0, "smile": 0.97}


def test_a_face_that_smiles_throughout_never_meets_the_smile_prompt() -> None:
    # The chip photo that already smiles: the absolute mouth shape is a smile, the change from
    # this attempt's own neutral frames is none.
    challenge = Challenge(prompts=(Prompt.SMILE, Prompt.FACE_FRONT, Prompt.TURN_LEFT))
    script = Script(challenge)
    script.pose_for = _smiling_throughout  # type: ignore[method-assign]
    decision = script.run(limit=int(CONFIG.prompt_timeout * FPS) + 40)
    assert decision.reason is FaceCheckReason.TIMEOUT
    assert all(e.held == 0 for e in script.events[3:] if isinstance(e, ProgressEvent))


def test_a_resident_who_smiled_while_calibrating_passes_after_relaxing() -> None:
    challenge = Challenge(prompts=(Prompt.SMILE, Prompt.FACE_FRONT, Prompt.TURN_LEFT))
    script = Script(challenge)
    smiling = {"yaw": 2.0, "pitch": -5.0, "smile": 0.97}
    neutral = {"yaw": 2.0, "pitch": -5.0, "smile": 0.74}
    for _ in range(6):  # calibration and the first smile frames: smiling all along
        script.feed(script.frame_measure(**smiling))
    assert challenge.current is Prompt.SMILE
    for _ in range(3):  # relaxes: the neutral baseline of this attempt
        script.feed(script.frame_measure(**neutral))
    decision = script.run()
    assert decision.passed, decision


def test_a_tilted_photo_does_not_fake_a_smile() -> None:
    # The smile change is measured with the planar motion removed: a neutral photo shifted,
    # zoomed or tilted maps back onto itself.
    challenge = Challenge(prompts=(Prompt.SMILE, Prompt.FACE_FRONT, Prompt.TURN_LEFT))
    script = Script(challenge)
    for _ in range(4):
        script.feed()
    assert challenge.current is Prompt.SMILE
    for i in range(10):
        points = face_points(8.0 + i, flat=True, shift=(250.0 + i, 150.0), size=66.0)
        script.feed(script.frame_measure(yaw=3.0, smile=0.97, points=points))
    assert challenge.current is Prompt.SMILE


def test_the_frozen_limit_is_in_seconds_of_unchanged_face() -> None:
    challenge = Challenge(prompts=tuple(Prompt))
    script = Script(challenge)
    still = int(CONFIG.frozen_seconds * FPS) - 2
    for _ in range(still):  # just under the limit: nothing happens
        script.feed(script.frame_measure(motion=0.5))
    assert challenge.decision is None or challenge.decision.reason is not FaceCheckReason.STATIC


def test_neutral_frames_count_whatever_the_calibrated_pitch() -> None:
    # The e2e camera: calibrated on a smiling frame, the neutral photo looks 20° further up
    # (obama3). Its frames are not "frontal" for identity, but they are the smile's baseline.
    challenge = Challenge(prompts=(Prompt.SMILE, Prompt.FACE_FRONT, Prompt.TURN_LEFT))
    script = Script(challenge)
    for _ in range(4):
        script.feed(script.frame_measure(yaw=2.0, pitch=-5.0, smile=0.97))
    assert challenge.current is Prompt.SMILE
    for _ in range(3):
        script.feed(script.frame_measure(yaw=14.0, pitch=15.0, smile=0.64))
    decision = script.run()
    assert decision.passed, decision


# -- time limits the resident can adjust (issue 18, WCAG 2.2.1) ---------------------------------


def _at_first_prompt(config: LivenessConfig) -> Script:
    """A challenge whose first prompt (左) has just been shown, then never met."""
    prompts = (Prompt.TURN_LEFT, Prompt.FACE_FRONT, Prompt.SMILE)
    challenge = Challenge(prompts=prompts, config=config)
    script = Script(challenge)
    while challenge.current is None:
        script.feed()
    script.pose_for = lambda prompt: {"yaw": 2.0, "pitch": -5.0, "smile": 0.74}  # type: ignore[method-assign]
    return script


def _seconds_until_timeout(script: Script, step: float = 0.5, limit: float = 2000.0) -> float:
    """Frames every `step` seconds of a face that never meets the prompt, until the time-out."""
    started = script.t
    while script.challenge.decision is None and script.t - started < limit:
        script.t += step - 1.0 / FPS
        script.feed()
    decision = script.challenge.decision
    assert decision is not None and decision.reason is FaceCheckReason.TIMEOUT, decision
    return script.t - started


def test_the_slow_pace_gives_more_time_for_the_same_check() -> None:
    assert _seconds_until_timeout(_at_first_prompt(CONFIG)) == pytest.approx(12.5, abs=0.6)
    slow = CONFIG.with_more_time(10.0)  # "Adjust": at least ten times the default
    assert _seconds_until_timeout(_at_first_prompt(slow)) == pytest.approx(120.5, abs=0.6)
    # Only the time: every hold, gate and presentation check is the default's.
    assert replace(slow, prompt_timeout=CONFIG.prompt_timeout) == replace(
        CONFIG, calibration_timeout=slow.calibration_timeout
    )
    assert slow.calibration_timeout == 10 * CONFIG.calibration_timeout
    passing = Script(Challenge(prompts=tuple(Prompt), config=slow))
    assert passing.run().passed
    needed = {e.needed for e in passing.events if isinstance(e, ProgressEvent)}
    assert needed == {CONFIG.calibration_frames, CONFIG.hold_frames, CONFIG.min_identity_frames}
    with pytest.raises(ValueError):
        CONFIG.with_more_time(0.5)  # never less time than the default


def test_more_time_is_given_at_most_max_extensions_times_per_prompt() -> None:
    script = _at_first_prompt(CONFIG)
    challenge = script.challenge
    assert challenge.remaining(script.t) == pytest.approx(CONFIG.prompt_timeout, abs=0.2)
    granted = [challenge.extend(script.t) for _ in range(CONFIG.max_extensions + 1)]
    assert granted[-1] is None  # the server's upper bound
    assert granted[:-1] == pytest.approx(
        [CONFIG.prompt_timeout * (n + 2) for n in range(CONFIG.max_extensions)], abs=0.2
    )
    # The time-out follows the extended limit: (1 + 10) × 12 s, not 12 s.
    limit = CONFIG.prompt_timeout * (CONFIG.max_extensions + 1)
    assert _seconds_until_timeout(script) == pytest.approx(limit + 0.5, abs=0.6)


def test_the_next_prompt_starts_with_its_own_time_and_no_late_extension() -> None:
    challenge = Challenge(prompts=(Prompt.FACE_FRONT, Prompt.SMILE, Prompt.TURN_LEFT))
    script = Script(challenge)
    while challenge.current is None:
        script.feed()
    assert challenge.extend(script.t) is not None  # 正面 got 24 s ...
    while challenge.current is Prompt.FACE_FRONT:
        script.feed()
    # ... 笑う starts again from 12 s, with all its extensions.
    assert challenge.remaining(script.t) == pytest.approx(CONFIG.prompt_timeout, abs=0.2)
    # Once the time is up, asking is too late: the next frame ends the attempt.
    assert challenge.extend(script.t + CONFIG.prompt_timeout + 1) is None
    assert challenge.decision is None
