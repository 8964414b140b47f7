"""Combining frames: agreement accepts, a lone value needs high confidence, conflict cancels."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import pytest

from bench.cardface_bench import PAGE_LIVE_BURSTS, PAGE_MANUAL_TAKES, PAGE_SMALL_BURST_FRAMES
from cardface import CardFaceReason, FieldReading, burst, fuse, locate, reader, synth
from cardface.result import CardFaceReading

# The bench's day (bench/cardface_bench.py TODAY): every expiry in these readings is to come.
TODAY = date(2026, 11, 27)
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


def test_a_burst_that_read_a_value_is_never_answered_not_a_card() -> None:
    empty = CardFaceReading.failed(CardFaceReason.NOT_A_CARD)
    one_value = _reading(birth=None, expiry=None, confidence=0.99,
                         reason=CardFaceReason.UNREADABLE)
    combined = burst.combine([empty, empty, one_value])
    assert _values(combined) == (None, None, "4821")
    assert combined.reason is CardFaceReason.UNREADABLE
    # With nothing read, the most frequent reason stands.
    assert burst.combine([empty, empty, CardFaceReading.failed(CardFaceReason.BLURRED)]
                         ).reason is CardFaceReason.NOT_A_CARD


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


def test_a_long_smear_ranks_below_a_short_one_whatever_their_directions() -> None:
    """An 11 px horizontal smear leaves the print's horizontal strokes sharp across it: the
    Laplacian's variance scored it 95 against 77 for a 3 px diagonal smear of the same card,
    and the averaged frames took the worse one. The least sharp direction ranks them by their
    length (burst.directional_sharpness)."""
    def frame(motion: float, angle: float) -> np.ndarray:
        return synth.render_photo(synth.CardFront(), synth.Scene(
            canvas=(640, 480), card_width=240, motion=motion, motion_angle=angle, seed=3))

    still, short_diagonal, long_horizontal = (
        burst.rank_frame(i, image).directional
        for i, image in enumerate((frame(0, 0), frame(3, 45), frame(11, 0))))
    assert still > 2 * short_diagonal > 2 * 5 * long_horizontal, (
        still, short_diagonal, long_horizontal)


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
    # page_live_webcam_arm reads as many bursts per card as the page's live reading sends.
    live = re.search(r"const LIVE_BURSTS = (\d+);", page)
    assert live and int(live.group(1)) == PAGE_LIVE_BURSTS
    # burst_webcam_page_manual takes as many frames as 撮影する does on a small card.
    takes = re.search(r"const MANUAL_BURST_TAKES = (\d+);", page)
    assert takes and int(takes.group(1)) == PAGE_MANUAL_TAKES
    # The page asks to come closer before the card is too small for the server's code; its
    # probe measures the card about 5 px wider than the server does (review: 206 against 201 on
    # the frames of "too small for the code"), so it needs more than that to spare.
    closer = re.search(r"const MIN_CARD_PX = (\d+);", page)
    assert closer and int(closer.group(1)) >= burst.CODE_MIN_AVERAGED_WIDTH_PX + 10
    # Likewise it sends the small card's burst (to be averaged) for every card the server will
    # not read a code from in one frame (reader.CODE_MIN_CARD_WIDTH_PX), with the same margin:
    # a 5-frame burst of such a card could give no code.
    small = re.search(r"const SMALL_CARD_PX = (\d+);", page)
    assert small and int(small.group(1)) >= reader.CODE_MIN_CARD_WIDTH_PX + 10


def test_the_whole_read_two_ways_is_as_sure_as_its_least_sure_reading() -> None:
    deblurred = _reading(code="8586", confidence=0.93)
    plain = _reading(code="8586", confidence=0.98)
    one = burst.least_sure([deblurred, plain])
    assert one.security_code is not None and one.security_code.confidence == 0.93
    # Standing alone needs SOLO_CONFIDENCE of that least sure reading: not given here.
    silent = _reading(birth=None, expiry=None, code=None)
    assert burst.combine([silent, silent], trusted=[one], shared=[deblurred, plain]
                         ).security_code is None
    # A value only one processing read is not the whole's to give alone (the plain reading
    # rescues a glyph the deblurring broke only with another opinion: "plain whole alone").
    only_plain = burst.least_sure([_reading(code=None, confidence=0.99), plain])
    assert only_plain.security_code is None
    assert only_plain.birth_date is not None and only_plain.birth_date.confidence == 0.98


def test_a_date_one_processing_missed_stands_with_a_half_and_the_other_date() -> None:
    # A bench steady burst (seed 81, 9 frames, all averaged), printed 1969-12-03 / 2032-12-03 /
    # 0907: the deblurred whole read no expiry, the plain whole 2032-12-03 at 1.0; one half read
    # it at 0.999 and 1.0, the other half none. least_sure alone dropped it.
    birth, expiry = date(1969, 12, 3), date(2032, 12, 3)

    def read(e: date | None, sure: float = 1.0, b: date | None = birth) -> CardFaceReading:
        return CardFaceReading(FieldReading(b, 1.0) if b else None,
                               FieldReading(e, sure) if e else None, FieldReading("0907", 1.0))

    wholes = [read(None), read(expiry)]
    pairs = [(read(expiry, 0.999), read(expiry)), (read(None), read(None, b=date(1969, 12, 3)))]
    decided = burst.decide_averaged(9, wholes, pairs, today=TODAY)
    assert _values(decided) == (birth, expiry, "0907")
    assert decided.expiry_date is not None and decided.expiry_date.confidence == 0.999
    # Not without a half that read it in both processings...
    one_way = [(read(expiry, 0.999), read(None)), pairs[1]]
    assert burst.decide_averaged(9, wholes, one_way, today=TODAY).expiry_date is None
    # ...nor when its month and day are not the birth's ("plain whole alone": 2027/9/2 for a
    # card printed 9/21, born 9/21)...
    other = date(2032, 12, 4)
    odd = burst.decide_averaged(9, [read(None), read(other)],
                                [(read(other, 0.999), read(other)), pairs[1]], today=TODAY)
    assert odd.expiry_date is None
    # ...nor when a reading says otherwise.
    against = [pairs[0], (read(None), read(date(2033, 12, 3), 0.6))]
    assert burst.decide_averaged(9, wholes, against, today=TODAY).expiry_date is None


def test_the_confidence_shown_is_that_of_the_readings_a_value_rests_on() -> None:
    # The page marks a value below 0.95 for a careful look, so the shown figure must not be
    # that of a surer reading which only agrees.
    silent = _reading(birth=None, expiry=None, code=None)
    deblurred = _reading(confidence=0.999)
    plain = _reading(confidence=0.96)
    alone = burst.combine([silent, silent], trusted=[burst.least_sure([deblurred, plain])],
                          shared=[deblurred, plain])
    assert alone.security_code is not None and alone.security_code.confidence == 0.96
    # Two halves alike: the weaker of them, however sure the whole average is.
    halves = burst.combine([_reading(confidence=0.9), _reading(confidence=0.97)], trusted=[],
                           shared=[deblurred])
    assert halves.birth_date is not None and halves.birth_date.confidence == 0.9
    # Both grounds: the stronger ground speaks (the whole alone at 0.96 over halves at 0.9).
    both = burst.combine([_reading(confidence=0.9), _reading(confidence=0.92)],
                         trusted=[burst.least_sure([deblurred, plain])], shared=[deblurred, plain])
    assert both.expiry_date is not None and both.expiry_date.confidence == 0.96


def test_the_whole_average_alone_needs_to_be_surer_of_the_code() -> None:
    # A bench steady burst (seed 402, 11 frames, 9 averaged) printed 8436: the whole read 8435
    # (0.992), so did one half of 4 frames in both processings, and the other half read no
    # code. Nothing contradicted it, and it was taken at SOLO_CONFIDENCE.
    birth, expiry = date(1967, 10, 25), date(2029, 10, 25)

    def read(code: str | None, sure: float, expiry_sure: float = 0.999) -> CardFaceReading:
        return CardFaceReading(FieldReading(birth, 0.99998), FieldReading(expiry, expiry_sure),
                               FieldReading(code, sure) if code else None)

    # The deblurred whole was sure of all three at 0.95, so the plain one was not read.
    wholes = [read("8435", 0.99197, 0.99871)]
    pairs = [(read(None, 0.0, 0.99963), read(None, 0.0, 0.9971)),
             (read("8435", 0.98941, 0.91391), read("8435", 0.98089, 0.97216))]
    decided = burst.decide_averaged(9, wholes, pairs, today=TODAY)
    assert decided.security_code is None
    # The dates, read alike by both halves and the whole, stay.
    assert _values(decided)[:2] == (birth, expiry)
    # A code the whole is sure of at AVERAGE_CODE_SOLO_CONFIDENCE in both processings stands.
    sure = [read("8436", 0.998, 0.99871)]
    assert _values(burst.decide_averaged(9, sure, pairs[:1] * 2, today=TODAY))[2] == "8436"


def test_two_halves_give_the_code_only_when_each_is_sure_of_it() -> None:
    # test_burst "plain whole surer" with the frames smeared 3 px averaged too (10 of 12): the
    # whole read 8586 (printed 8686) at 0.976 and 0.973, one half at 0.871 (plain), the other at
    # 0.91 (deblurred); alike, the halves gave it.
    birth, expiry = date(2007, 10, 21), date(2027, 10, 21)

    def read(code: str | None, sure: float) -> CardFaceReading:
        return CardFaceReading(FieldReading(birth, 0.999), FieldReading(expiry, 0.999),
                               FieldReading(code, sure) if code else None)

    wholes = [read("8586", 0.976), read("8586", 0.973)]
    pairs = [(read(None, 0.0), read("8586", 0.871)), (read("8586", 0.91), read(None, 0.0))]
    decided = burst.decide_averaged(10, wholes, pairs, today=TODAY)
    assert _values(decided) == (birth, expiry, None)
    # Each half at HALF_CODE_CONFIDENCE: two independent opinions, the code is given.
    sure = [(read(None, 0.0), read("8686", 0.96)), (read("8686", 0.97), read(None, 0.0))]
    given = burst.decide_averaged(10, [read("8686", 0.976)], sure, today=TODAY)
    assert _values(given) == (birth, expiry, "8686")
    # A weak half still vetoes: a sure half's code against it is dropped.
    against = [(read(None, 0.0), read("8586", 0.871)), (read("8686", 0.97), read(None, 0.0))]
    assert burst.decide_averaged(10, [read("8686", 0.999)], against,
                                 today=TODAY).security_code is None


def test_an_average_of_few_frames_stands_alone_on_dates_printed_alike_only() -> None:
    # A bench steady burst of 5 frames (all averaged), printed 1951-06-04 / 2035-06-04 / 1142:
    # the whole read all three sure; a half of 3 read the birth, a half of 2 did not.
    birth, expiry = date(1951, 6, 4), date(2035, 6, 4)

    def read(b: date | None = birth, e: date | None = expiry, code: str | None = "1142",
             sure: float = 0.999) -> CardFaceReading:
        return CardFaceReading(FieldReading(b, sure) if b else None,
                               FieldReading(e, sure) if e else None,
                               FieldReading(code, sure) if code else None)

    wholes = [read(sure=0.9999)]
    pairs = [(read(e=None, sure=0.997), read()), (read(b=None, sure=0.956), read(b=None))]
    assert _values(burst.decide_averaged(5, wholes, pairs, today=TODAY)) == (birth, expiry, "1142")
    assert _values(burst.decide_averaged(4, wholes, pairs, today=TODAY))[0] == birth
    # Under MIN_FRAMES_DATES_ALONE nothing stands alone: the birth, in one half only, is lost.
    assert burst.decide_averaged(3, wholes, pairs, today=TODAY).birth_date is None
    # Never the code: halves silent on it leave it unread, however sure the whole.
    no_code = [(read(e=None, code=None), read(code=None)), (read(b=None, code=None),) * 2]
    assert _values(burst.decide_averaged(5, wholes, no_code, today=TODAY)) == (birth, expiry, None)
    # Each half reads one date, so only the whole can give the other: (birth, None) or
    # (None, expiry) when it may not.
    split = [(read(e=None, code=None),) * 2, (read(b=None, code=None),) * 2]
    assert _values(burst.decide_averaged(5, wholes, split, today=TODAY))[:2] == (birth, expiry)
    # Not when the two dates' month and day differ, though a half read each alike...
    other_day = date(2035, 6, 5)
    odd = [read(e=other_day, sure=0.9999)]
    odd_split = [(read(e=None, code=None),) * 2, (read(b=None, e=other_day, code=None),) * 2]
    assert _values(burst.decide_averaged(5, odd, odd_split, today=TODAY))[:2] != (birth, other_day)
    # ...nor under FEW_FRAMES_DATE_CONFIDENCE...
    unsure = burst.decide_averaged(5, [read(sure=0.985)], split, today=TODAY)
    assert _values(unsure)[:2] != (birth, expiry)
    # ...nor when no half's reading shows one of them (the birth here)...
    expiry_only = [(read(b=None), read(b=None)), (read(b=None, e=None),) * 2]
    assert _values(burst.decide_averaged(5, wholes, expiry_only, today=TODAY))[:2] == (None, None)
    # ...nor when a reading of a half reads one of them otherwise: the expiry is then dropped
    # as disputed, and the birth it vouched for goes with it (review).
    disputed = [(read(e=None, code=None), read(e=date(2035, 6, 14), code=None)),
                (read(b=None, code=None),) * 2]
    assert _values(burst.decide_averaged(5, wholes, disputed, today=TODAY))[:2] == (None, None)
    # The same when the whole's other processing reads one otherwise.
    two_ways = [read(sure=0.9999), read(e=date(2035, 6, 14), code=None, sure=0.9999)]
    assert _values(burst.decide_averaged(5, two_ways, split, today=TODAY))[:2] == (None, None)


def test_the_whole_average_alone_gives_no_expiry_already_past() -> None:
    # A bench steady burst (15 frames, 10 averaged) printed 2026-06-06 (past on the bench's day):
    # the whole and one half read 2025-06-06, sure at 0.999; the other half read no expiry.
    birth, past = date(2008, 6, 6), date(2025, 6, 6)

    def read(expiry: date | None, sure: float) -> CardFaceReading:
        return CardFaceReading(FieldReading(birth, 0.9999),
                               FieldReading(expiry, sure) if expiry else None,
                               FieldReading("3937", 0.9999))

    wholes = [read(past, 0.99856)]
    pairs = [(read(past, 0.99993), read(past, 0.99949)), (read(None, 0.0), read(None, 0.0))]
    decided = burst.decide_averaged(10, wholes, pairs, today=TODAY)
    assert _values(decided) == (birth, None, "3937")
    # Two halves alike still give it (a card that has expired reads as one).
    both = burst.decide_averaged(10, wholes, [pairs[0], pairs[0]], today=TODAY)
    assert _values(both)[1] == past
    # An expiry still to come stands alone as before.
    assert _values(burst.decide_averaged(10, wholes, pairs, today=date(2025, 1, 1)))[1] == past
    # Under MIN_FRAMES_ALONE frames the birth, which a past expiry vouched for, goes with it
    # (here the second half read nothing at all; one half alone gives nothing).
    nothing = CardFaceReading.failed(CardFaceReason.UNREADABLE)
    few = burst.decide_averaged(5, wholes, [pairs[0], (nothing, nothing)], today=TODAY)
    assert _values(few)[:2] == (None, None)
    assert _values(burst.decide_averaged(5, wholes, [pairs[0], (nothing, nothing)],
                                         today=date(2025, 1, 1)))[:2] == (birth, past)


def test_a_whole_read_two_ways_that_a_half_contradicts_stands_alone_on_nothing() -> None:
    # Both processings read; neither reading is the merged one that stands alone, so the
    # contradiction must be found on the readings themselves (review of de9ab37).
    deblurred = CardFaceReading(FieldReading(BIRTH, 0.99), FieldReading(EXPIRY, 0.99),
                                FieldReading("8586", 0.93))
    plain = CardFaceReading(FieldReading(BIRTH, 0.97), FieldReading(EXPIRY, 0.98),
                            FieldReading("8586", 0.98))
    half_right = _reading(birth=None, expiry=None, code="8686", confidence=0.97)
    silent = _reading(birth=None, expiry=None, code=None)
    got = burst.decide_averaged(10, [deblurred, plain], [(half_right, silent), (silent, silent)],
                                today=TODAY)
    assert _values(got) == (None, None, None)
    # Without the contradiction the same whole stands alone on the dates, but not on the code:
    # its deblurred reading of it is under SOLO_CONFIDENCE.
    half_date = _reading(birth=BIRTH, expiry=None, code=None, confidence=0.9)
    got = burst.decide_averaged(10, [deblurred, plain], [(half_date, silent), (silent, silent)],
                                today=TODAY)
    assert _values(got) == (BIRTH, EXPIRY, None)


def test_a_whole_average_stands_alone_only_when_some_half_read_anything() -> None:
    nothing = CardFaceReading.failed(CardFaceReason.UNREADABLE)
    one_date = _reading(expiry=None, code=None)
    assert burst.whole_may_stand_alone([nothing, nothing, one_date, nothing])
    assert not burst.whole_may_stand_alone([nothing, nothing, nothing, nothing])


def test_a_half_read_twice_is_one_opinion_without_what_its_readings_disagree_on() -> None:
    deblurred = _reading(code=None, confidence=0.97)
    plain = _reading(expiry=date(2035, 7, 23), confidence=0.99)
    merged = burst.one_opinion(deblurred, plain)
    assert _values(merged) == (BIRTH, None, "4821")
    # Read by both: at the less sure (one processing does not speak for both, as least_sure).
    assert merged.birth_date is not None and merged.birth_date.confidence == 0.97
    # Read by one: at its own.
    assert merged.security_code is not None and merged.security_code.confidence == 0.99


def test_another_processing_of_a_half_vetoes_and_contradicts_the_whole() -> None:
    # Measured on a steady bench burst of 8 frames (code printed 2689): the whole read 2659 at
    # 0.96 deblurred and 0.99 plain; the deblurred halves read no code; one plain half read
    # 2689 at 0.90.
    whole = _reading(code="2659", confidence=0.99)
    dates_only = _reading(code=None, confidence=0.99)
    nothing = CardFaceReading.failed(CardFaceReason.UNREADABLE)
    plain_code = _reading(code="2689", confidence=0.90)
    raw = [nothing, nothing, dates_only, plain_code]
    halves = [burst.one_opinion(nothing, nothing), burst.one_opinion(dates_only, plain_code)]
    combined = burst.combine(halves, trusted=[whole], shared=[whole], vetoes=raw)
    # The code is dropped, and the whole, contradicted, stands alone on nothing else either.
    assert _values(combined) == (None, None, None)
    # Without the plain halves, the whole's wrong code would have been taken.
    assert burst.combine([nothing, dates_only], trusted=[whole], shared=[whole]
                         ).security_code.value == "2659"  # type: ignore[union-attr]


# Bench bursts (a hand at arm's length, 640x480, JPEG 85) that gave a wrong value under
# earlier rules: the card, and each frame's card width, rotation, smear length and angle and
# noise seed, exactly as the bench drew them (rounded, the first reads blank instead).
_WRONG_BEFORE = {
    # Seed 13, burst 3: the whole of 7 read the code 6354 at 0.99; every half read nothing.
    "silent halves": (
        synth.CardFront(birth_date=date(2013, 5, 7), expiry_date=date(2034, 5, 7),
                        security_code="6384", name="佐藤\u3000美咲", sex="女", serif=True),
        ((202, -5.050079601785784, 2.0, 52.367320105488936, 746455457),
         (201, -5.457465133482604, 2.0, 79.53657601283967, 932576305),
         (200, -4.954702202284328, 0.0, 23.28406731909202, 105599169),
         (202, -5.323507009383355, 3.0, 133.13846128146685, 10606130),
         (201, -3.8320839244216236, 0.0, 16.143122361647254, 798117670),
         (200, -4.966840632626183, 0.0, 8.451130608524643, 510672961),
         (205, -4.00100317378798, 0.0, 93.58125434453925, 946038040),
         (201, -4.510236149960255, 3.0, 9.760357224479389, 111553621)),
    ),
    # Seed 14, burst 31: a half of 5 read the expiry 2025/1/23 (printed 2028) at 0.98, alone.
    "a half alone": (
        synth.CardFront(birth_date=date(2012, 1, 23), expiry_date=date(2028, 1, 23),
                        security_code="4336", name="山田\u3000太郎",
                        address=("北海道札幌市中央区北一条西", "二丁目1番地"), serif=True),
        ((206, -0.2354506025621943, 0.0, 162.02618298617213, 985768715),
         (210, -0.7498263546962975, 2.0, 33.23609378354066, 402186291),
         (210, -0.6938504585684944, 0.0, 0.6180395367278235, 111140062),
         (207, 0.57652248695809, 0.0, 26.187867501194514, 699173155),
         (210, -0.8079083100990796, 2.0, 91.81394051212729, 167371996),
         (206, -0.9747458298045124, 0.0, 64.29616353477734, 473441997),
         (205, 0.08051138065244423, 2.0, 58.54774929802874, 558995502),
         (208, 0.6354554519715603, 3.0, 130.42116737647703, 482614588),
         (206, -1.0862862004703528, 2.0, 43.61270458329351, 340188321),
         (206, -0.12780136812584342, 0.0, 1.6109404396222526, 400351227)),
    ),
    # Seed 14, burst 35: the whole of 8 read the code 2659 (printed 2689); only a plain half
    # read otherwise.
    "plain half": (
        synth.CardFront(birth_date=date(1971, 3, 13), expiry_date=date(2030, 3, 13),
                        security_code="2689", name="鈴木\u3000一郎",
                        address=("北海道札幌市中央区北一条西", "二丁目1番地"),
                        birth_in_era=False),
        ((202, -2.2209576204426758, 3.0, 87.98022521792147, 248835581),
         (202, -1.599599985612711, 3.0, 27.83479734227224, 610022970),
         (199, -1.013914208066743, 0.0, 18.294274463816958, 923350816),
         (201, -0.5079506780201681, 3.0, 58.20180911168369, 923502025),
         (205, -0.6520145402149773, 3.0, 93.46871238625633, 981819780),
         (199, -1.8834787759992393, 0.0, 11.086512726277999, 950932419),
         (205, -0.8464893110713003, 3.0, 17.957073493504137, 341118218),
         (202, -1.325507894014321, 0.0, 111.40289175733679, 97404876),
         (204, -1.500357265958024, 2.0, 7.022893666822663, 629688799),
         (205, -2.0637418151062468, 0.0, 122.11298699253274, 1004649805)),
    ),
    # Seed 15, burst 32: the whole of 4 frames read the code 5119 (printed 5419) at 0.99; one
    # half read the dates, and its plain average the same wrong code.
    "four frames' code": (
        synth.CardFront(birth_date=date(1949, 9, 23), expiry_date=date(2033, 9, 23),
                        security_code="5419", sex="女"),
        ((217, 4.753482605233442, 0.0, 60.66515368416648, 953870776),
         (213, 4.300092313625527, 0.0, 101.16943393694733, 809716323),
         (217, 6.031273841529062, 3.0, 39.14291985008831, 893269218),
         (218, 5.180258715372027, 0.0, 137.50952887353327, 752107885),
         (213, 5.907127541217482, 3.0, 37.9895269104514, 683104735),
         (213, 4.2323116845145545, 0.0, 69.47601885100018, 584707504)),
    ),
    # bench page_live_webcam_arm (80 cards), card 69's first burst of 12 steady frames (8
    # averaged): the whole read the code 8586 (printed 8686) at 0.93 deblurred and 0.98 plain,
    # a half of 4 read it alike; the plain reading stood alone for both processings.
    "plain whole surer": (
        synth.CardFront(birth_date=date(2007, 10, 21), expiry_date=date(2027, 10, 21),
                        security_code="8686", name="山田\u3000太郎",
                        address=("大阪府大阪市北区中之島", "一丁目3番20号"), sex="女",
                        serif=True),
        ((218, -5.201652467158393, 3.0, 135.82123928934632, 363861227),
         (218, -5.147461980498349, 0.0, 144.69268732061533, 399958012),
         (221, -4.726945559399083, 0.0, 151.87343936637168, 522655410),
         (220, -4.29434907092954, 3.0, 42.83564161174408, 469007310),
         (219, -5.3444423207178025, 0.0, 78.04527968055024, 872072630),
         (218, -4.2732210862961955, 0.0, 52.710297865138706, 802429423),
         (221, -4.569712598751576, 3.0, 56.512785929977376, 334008066),
         (216, -5.234505550156161, 3.0, 81.06660215606973, 615733863),
         (218, -5.518971176727578, 0.0, 45.12870327431788, 829151090),
         (220, -4.4107072810234875, 3.0, 107.18782110167808, 165776091),
         (216, -4.438565066389399, 3.0, 139.5094158756587, 721680699),
         (221, -5.596529623588227, 0.0, 52.17563203685941, 807953298)),
    ),
    # Seed 27, burst 1 of the moving hand: the whole of 5 frames, sure at 0.98 in both
    # processings, read the birth year 1976 (printed 1986); no half read the birth date.
    "five frames' year": (
        synth.CardFront(birth_date=date(1986, 8, 12), expiry_date=date(2028, 5, 6),
                        security_code="7913", name="佐藤\u3000美咲"),
        ((248, -5.313608641051038, 3.0, 45.0, 738174907),
         (219, -2.947781074377241, 9.0, 0.0, 176955145),
         (229, -2.5828139025075085, 3.0, 45.0, 252013540),
         (258, -2.580379734939334, 7.0, 0.0, 1025719794),
         (257, 5.623048307160541, 7.0, 135.0, 259699409),
         (203, -1.5253619136982604, 0.0, 135.0, 407252598)),
    ),
    # Seed 61, burst 6 of the moving hand (no frame unsmeared; 7 averaged): the plain whole
    # read the expiry 2027/9/2 (printed 2027/9/21) at 0.958 while the deblurred whole read no
    # expiry and no half read one: the plain reading stood alone.
    "plain whole alone": (
        synth.CardFront(birth_date=date(2007, 9, 21), expiry_date=date(2027, 9, 21),
                        security_code="1487", name="番号\u3000花子",
                        address=("大阪府大阪市北区中之島", "一丁目3番20号")),
        ((229, 2.8727988538798694, 3.0, 135.0, 537121549),
         (244, -5.192467967395457, 7.0, 0.0, 431833143),
         (230, 2.6659661133338783, 11.0, 45.0, 514560845),
         (209, 4.7644655499870865, 3.0, 0.0, 306674033),
         (225, -2.9748211876997694, 7.0, 135.0, 536935524),
         (230, 4.154903277685394, 7.0, 45.0, 142416659),
         (220, -4.531701431967651, 5.0, 135.0, 559296822)),
    ),
    # bench page_live_webcam_arm (full run, 6 cards), card 4's third burst of 12 steady frames
    # of a card about 201 px wide as measured: the whole and both halves, deblurred and plain,
    # read the code 0050 (printed 0080), sure at 0.89-0.998 (CODE_MIN_AVERAGED_WIDTH_PX).
    "too small for the code": (
        synth.CardFront(birth_date=date(1932, 9, 3), expiry_date=date(2032, 9, 3),
                        security_code="0080", name="番号\u3000花子",
                        address=("福岡県福岡市博多区東公園", "7番7号"), sex="女"),
        ((207, -1.5771517327945026, 2.0, 85.47069436286796, 834167),
         (207, -2.5445074092616577, 2.0, 127.39401309419154, 529051566),
         (207, -2.8645451553107515, 0.0, 73.26202049065056, 178144009),
         (208, -2.9013453543615215, 3.0, 52.48308487482133, 472678981),
         (205, -1.526356202331921, 0.0, 131.7282900488684, 408105979),
         (206, -1.3519795548345719, 0.0, 90.55392856239195, 7022430),
         (202, -2.795179560969415, 0.0, 25.270745310304275, 875963421),
         (205, -2.931375542260935, 0.0, 176.4360872700539, 699427556),
         (205, -2.2791894189130613, 0.0, 36.82237124821677, 46974739),
         (203, -1.692065797046176, 0.0, 45.43644195924328, 116427738),
         (206, -2.3963429569416546, 2.0, 28.82695912919818, 315866848),
         (207, -2.7897932471349387, 0.0, 148.4496709230691, 676467982)),
    ),
}


def _photos(front: synth.CardFront, frames: tuple[tuple[int, float, float, float, int], ...],
            wider: int = 0, *, upside_down: bool = False) -> list[bytes]:
    """The bench's frames of `front` (a 640x480 webcam, JPEG 85), the card `wider` px wider."""
    return [synth.render_jpeg(front, synth.Scene(
        canvas=(640, 480), jpeg_quality=85, card_width=width + wider, rotation=rotation,
        motion=smear, motion_angle=angle, seed=seed, upside_down=upside_down))
        for width, rotation, smear, angle, seed in frames]


