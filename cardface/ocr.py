"""A thin wrapper around rapidocr: one engine per process, loaded on first use, offline only."""

from __future__ import annotations

import logging
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

_engine: Any = None
_engine_lock = threading.Lock()
# One recognition at a time: the engine already uses every core, and a second concurrent run
# would only double the memory without finishing sooner.
_run_lock = threading.Lock()


@dataclass(frozen=True)
class OcrLine:
    """One detected text line, normalised, with a confidence per character and its place.

    `text` is NFKC-normalised (full-width digits become ASCII, the ㍼-style era ligatures become
    two characters) with whitespace removed; `char_scores` has one entry per character of `text`.
    `cx`, `cy` and `height` are fractions of the image's width and height.
    """

    text: str
    score: float
    char_scores: tuple[float, ...]
    cx: float
    cy: float
    height: float

    def span_confidence(self, start: int, end: int) -> float:
        """The weakest character in text[start:end] — one misread digit spoils a date."""
        if end <= start:
            return 0.0
        return min(self.char_scores[start:end])


def _models_dir() -> Path:
    import rapidocr

    return Path(rapidocr.__file__).resolve().parent / "models"


def _load_engine() -> Any:
    from rapidocr import RapidOCR

    models = _models_dir()
    det = models / "PP-OCRv6_det_small.onnx"
    rec = models / "PP-OCRv6_rec_small.onnx"
    cls = models / "ch_ppocr_mobile_v2.0_cls_mobile.onnx"
    for path in (det, rec, cls):
        # The server has no route to the model hosts; fail loudly rather than try a download.
        if not path.is_file():
            raise RuntimeError(f"rapidocr model missing from the wheel: {path.name}")
    params: dict[str, Any] = {
        "Global.log_level": "error",  # "no text found" is an answer here, not a warning
        # The card is straightened before recognition and turned round by the caller when
        # upside down; the line classifier only adds wrong 180-degree flips of short lines
        # (it turned "4821" under the photo into a low-confidence misread).
        "Global.use_cls": False,
        "Det.model_path": str(det),
        "Rec.model_path": str(rec),
        "Cls.model_path": str(cls),
    }
    logger.info("loading the OCR engine")
    engine = RapidOCR(params=params)
    _warm_up(engine)
    return engine


def _warm_up(engine: Any) -> None:
    """Read a few printed digits once so that every model is loaded now.

    rapidocr loads the detector and the recogniser on first use: without this a broken install
    would surface inside a resident's reading (answered "unreadable") instead of failing here.
    """
    import cv2

    canvas = np.full((64, 200, 3), 255, dtype=np.uint8)
    cv2.putText(canvas, "2034", (16, 46), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (0, 0, 0), 3)
    result = engine(canvas)
    if not result.txts:
        raise RuntimeError("the OCR engine read nothing from its warm-up image")
    # read_lines(own_scale=True) sets the detector's size limit for one reading.
    if not isinstance(getattr(engine.text_det, "limit_side_len", None), int):
        raise RuntimeError("this rapidocr has no detector size limit to set (read_lines)")


def get_engine() -> Any:
    """The process-wide engine, created on first call (about a second on two cores)."""
    global _engine
    if _engine is None:
        with _engine_lock:
            if _engine is None:
                _engine = _load_engine()
    return _engine


def _normalise(raw: str, scores: list[float]) -> tuple[str, tuple[float, ...]]:
    chars: list[str] = []
    out_scores: list[float] = []
    for ch, score in zip(raw, scores, strict=False):
        for norm in unicodedata.normalize("NFKC", ch):
            if norm.isspace():
                continue
            chars.append(norm)
            out_scores.append(score)
    return "".join(chars), tuple(out_scores)


def _char_scores(raw: str, line_score: float, words: Any) -> list[float]:
    """Per-character scores from rapidocr's single-character boxes, or the line score."""
    try:
        items = [(str(w[0]), float(w[1])) for w in words]
    except (TypeError, IndexError, ValueError):
        items = []
    text = "".join(t for t, _ in items)
    if items and text == raw.replace(" ", "") and all(len(t) == 1 for t, _ in items):
        it = iter(s for _, s in items)
        return [line_score if ch == " " else next(it) for ch in raw]
    # Alignment failed (merged glyphs): the mean is all we know, so use it for every character.
    return [line_score] * len(raw)


def read_lines(
    image: np.ndarray, *, region: tuple[float, float, float, float] | None = None,
    own_scale: bool = False,
) -> list[OcrLine]:
    """Detect and recognise every text line in a BGR image.

    With `region` (x0, y0, x1, y1 as fractions) only that part is read, but the places of the
    lines are still given as fractions of the whole image. With `own_scale` the lines are
    detected at the image's own size: the detector otherwise scales an image whose short side
    is under its limit (736 px) up to it, and the straightened card (1000x631) to 1152x736,
    which costs a third more (the lines are recognised from the image itself either way).
    """
    full_h, full_w = image.shape[:2]
    x0 = y0 = 0
    if region is not None:
        x0, y0 = round(region[0] * full_w), round(region[1] * full_h)
        image = image[y0 : round(region[3] * full_h), x0 : round(region[2] * full_w)]
    engine = get_engine()
    with _run_lock:
        detector = engine.text_det
        limit = detector.limit_side_len
        if own_scale:
            detector.limit_side_len = min(image.shape[:2])
        try:
            result = engine(image, return_word_box=True, return_single_char_box=True)
        finally:
            detector.limit_side_len = limit
    if result.txts is None or result.boxes is None or result.scores is None:
        return []
    words_all = list(result.word_results) if result.word_results else []
    lines: list[OcrLine] = []
    for index, (raw, score, box) in enumerate(
        zip(result.txts, result.scores, result.boxes, strict=False)
    ):
        words = words_all[index] if index < len(words_all) else ()
        text, char_scores = _normalise(raw, _char_scores(raw, float(score), words))
        if not text:
            continue
        pts = np.asarray(box, dtype=np.float64).reshape(-1, 2)
        ys = pts[:, 1]
        lines.append(
            OcrLine(
                text=text,
                score=float(score),
                char_scores=char_scores,
                cx=(x0 + float(pts[:, 0].mean())) / full_w,
                cy=(y0 + float(ys.mean())) / full_h,
                height=float(ys.max() - ys.min()) / full_h,
            )
        )
    return lines
