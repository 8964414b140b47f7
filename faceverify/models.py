"""dlib's pretrained models, loaded once per process on first use.

The model files ship in the `face-recognition-models` wheel. Its `__init__` imports
`pkg_resources` (gone from recent setuptools), so we only ask importlib where the package lives and
never import it.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dlib

logger = logging.getLogger(__name__)

_PACKAGE = "face_recognition_models"
SHAPE_5 = "shape_predictor_5_face_landmarks.dat"
SHAPE_68 = "shape_predictor_68_face_landmarks.dat"
RESNET = "dlib_face_recognition_resnet_model_v1.dat"


@dataclass(frozen=True)
class Models:
    """The four dlib objects the engine uses; all are safe to share between threads for reading."""

    detector: Any  # dlib.fhog_object_detector (HOG + linear SVM, frontal faces)
    shape5: Any  # dlib.shape_predictor, 5 points: eye corners + nose base (embedding alignment)
    shape68: Any  # dlib.shape_predictor, 68 points (iBUG 300-W): pose, smile, occlusion
    encoder: Any  # dlib.face_recognition_model_v1: ResNet-29, 128-d embedding


def model_dir() -> Path:
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face-recognition-models is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


_lock = threading.Lock()
_models: Models | None = None


def get_models() -> Models:
    """The process-wide models; the first caller loads them (about a second), others wait."""
    global _models
    if _models is not None:
        return _models
    with _lock:
        if _models is None:
            base = model_dir()
            logger.info("loading dlib face models")
            _models = Models(
                detector=dlib.get_frontal_face_detector(),
                shape5=dlib.shape_predictor(str(base / SHAPE_5)),
                shape68=dlib.shape_predictor(str(base / SHAPE_68)),
                encoder=dlib.face_recognition_model_v1(str(base / RESNET)),
            )
    return _models
