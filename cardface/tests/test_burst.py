"""Combining frames: agreement accepts, a lone value needs high confidence, conflict cancels."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import cv2
import numpy as np

from bench.cardface_bench import PAGE_SMALL_BURST_FRAMES
from cardface import CardFaceReason, FieldReading, burst, fuse, locate, synth
from cardface.result import CardFaceReading

BIRTH = date(1985, 7, 23)
EXPIRY = date(2034, 7, 23)


def _reading(birth: date | None = BIRTH, expiry: date | None = EXPIRY,
             code: str | None = "4821", confidence: float = 0.9,
             reason: CardFaceReason | None = None) -> CardFaceReading:
    return CardFaceReading(
        FieldReading(birth, confidence) if birth else None,
        FieldReading(expiry, confidence) if expiry else None,
        FieldReading(code, confidence) if code else None,
        reason,
    )


def _values(reading: CardFaceReading) -> tuple[object, object, object]:
    return tuple(x.value if x else None  # type: ignore[return-value]
                 for x in (reading.birth_date, reading.expiry_date, reading.security_code))


def test_two_frames_that_agree_are_accepted() -> None:
    combined = burst.combine([_reading(), _reading()])
    assert combined.ok and _values(combined) == (BIRTH, EXPIRY, "4821")


def test_one_frame_alone_needs_high_confidence() -> None:
    assert not burst.combine([_reading(confidence=0.9)]).ok
    assert _values(burst.combine([_reading(confidence=0.9)])) == (None, None, None)
    sure = burst.combine([_reading(confidence=0.99)])
    assert sure.ok and _values(sure) == (BIRTH, EXPIRY, "4821")


def test_values_from_different_frames_complete_each_other() -> None:
    combined = burst.combine([
        _reading(code=None, confidence=0.99, reason=CardFaceReason.UNREADABLE),
        _reading(birth=None, expiry=None, confidence=0.99, reason=CardFaceReason.BLURRED),
    ])
    assert combined.ok and _values(combined) == (BIRTH, EXPIRY, "4821")


def test_frames_that_disagree_cancel_the_value_however_sure() -> None:
    combined = burst.combine([_reading(confidence=1.0), _reading(code="4827", confidence=1.0),
                              _reading(confidence=1.0)])
    assert not combined.ok
    assert _values(combined) == (BIRTH, EXPIRY, None)
    assert combined.reason is CardFaceReason.UNREADABLE


def test_the_most_frequent_reason_is_given() -> None:
    combined = burst.combine([
        CardFaceReading.failed(CardFaceReason.BLURRED),
        CardFaceReading.failed(CardFaceReason.GLARE),
        CardFaceReading.failed(CardFaceReason.BLURRED),
    ])
    assert combined.reason is CardFaceReason.BLURRED


def test_frames_are_ranked_by_sharpness_without_ocr() -> None:
    sharp = synth.render_photo(synth.CardFront(), synth.Scene(canvas=(640, 480), card_width=240,
                                                                   seed=3))
    smeared = synth.render_photo(synth.CardFront(), synth.Scene(canvas=(640, 480),
                                                                     card_width=240, motion=9,
                                                                     seed=4))
    empty = np.full((480, 640, 3), 60, dtype=np.uint8)
    ranks = [burst.rank_frame(i, image) for i, image in enumerate((smeared, empty, sharp))]
    assert ranks[1].card_width == 0 and not ranks[1].usable
    assert ranks[0].usable and ranks[2].usable
    assert 200 <= ranks[2].card_width <= 260
    assert ranks[2].sharpness > ranks[0].sharpness


def test_a_burst_without_a_card_is_not_a_card() -> None:
    empty = np.full((480, 640, 3), 60, dtype=np.uint8)
    assert burst.read_card_burst([empty, empty]).reason is CardFaceReason.NOT_A_CARD


def test_a_burst_of_tiny_cards_is_too_small() -> None:
    tiny = synth.render_photo(synth.CardFront(), synth.Scene(canvas=(640, 480), card_width=140,
                                                                  seed=5))
    assert burst.read_card_burst([tiny, tiny]).reason is CardFaceReason.TOO_SMALL


def test_an_average_of_small_frames_is_believed_only_with_independent_support() -> None:
    # Measured: one half of a smeared burst read 3555 at 0.999 for a card printed 3556.
    half_sure = _reading(code="3555", confidence=0.999)
    nothing = CardFaceReading.failed(CardFaceReason.UNREADABLE)
    whole_unsure = _reading(code="3555", confidence=0.87)
    assert burst.combine([half_sure, nothing], trusted=[], shared=[whole_unsure]
                         ).security_code is None
    # The two halves (disjoint frames) agreeing is enough...
    agreed = burst.combine([_reading(), _reading()], trusted=[], shared=[_reading()])
    assert agreed.ok
    # ...and so is an average of enough frames that is sure, if no half disagrees.
    whole_sure = _reading(confidence=0.99)
    assert burst.combine([nothing, nothing], trusted=[whole_sure], shared=[whole_sure]).ok
    vetoed = burst.combine([nothing, _reading(code="4827")], trusted=[whole_sure],
                           shared=[whole_sure])
    assert vetoed.security_code is None
    # (and, contradicted, the whole no longer stands alone on the dates either: see below)
    assert vetoed.birth_date is None


def test_frames_of_one_card_align_and_a_frame_of_nothing_is_left_out() -> None:
    def straightened(seed: int, rotation: float) -> np.ndarray:
        photo = synth.render_photo(synth.CardFront(), synth.Scene(
            canvas=(640, 480), card_width=232, rotation=rotation, seed=seed))
        quad = locate.find_card(photo)
        assert quad is not None
        return locate.warp_card(photo, quad)

    first, second = straightened(1, 2.0), straightened(2, 3.0)
    turned = cv2.rotate(straightened(3, 1.0), cv2.ROTATE_180)  # corners found the other way
    blank = np.full_like(first, 200)
    aligned = fuse.align([first, second, blank, turned])
    assert len(aligned) == 3
    # Aligned, the frames agree with the first far better than the blank does.
    mean = fuse.average(aligned).astype(np.float32)
    assert np.abs(mean - first).mean() < 0.5 * np.abs(blank.astype(np.float32) - first).mean()
    assert np.abs(aligned[2] - first).mean() < np.abs(turned.astype(np.float32) - first).mean()


def test_deblurring_brings_a_soft_print_back_towards_the_sharp_one() -> None:
    sharp = np.full((120, 300, 3), 255, dtype=np.uint8)
    cv2.putText(sharp, "0994 8538", (10, 75), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (0, 0, 0), 2)
    soft = cv2.GaussianBlur(sharp, (0, 0), fuse.DEBLUR_SIGMA)
    restored = fuse.deblur(soft)

    def error(image: np.ndarray) -> float:
        return float(np.abs(image.astype(np.float32) - sharp.astype(np.float32)).mean())

    assert restored.dtype == np.uint8 and restored.shape == sharp.shape
    assert error(restored) < 0.8 * error(soft)
    # Edges come back: the gradient energy rises towards the sharp print's.
    def edges(image: np.ndarray) -> float:
        return float(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())

    assert edges(soft) < edges(restored) <= 1.2 * edges(sharp)


def test_a_whole_average_a_half_contradicts_stands_alone_on_nothing() -> None:
    # Measured on a moving bench burst (card printed 2026/11/09, code 5069): the whole of 5
    # frames read 2028/11/09 and 5059, sure of both; one half read 5069, the halves read no
    # expiry. The code is vetoed, and the expiry, which only the whole read, is dropped too.
    whole = _reading(expiry=date(2028, 11, 9), code="5059", confidence=0.99)
    half_code = _reading(birth=BIRTH, expiry=None, code="5069", confidence=0.99)
    silent = _reading(birth=BIRTH, expiry=None, code=None)
    combined = burst.combine([half_code, silent], trusted=[whole], shared=[whole])
    assert _values(combined) == (BIRTH, None, None)
    # The same whole with no half against it stands alone, as before.
    alone = burst.combine([silent, silent], trusted=[whole], shared=[whole])
    assert _values(alone) == (BIRTH, date(2028, 11, 9), "5059")


def test_the_bench_sends_as_many_small_card_frames_as_the_page() -> None:
    """bench/cardface_bench.py's burst_webcam_arm_page stands for what the page sends."""
    page = (Path(__file__).resolve().parents[2] / "static/reset/cardface.js").read_text()
    found = re.search(r"const SMALL_BURST_FRAMES = (\d+);", page)
    assert found and int(found.group(1)) == PAGE_SMALL_BURST_FRAMES
    assert PAGE_SMALL_BURST_FRAMES <= burst.MAX_FRAMES
