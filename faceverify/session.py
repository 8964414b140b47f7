"""One face-check attempt over a camera stream: frames in, prompts / progress / decision out.

Glue between the analyzer (pixels → measurements) and the challenge (measurements → decision).
Used by faceverify/workers.py (one instance per WebSocket attempt, inside one face worker)
and by bench/face_bench.py. Holds the reference embedding and the attempt's embeddings in memory
only, and drops them with the decision.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from faceverify.analyzer import (
    Box,
    DetectConfig,
    Embedding,
    FaceTracker,
    analyze_image,
    distance,
    embed,
    observe,
)
from faceverify.geometry import Points
from faceverify.imaging import (
    JPEG,
    MAX_FRAME_SIDE,
    Image,
    ImageError,
    decode,
    scale_to_width,
    to_gray,
)
from faceverify.liveness import (
    Challenge,
    Decision,
    Event,
    FrameMeasure,
    LivenessConfig,
    PlacementEvent,
    Prompt,
    choose_prompts,
)
from faceverify.models import Models, get_models
from faceverify.placement import Placement, placement_of
from faceverify.quality import QualityConfig
from faceverify.screen import surround_follow
from faceverify.stillness import StillnessConfig, StillnessMeter

logger = logging.getLogger(__name__)

REFERENCE_MAX_BYTES = 64 * 1024  # a chip photo is 3–5 KB; anything much larger is not one
_MOTION_WIDTH = 320


@dataclass(frozen=True)
class EngineConfig:
    """All tunables of the pipeline in one place (the consumer builds it from settings)."""

    detect: DetectConfig = field(default_factory=DetectConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    liveness: LivenessConfig = field(default_factory=LivenessConfig)
    stillness: StillnessConfig = field(default_factory=StillnessConfig)


class ReferencePhotoError(ValueError):
    """The reference photo is unusable: reason is "undecodable", "dimensions", "no_face" or
    "multiple_faces"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def reference_embedding(
    data: bytes,
    *,
    models: Models | None = None,
    max_bytes: int = REFERENCE_MAX_BYTES,
    max_side: int = MAX_FRAME_SIDE,
) -> Embedding:
    """The embedding of the one face in a JP2 / JPEG / PNG reference photo.

    Chip photos are small (about 300 px tall or less), so `analyze_image` upsamples them once for
    the detector. No jittering: dlib's random jitter made the distances non-reproducible and, on
    the 2.5 KB references of docs/faceverify.md, no better on average.
    """
    if len(data) > max_bytes:
        raise ReferencePhotoError("dimensions")
    try:
        image = decode(data, min_side=48, max_side=max_side)
    except ImageError as exc:
        raise ReferencePhotoError(exc.reason) from exc
    faces = analyze_image(image, models=models)
    if not faces:
        raise ReferencePhotoError("no_face")
    if len(faces) > 1:
        raise ReferencePhotoError("multiple_faces")
    return embed(image, faces[0].box, models=models)


