"""dlib's pretrained models: the read-only ones once per process, the stateful ones once per thread.

The model files ship in the `face-recognition-models` wheel. Its `__init__` imports
`pkg_resources` (gone from recent setuptools), so we only ask importlib where the package lives and
never import it.

Thread safety (issue 19): dlib's HOG detector (`scan_fhog_pyramid` inside `object_detector`) keeps
scratch buffers in the object, so two threads calling one detector corrupt each other's memory —
measured: a segmentation fault or heap corruption within seconds, and wrong boxes before that. The
ResNet encoder (a `dlib::dnn` network) likewise keeps each layer's output in the object. Both are
therefore created per thread. The shape predictors are documented by dlib as usable from several
threads at once without synchronisation (shape_predictor_abstract.h, THREAD SAFETY), and the
68-point one is the largest model (~100 MB), so those two are loaded once per process and shared.
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
    """The four dlib objects the engine uses; one instance belongs to one thread (get_models)."""

    detector: Any  # dlib.fhog_object_detector (HOG + linear SVM, frontal faces); per thread
    shape5: Any  # dlib.shape_predictor, 5 points: eye corners + nose base; shared, thread-safe
    shape68: Any  # dlib.shape_predictor, 68 points (iBUG 300-W): pose, smile, occlusion; shared
    encoder: Any  # dlib.face_recognition_model_v1: ResNet-29, 128-d embedding; per thread


@dataclass(frozen=True)
class _Shared:
    shape5: Any
    shape68: Any


def model_dir() -> Path:
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face-recognition-models is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


_lock = threading.Lock()
_shared: _Shared | None = None
_local = threading.local()


def _shared_models() -> _Shared:
    global _shared
    if _shared is not None:
        return _shared
    with _lock:
        if _shared is None:
            base = model_dir()
            logger.info("loading dlib shape predictors")
            _shared = _Shared(
                shape5=dlib.shape_predictor(str(base / SHAPE_5)),
                shape68=dlib.shape_predictor(str(base / SHAPE_68)),
            )
    return _shared


def get_models() -> Models:
    """The calling thread's models; its first call builds its detector and encoder (about half a
    second; the shared predictors load once per process, about a second).

    Never hand the result to another thread: its detector and encoder are not safe to share.
    """
    models: Models | None = getattr(_local, "models", None)
    if models is None:
        shared = _shared_models()
        logger.info("loading a dlib detector and encoder for this thread")
        models = Models(
            detector=dlib.get_frontal_face_detector(),
            shape5=shared.shape5,
            shape68=shared.shape68,
            encoder=dlib.face_recognition_model_v1(str(model_dir() / RESNET)),
        )
        _local.models = models
    return models
