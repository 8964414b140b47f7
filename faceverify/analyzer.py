"""Find, track and measure faces: detection, 68-point landmarks, pose, smile, quality, embedding.

Cost per frame is what limits a single core, so the expensive steps run only when needed:
- HOG detection runs on a downscaled copy of the frame (`detect_width`), and between full
  detections only inside a small region around the last face (`FaceTracker`), scaled so the face
  is about 100 px wide — the detector's window is 80 px, so that is enough, and far cheaper than
  scanning the whole frame. A full detection every `redetect_every` frames still catches a second
  person stepping in.
- The 128-d ResNet embedding (the slowest step) is computed only when the caller asks for it
  (faceverify.session decides: frontal or prompted pose, sharp, and not on every frame).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import dlib
import numpy as np
import numpy.typing as npt

from faceverify.geometry import Points, Pose, head_pose, mouth_open, smile_measure
from faceverify.imaging import Image, scale_to_width, to_gray, to_rgb
from faceverify.models import Models, get_models
from faceverify.quality import Quality, QualityConfig, assess

logger = logging.getLogger(__name__)

Box = tuple[int, int, int, int]  # left, top, right, bottom in full-frame pixels
Embedding = npt.NDArray[np.float64]  # shape (128,)


@dataclass(frozen=True)
class DetectConfig:
    """Where and how often the HOG detector runs."""

    detect_width: int = 480
    upsample: int = 0
    track_face_width: int = 100
    track_margin: float = 0.5  # region around the last box, as a fraction of its size
    redetect_every: int = 6


@dataclass(frozen=True, eq=False)
class FaceObservation:
    """One face in one frame, measured."""

    box: Box
    points: Points
    pose: Pose
    smile: float
    mouth_open: float
    quality: Quality


def detect(image: Image, *, width: int, upsample: int, models: Models | None = None) -> list[Box]:
    """Face boxes in full-frame coordinates, found on a copy scaled to at most `width` pixels."""
    m = models or get_models()
    small, factor = scale_to_width(image, width)
    rects = m.detector(to_gray(small), upsample)
    return [_unscale(rect, factor) for rect in rects]


def landmarks(image: Image, box: Box, *, models: Models | None = None) -> Points:
    m = models or get_models()
    shape = m.shape68(to_gray(image), _rect(box))
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)


def observe(
    image: Image, box: Box, *, quality: QualityConfig, models: Models | None = None
) -> FaceObservation:
    """Landmarks, pose, smile and quality of the face in `box`."""
    points = landmarks(image, box, models=models)
    height, width = image.shape[:2]
    return FaceObservation(
        box=box,
        points=points,
        pose=head_pose(points, (width, height)),
        smile=smile_measure(points),
        mouth_open=mouth_open(points),
        quality=assess(image, box, points, quality),
    )


def embed(image: Image, box: Box, *, jitters: int = 0, models: Models | None = None) -> Embedding:
    """The 128-d ResNet embedding, aligned on the 5-point landmarks as the model was trained."""
    m = models or get_models()
    rgb = to_rgb(image)
    shape = m.shape5(rgb, _rect(box))
    descriptor = m.encoder.compute_face_descriptor(rgb, shape, jitters)
    return np.asarray(descriptor, dtype=np.float64)


def distance(a: Embedding, b: Embedding) -> float:
    """Euclidean distance between embeddings (dlib's metric; 0.6 is its LFW default)."""
    return float(np.linalg.norm(a - b))


def analyze_image(
    image: Image, *, quality: QualityConfig | None = None, models: Models | None = None
) -> list[FaceObservation]:
    """All faces in a still image (CLI `analyze`); small images are upsampled for the detector."""
    m = models or get_models()
    upsample = 1 if max(image.shape[:2]) < 640 else 0
    boxes = detect(image, width=1024, upsample=upsample, models=m)
    return [observe(image, box, quality=quality or QualityConfig(), models=m) for box in boxes]


@dataclass
class FaceTracker:
    """Per-stream detector state: full detection only every few frames or when the face is lost."""

    config: DetectConfig = field(default_factory=DetectConfig)
    models: Models | None = None
    last_box: Box | None = None
    since_full: int = 0
    full_detections: int = 0
    tracked: int = 0

    def locate(self, image: Image) -> list[Box]:
        """The face boxes in this frame (possibly just the tracked one)."""
        m = self.models or get_models()
        if self.last_box is not None and self.since_full < self.config.redetect_every:
            found = self._track(image, self.last_box, m)
            if len(found) == 1:
                self.since_full += 1
                self.tracked += 1
                self.last_box = found[0]
                return found
        boxes = detect(
            image, width=self.config.detect_width, upsample=self.config.upsample, models=m
        )
        self.full_detections += 1
        self.since_full = 0
        self.last_box = boxes[0] if len(boxes) == 1 else None
        return boxes

    def reset(self) -> None:
        self.last_box = None
        self.since_full = 0

    def _track(self, image: Image, box: Box, m: Models) -> list[Box]:
        height, width = image.shape[:2]
        left, top, right, bottom = box
        bw, bh = right - left, bottom - top
        mx, my = round(bw * self.config.track_margin), round(bh * self.config.track_margin)
        x0, y0 = max(0, left - mx), max(0, top - my)
        x1, y1 = min(width, right + mx), min(height, bottom + my)
        if x1 - x0 < 16 or y1 - y0 < 16:
            return []
        roi = np.ascontiguousarray(image[y0:y1, x0:x1])
        target = max(16, round((x1 - x0) * self.config.track_face_width / max(1, bw)))
        found = detect(roi, width=target, upsample=0, models=m)
        return [(a + x0, b + y0, c + x0, d + y0) for a, b, c, d in found]


def _rect(box: Box) -> dlib.rectangle:
    return dlib.rectangle(int(box[0]), int(box[1]), int(box[2]), int(box[3]))


def _unscale(rect: dlib.rectangle, factor: float) -> Box:
    return (
        round(rect.left() / factor),
        round(rect.top() / factor),
        round(rect.right() / factor),
        round(rect.bottom() / factor),
    )