@dataclass
class FaceCheck:
    """A single attempt: feed frames until `decision` is set."""

    reference: Embedding | None
    config: EngineConfig = field(default_factory=EngineConfig)
    rng: random.Random | None = None
    models: Models | None = None
    challenge: Challenge = field(init=False)
    tracker: FaceTracker = field(init=False)
    frames: int = 0
    embeddings: int = 0
    stillness: StillnessMeter = field(init=False)
    # The latest frontal frame, downscaled gray, with its landmarks in its coordinates: what the
    # surroundings of a turned frame are compared with (faceverify.screen). Memory only.
    _previous: tuple[npt.NDArray[np.uint8], Points] | None = None
    # Where the face is against the guide oval: this frame's (None when not frontal or no single
    # face) and the last one said to the resident.
    _placement: Placement | None = None
    _said_placement: Placement | None = None

    def __post_init__(self) -> None:
        self.challenge = Challenge(prompts=choose_prompts(self.rng), config=self.config.liveness)
        self.tracker = FaceTracker(config=self.config.detect, models=self.models)
        self.stillness = StillnessMeter(self.config.stillness)

    @property
    def prompts(self) -> tuple[Prompt, ...]:
        return self.challenge.prompts

    @property
    def decision(self) -> Decision | None:
        return self.challenge.decision

    def feed_jpeg(self, data: bytes, t: float) -> list[Event]:
        """Decode and process one JPEG frame; ImageError when the bytes are not a usable JPEG."""
        return self.feed(decode(data, formats=frozenset({JPEG})), t)

    def feed(self, image: Image, t: float) -> list[Event]:
        if self.decision is not None:
            return []
        events = self.challenge.step(self.measure(image, t))
        if self.decision is not None:
            self.discard()
            return events
        return self._with_placement(events)

    def extend(self, t: float) -> float | None:
        """More time for the current prompt (Challenge.extend); seconds left, or None."""
        return self.challenge.extend(t)

    def _with_placement(self, events: list[Event]) -> list[Event]:
        """Say where the face is when that changed, before the frame's closing ProgressEvent
        (the page takes the last event as "frame handled")."""
        where = self._placement
        if where is None or where == self._said_placement or not events:
            return events
        self._said_placement = where
        return [*events[:-1], PlacementEvent(where), events[-1]]

    def feed_jpeg_deferred(self, data: bytes, t: float) -> tuple[list[Event], Box | None]:
        """`feed_deferred` of one JPEG frame; ImageError when the bytes are not a usable JPEG."""
        if self.challenge.awaiting:  # nothing to measure: the frame changes nothing
            return [self.challenge.waiting_progress()], None
        return self.feed_deferred(decode(data, formats=frozenset({JPEG})), t)

    def feed_deferred(self, image: Image, t: float) -> tuple[list[Event], Box | None]:
        """Like `feed`, but without the embedding on the frame's critical path (issue 19).

        Returns the frame's events and, when the frame wants an embedding, the face box: the
        caller computes `embed(image, box)` when it can, and hands the results to `fold` in the
        order of the frames. Until the last one is folded no decision is taken (`awaiting`): the
        frames meanwhile are answered with the progress so far, and the Decision that `fold`
        returns is the answer to the next one.
        """
        if self.decision is not None:
            return [], None
        if self.challenge.awaiting:
            return [self.challenge.waiting_progress()], None
        measure, box = self._measure(image, t)
        if box is not None:
            self.embeddings += 1
            measure = replace(measure, embedding_pending=True)
        events = self.challenge.step(measure)
        if self.decision is not None:
            self.discard()
            return events, box
        return self._with_placement(events), box

    def fold(self, embedding: Embedding) -> list[Event]:
        """The embedding of the oldest frame `feed_deferred` asked one for; the Decision if it
        ends the attempt (the face changed, or the last one a due decision waited for)."""
        if self.decision is not None:
            return []
        dist = distance(embedding, self.reference) if self.reference is not None else None
        events = self.challenge.fold(embedding, dist)
        if self.decision is not None:
            self.discard()
        return events

    @property
    def awaiting(self) -> bool:
        """Ended, with the verdict waiting for embeddings not yet folded in."""
        return self.challenge.awaiting

    def measure(self, image: Image, t: float) -> FrameMeasure:
        """Pixels → numbers for the challenge (plus an embedding when it is worth computing)."""
        measure, box = self._measure(image, t)
        if box is None:
            return measure
        embedding = embed(image, box, models=self.models or get_models())
        self.embeddings += 1
        dist = distance(embedding, self.reference) if self.reference is not None else None
        return replace(measure, embedding=embedding, distance=dist)

    def _measure(self, image: Image, t: float) -> tuple[FrameMeasure, Box | None]:
        """Pixels → numbers, and the face box when the frame is worth an embedding."""
        self.frames += 1
        m = self.models or get_models()
        boxes = self.tracker.locate(image)
        self._placement = None
        if len(boxes) != 1:
            self.stillness.reset()
            self._said_placement = None  # said again when a face comes back
            return FrameMeasure(t=t, faces=len(boxes)), None
        box = boxes[0]
        face = observe(image, box, quality=self.config.quality, models=m)
        if abs(face.pose.yaw) <= self.config.liveness.frontal_max_yaw:
            # Turned heads shift their box; where the face is is said only when it faces front.
            self._placement = placement_of(box, image.shape[1], image.shape[0])
        small, factor = scale_to_width(image, _MOTION_WIDTH)
        gray, points = to_gray(small), face.points * factor
        motion = self.stillness.change(gray, points)
        surround = self._surround(gray, points, face.pose.yaw)
        measure = FrameMeasure(
            t=t,
            faces=1,
            advice=face.quality.problems[0] if face.quality.problems else None,
            yaw=face.pose.yaw,
            pitch=face.pose.pitch,
            smile=face.smile,
            motion=motion,
            points=face.points,
            surround=surround,
        )
        if not face.quality.ok or not self.challenge.wants_embedding(measure):
            return measure, None
        return measure, box

    def leftovers(self) -> list[str]:
        """What this attempt still holds of a face: nothing once `discard` ran (tests, census)."""
        found = []
        if self.reference is not None:
            found.append("reference embedding")
        if self._previous is not None:
            found.append("last frame crop")
        if self.challenge._anchor is not None or self.challenge._distances:
            found.append("attempt embeddings")
        if self.challenge._frontal_points or self.challenge._turned:
            found.append("attempt landmarks")
        return found

    def discard(self) -> None:
        """Drop everything biometric: the reference, the attempt's embeddings and landmarks,
        the kept frontal frame and the stillness anchor."""
        self.reference = None
        self._previous = None
        self.stillness.reset()
        self.challenge.discard()

    def _surround(self, gray: npt.NDArray[np.uint8], points: Points, yaw: float) -> float | None:
        """Keep frontal frames; on turned ones, whether the surroundings moved with the face."""
        config = self.config.liveness
        if abs(yaw) <= config.frontal_max_yaw:
            self._previous = (gray, points)
            return None
        if yaw < config.left_min_yaw or self._previous is None:
            return None
        return surround_follow(self._previous[0], self._previous[1], gray, points)