@pytest.mark.parametrize("case", sorted(_WRONG_BEFORE))
def test_bench_bursts_that_gave_a_wrong_value_give_none(case: str) -> None:
    front, frames = _WRONG_BEFORE[case]
    got = _values(burst.read_card_burst_bytes(_photos(front, frames), today=TODAY))
    want = (front.birth_date, front.expiry_date, front.security_code)
    assert all(g is None or g == w for g, w in zip(got, want, strict=True)), got


# A fresh steady hand (seed 1711, burst 11) of 12 frames, the card 297-302 px wide: over the old
# code floor (280 px), its frames were read one by one, and one read the code 1356 as 1355, sure
# at 0.955 (over SOLO_CONFIDENCE), with nothing against it. Under the floor now
# (reader.CODE_MIN_CARD_WIDTH_PX, 320 px), the frames are averaged and read by its rules.
_HAND_300_PX = (
    synth.CardFront(birth_date=date(1993, 8, 4), expiry_date=date(2034, 8, 4),
                    security_code="1356", name="山田\u3000太郎",
                    address=("福岡県福岡市博多区東公園", "7番7号"), sex="女",
                    expiry_in_reiwa=True),
    ((298, 2.1661292120779114, 2.0, 31.174870116882897, 679090352),
     (302, 1.4487465340915193, 3.0, 173.68990107857348, 990386738),
     (299, 0.7705276974452067, 0.0, 143.99071170060984, 412865184),
     (297, 1.7311868928078178, 0.0, 160.15920035030686, 960870587),
     (298, 2.5985861791484526, 0.0, 25.489208777110857, 813039523),
     (301, 0.8916648816446386, 2.0, 35.095044240457234, 403646145),
     (299, 2.655835856452542, 0.0, 91.93450449845088, 46693863),
     (297, 2.1124217846894267, 2.0, 16.58896383415972, 640929080),
     (300, 1.8054420940986444, 0.0, 136.95077604837442, 989192618),
     (300, 1.331073604624939, 0.0, 171.9213960160741, 454053992),
     (301, 2.0527538760063817, 2.0, 136.64938180110096, 114629138),
     (302, 1.3856210642955236, 2.0, 20.599949631404268, 566777398)),
)


