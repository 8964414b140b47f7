"""Presentation attacks built from still photos, played against the real `FaceCheck`.

The attacker holds a stolen card, so the reference is always the chip photo of the person they
present: identity matches by construction, and only the liveness checks stand in the way. Each
attack answers every prompt as well as a still photo can: the photo, moved and noised like a
webcam frame, for calibration, 正面 and 笑う; for 左 the same photo tilted in front of the camera
(a perspective warp, `synth.tilt`). Used by test_attacks.py and by bench/face_attacks.py, which
prints the table published in docs/faceverify.md.

`lag` plays an attempt the way the face workers run it (issue 19): each frame is answered without
its embedding, which is computed and folded in `lag` frames later (and before any verdict);
None feeds every frame with its embedding, as the engine did before.
"""

from __future__ import annotations

import collections
import functools
import logging
import random
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from faceverify.analyzer import Box, analyze_image, embed
from faceverify.imaging import Image, decode
from faceverify.liveness import Decision, Event, Prompt
from faceverify.session import FaceCheck, reference_embedding
from faceverify.tests import synth

logger = logging.getLogger(__name__)

# The demo card's chip photo (mynacard/sim/profiles/demo.toml: obama.jpg, greyscale JP2, ~4 KB).
CHIP = Path(__file__).resolve().parents[2] / "mynacard" / "sim" / "profiles" / "demo.jp2"
# A frame every 0.25 s of server time (the docs table; the tests take 0.5 s): the timeouts (12 s a
# prompt) and the frozen limit are in seconds, so a slower frame rate makes an attempt cheaper to
# simulate. It also gives the attacker fewer frames per prompt to get lucky with; every check is
# per frame or per hold, none is a count of frames, so the table says at which rate it was made.
FRAME_STEP = 0.25
MAX_FRAMES = 260


@dataclass(frozen=True)
class Attack:
    """One way of presenting still photos. `smile_source` is a second photo of the same person
    shown for 笑う (an attacker with two photos); None means the single `source` throughout."""

    name: str
    source: str = "chip"  # "chip" or a fixture name
    smile_source: str | None = None
    turn_degrees: float | None = 40.0  # tilt about the vertical axis for 左; None: no tilt
    turn_axis: str = "vertical"
    jitter: float = 2.0
    noise: float = 2.0
    blur: float = 0.0
    replay: bool = False  # one frame per pose, the same JPEG bytes every time
    reencode: bool = False  # one frame per pose, decoded and re-encoded at another quality


@dataclass(frozen=True)
class Outcome:
    attack: str
    seed: int
    passed: bool
    reason: str
    frames: int


@functools.cache
def chip_bytes(source: str) -> bytes:
    """The reference the attacker's card holds for `source`."""
    if source == "chip":
        return CHIP.read_bytes()
    return synth.chip_photo(source)


@functools.cache
def _still(source: str) -> tuple[Image, tuple[int, int, int, int]]:
    """The photo the attacker holds up, and its face box."""
    image = decode(CHIP.read_bytes(), min_side=48) if source == "chip" else synth.photo(source)
    faces = analyze_image(image)
    if len(faces) != 1:
        raise AssertionError(f"{source}: expected one face, found {len(faces)}")
    return image, faces[0].box


def frame(attack: Attack, prompt: Prompt | None, seed: int) -> Image:
    """What the camera sees while `prompt` is shown (None: calibration / identity frames)."""
    source = attack.source
    if prompt is Prompt.SMILE and attack.smile_source is not None:
        source = attack.smile_source
    image, box = _still(source)
    placed = synth.place(image, box, seed=seed, jitter=attack.jitter, noise=attack.noise)
    if prompt is Prompt.TURN_LEFT and attack.turn_degrees is not None:
        placed = synth.tilt(placed, attack.turn_degrees, axis=attack.turn_axis)
    if attack.blur > 0:
        placed = synth.blur(placed, attack.blur)
    return placed


class Player:
    """Feeds one attempt's frames, with the embeddings inline (`lag` None) or `lag` frames late."""

    def __init__(self, check: FaceCheck, lag: int | None) -> None:
        self.check = check
        self.lag = lag
        self.index = 0
        self.waiting: collections.deque[tuple[int, Image, Box]] = collections.deque()

    def feed(self, image: Image, t: float) -> list[Event]:
        self.index += 1
        if self.lag is None:
            return self.check.feed(image, t)
        events, box = self.check.feed_deferred(image, t)
        if box is not None:
            self.waiting.append((self.index, image, box))
        # What the worker does: fold what is due, and everything before a verdict.
        while self.waiting and (self.waiting[0][0] <= self.index - self.lag or self.check.awaiting):
            _, frame, face = self.waiting.popleft()
            events += self.check.fold(embed(frame, face))
        return events