def test_frames_under_the_still_code_floor_are_averaged_and_read_right() -> None:
    front, frames = _HAND_300_PX
    images = [reader.decode_image(data) for data in _photos(front, frames)]
    widths = [burst.rank_frame(i, image).card_width for i, image in enumerate(images)
              if image is not None]
    assert 280 <= min(widths) and max(widths) < 320  # over the old floor, under the new one
    reading = burst.read_card_burst([image for image in images if image is not None],
                                    today=TODAY)
    assert reading.ok and _values(reading) == (front.birth_date, front.expiry_date, "1356")


def test_a_burst_never_gives_an_expiry_already_past() -> None:
    front = synth.CardFront()  # expires 2034-07-23
    frames = [synth.render_jpeg(front, synth.Scene(seed=seed)) for seed in (5, 6)]
    reading = burst.read_card_burst_bytes(frames, today=date(2035, 1, 1))
    assert _values(reading) == (front.birth_date, None, front.security_code)
    assert reading.reason is CardFaceReason.UNREADABLE


def test_averaged_frames_of_a_card_too_small_for_its_code_give_the_dates_and_say_so() -> None:
    front, frames = _WRONG_BEFORE["too small for the code"]
    small = burst.read_card_burst_bytes(_photos(front, frames), today=TODAY)
    assert _values(small) == (front.birth_date, front.expiry_date, None)
    assert small.reason is CardFaceReason.TOO_SMALL  # the page asks to come closer
    # The same hand a little nearer (the card 10 px wider): the code is read, and read right.
    nearer = burst.read_card_burst_bytes(_photos(front, frames, wider=10), today=TODAY)
    assert nearer.ok and _values(nearer) == (front.birth_date, front.expiry_date, "0080")


def _passes_turned_round(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Records, for each OCR pass over a whole card (reader._read_pass, the real one), whether
    it read a card an earlier pass read the other way round."""
    seen: list[np.ndarray] = []
    turned: list[bool] = []
    real = reader._read_pass

    def recording(card: np.ndarray, today: date) -> object:
        turned.append(any(np.array_equal(card, cv2.rotate(earlier, cv2.ROTATE_180))
                          for earlier in seen))
        seen.append(card.copy())
        return real(card, today)

    monkeypatch.setattr(reader, "_read_pass", recording)
    return turned


def test_the_averages_of_an_upright_burst_are_not_also_read_turned_round(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A moving hand, no frame unsmeared: no average reads every value, and each used to be
    # read turned round as well (twelve passes for six averages).
    front, frames = _WRONG_BEFORE["plain whole alone"]
    turned = _passes_turned_round(monkeypatch)
    got = _values(burst.read_card_burst_bytes(_photos(front, frames), today=TODAY))
    want = (front.birth_date, front.expiry_date, front.security_code)
    assert all(g is None or g == w for g, w in zip(got, want, strict=True)), got
    # The whole's first reading, both ways, found the card's words upright; the other
    # averages (the whole plain, each half deblurred and plain) were read upright only.
    assert turned == [False, True, False, False, False, False, False], turned


def test_an_upside_down_burst_is_turned_round_once_and_its_averages_read_that_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    front, frames = _WRONG_BEFORE["silent halves"]
    turned = _passes_turned_round(monkeypatch)
    # Upside down, the halves read the card's words but not every value: each used to be read
    # turned round too, four passes more.
    reading = burst.read_card_burst_bytes(
        _photos(front, frames, wider=30, upside_down=True), today=TODAY)
    assert _values(reading) == (front.birth_date, front.expiry_date, front.security_code)
    # Only the first reading of the whole was read both ways; the rest only the way it read.
    assert turned.count(True) == 1 and turned.index(True) == 1, turned