def run(
    attack: Attack, seed: int = 0, *, step: float = FRAME_STEP, lag: int | None = None
) -> Outcome:
    """Play one attempt (prompt order from `seed`) and report how it ended."""
    check = FaceCheck(reference_embedding(chip_bytes(attack.source)), rng=random.Random(seed))
    player = Player(check, lag)
    prompt: Prompt | None = None
    cached: dict[Prompt | None, bytes] = {}
    frames = 0
    for index in range(MAX_FRAMES):
        data = _bytes(attack, prompt, seed * 1000 + index, cached)
        for event in player.feed(decode(data), index * step):
            prompt = getattr(event, "prompt", prompt)
        frames += 1
        if check.decision is not None:
            return _outcome(attack, seed, check.decision, frames)
    return Outcome(attack.name, seed, passed=False, reason="unfinished", frames=frames)


GENUINE_POSES: dict[Prompt | None, tuple[str, bool]] = {
    None: ("obama3", False),  # frontal, neutral
    Prompt.FACE_FRONT: ("obama3", False),
    Prompt.SMILE: ("obama", False),  # the same man smiling
    Prompt.TURN_LEFT: ("obama2", True),  # a real head turned to its own left (mirrored obama2)
}


def run_genuine(seed: int = 0, *, step: float = FRAME_STEP, lag: int | None = None) -> Outcome:
    """The genuine sequence measured the same way: a real photo of each pose, the demo chip."""
    check = FaceCheck(reference_embedding(chip_bytes("chip")), rng=random.Random(seed))
    player = Player(check, lag)
    prompt: Prompt | None = None
    for index in range(MAX_FRAMES):
        name, mirror = GENUINE_POSES[prompt]
        image = synth.webcam_frame(name, mirror=mirror, seed=seed * 1000 + index)
        for event in player.feed(decode(synth.jpeg(image)), index * step):
            prompt = getattr(event, "prompt", prompt)
        if check.decision is not None:
            decision = check.decision
            reason = "passed" if decision.passed else str(decision.reason)
            return Outcome("genuine", seed, decision.passed, reason, index + 1)
    return Outcome("genuine", seed, passed=False, reason="unfinished", frames=MAX_FRAMES)


def _bytes(
    attack: Attack, prompt: Prompt | None, seed: int, cached: dict[Prompt | None, bytes]
) -> bytes:
    if not (attack.replay or attack.reencode):
        return synth.jpeg(frame(attack, prompt, seed))
    if prompt not in cached:
        cached[prompt] = synth.jpeg(frame(attack, prompt, seed))
    data = cached[prompt]
    if attack.replay:
        return data
    # Re-encoded: the same picture, new JPEG bytes and new compression noise every frame.
    quality = 70 + seed % 25
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    return synth.jpeg(np.asarray(image, dtype=np.uint8), quality=quality)


def _outcome(attack: Attack, seed: int, decision: Decision, frames: int) -> Outcome:
    reason = "passed" if decision.passed else str(decision.reason)
    return Outcome(attack.name, seed, passed=decision.passed, reason=reason, frames=frames)


TILTS = (20, 30, 40, 50, 60)


def catalogue() -> list[Attack]:
    """Every attack of the table in docs/faceverify.md."""
    attacks: list[Attack] = []
    for degrees in TILTS:
        for sign in (1, -1):
            attacks.append(
                Attack(
                    f"chip photo, turn faked by a {sign * degrees:+d}° tilt",
                    turn_degrees=sign * degrees,
                )
            )
    for degrees in TILTS:
        for sign in (1, -1):
            attacks.append(
                Attack(
                    f"neutral + smiling photo, turn faked by a {sign * degrees:+d}° tilt",
                    source="obama3",
                    smile_source="obama",
                    turn_degrees=sign * degrees,
                )
            )
    attacks += [
        Attack("chip photo, no tilt at all", turn_degrees=None),
        Attack(
            "chip photo, tilted about the horizontal axis",
            turn_degrees=40.0,
            turn_axis="horizontal",
        ),
        Attack("chip photo, large shifts (±12 px)", jitter=12.0),
        Attack("chip photo, heavy noise (σ = 6)", noise=6.0),
        Attack("chip photo, blurred (σ = 1.2)", blur=1.2),
        Attack("smiling fixture photo (obama)", source="obama"),
        Attack("neutral fixture photo (obama3)", source="obama3"),
        Attack("neutral fixture photo (biden)", source="biden"),
        Attack("chip photo, replayed frames", replay=True),
        Attack("chip photo, re-encoded frames", reencode=True),
        Attack(
            "neutral + smiling photo, replayed frames",
            source="obama3",
            smile_source="obama",
            replay=True,
        ),
        Attack(
            "neutral + smiling photo, re-encoded frames",
            source="obama3",
            smile_source="obama",
            reencode=True,
        ),
    ]
    return attacks
