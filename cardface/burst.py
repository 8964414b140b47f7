"""Reading a short burst of camera frames: rank them cheaply, OCR the best, combine.

The page sends a few frames taken while the card is held in the guide frame. Reading every one
would cost a second or two each, so the frames are first ranked by what is cheap to measure (is
there a card, how large, how sharp) and only the best few are read. A value is accepted when
two frames read it alike, or when one read it with high confidence and no other frame read
something else; frames that disagree on a value cancel it, because one of them misread and we
cannot tell which (a wrong value is worse than none).

A card too small for its security code in any one frame (a 640x480 webcam at arm's length shows
it 200-260 px wide; the page asks to come closer under about 210) is not read frame by frame:
the sharp frames (sharp in their least sharp direction, so that a long smear along the print's
lines does not pass for sharp) are straightened, aligned and averaged (cardface/fuse.py), and
the average of all of them is read together with the averages of the two disjoint halves of the
frames (each deblurred and plain). A value is kept when the two halves (independent frames) read
it alike (the security code each at HALF_CODE_CONFIDENCE), or when the average of all, made of
at least MIN_FRAMES_ALONE frames, reads it with high confidence (in both its processings,
deblurred and plain, where both were read, at the less sure; surer still for the security code)
while no half contradicts it anywhere and some half read anything at all; any reading of
something else drops it; an average of 4 or 5 frames stands alone on the two dates only, when
they were read with the same month and day (the card prints them twice). On 710 bench bursts
this gave no wrong value where the rules before it gave 8 (_read_averaged); 500 later bursts
found one more, which the code's higher bar (AVERAGE_CODE_SOLO_CONFIDENCE) closes. Under about
205 px (CODE_MIN_AVERAGED_WIDTH_PX) the code's print itself can show another code, which every
reading then agrees on: the code is not given there, and the page asks to come closer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Generic, TypeVar

import cv2
import numpy as np

from cardface import fuse, locate
from cardface.reader import (
    CODE_MIN_CARD_WIDTH_PX,
    JST,
    MIN_CARD_WIDTH_PX,
    MIN_IMAGE_SIDE,
    Orientation,
    dates_read_alike,
    decode_image,
    read_card_image,
    read_straight_card,
    without_past_expiry,
)
from cardface.result import CardFaceReading, CardFaceReason, FieldReading

logger = logging.getLogger(__name__)

T = TypeVar("T")

# A burst from the page is a second or two of frames; more is refused by the view.
MAX_FRAMES = 15
# At most this many frames are read; on two cores each costs about a second.
MAX_READ_FRAMES = 3
# One frame alone is believed only this sure of every character (the single-photo path accepts
# 0.85, but there the resident took the photo on purpose; here frames are many and unchosen).
SOLO_CONFIDENCE = 0.95
# Sharpness is measured on the card scaled to this width, so that a large card does not win
# merely by being large.
RANK_WIDTH = 480
# Small cards: frames at least this share as sharp as the sharpest are averaged, at most
# MAX_FUSED of them, sharpest first; sharpness is that of the least sharp direction
# (directional_sharpness), which falls with a smear's length whatever its direction: 3 px to
# 0.04-0.4 of an unsmeared frame, 5 px to 0.01-0.16, 7-11 px to 0.01-0.1. Frames smeared 2-3 px
# still help once the average is deconvolved (fuse.deblur); longer smears mostly fall below the
# share or behind MAX_FUSED sharper frames. Measured on 40 moving and 40 steady bench hands
# (seeds 4242, 4343; right of 40): the Laplacian's variance at 0.2 (before) 8 and 27; the
# directional measure at 0.2 7 and 26, at 0.1 11 and 28, at 0.05 16 and 31, at 0.03 20 and 31
# (18 and 30 with HALF_CODE_CONFIDENCE), at 0.015 21 moving. No wrong value in any of these, but
# at 0.1 and below a known bench burst (test_burst.py "plain whole surer") read its code 8586
# for 8686 in both halves: HALF_CODE_CONFIDENCE closes it. (A large card's frames, read one by
# one, keep the Laplacian's order, FrameRank.sharpness: the directional one lost a 720p bench
# burst that it read.)
FUSE_SHARPNESS_SHARE = 0.03
MAX_FUSED = 10
# The average of all frames is believed alone (at SOLO_CONFIDENCE) only when made of this many;
# the halves' averages are read as two independent opinions only when each has MIN_FRAMES_HALF.
# Measured over 710 bench bursts (5-15 frames, steady and moving hands, cached readings): an
# average of 4 or 5 frames, sure at 0.95-0.99 and contradicted by nothing, misread a code digit
# (5119 for 5419, 4965 for 4966) or a birth year (1976 for 1986); from 6 frames none did. 6
# instead of 4 costs reads: moving hands 115 -> 81 of 330, steady 237 -> 220 of 290, and none
# of 90 bursts of the 12 frames the page sends. (Still so on 500 later bursts: from 4 frames the
# whole read a code 5517 for 5617 at 0.99. Averages of 4-5 frames give the dates alone only:
# MIN_FRAMES_DATES_ALONE.)
# A half never stands alone: on a bench burst of 9 frames a half of 5, sure at 0.98 in both
# processings, read an expiry 2025 printed 2028 while nothing else read the expiry.
MIN_FRAMES_ALONE = 6
MIN_FRAMES_HALF = 2
# Two halves that read the security code alike give it only when each read it this sure. More
# frames smeared 2-3 px in the average make its print softer, and a 6 then reads as 5 in every
# average alike (the 6->5 and 8->5 confusions are systematic, not noise the halves would not
# share): on the 12 steady frames of test_burst.py "plain whole surer", 10 averaged, the halves
# read 8586 for 8686 at 0.87 and 0.91. A weaker half's code still vetoes any other.
HALF_CODE_CONFIDENCE = 0.95
# The whole average alone is believed on the security code only this sure (its least sure
# processing): the code is the smallest print and four free digits, with no calendar, era or
# twice-printed month and day to check it against. Measured on cached readings of 500 bench
# bursts (300 steady, 200 moving; seeds 401-403, 501-502): of 298 such code readings from 6
# frames or more, the wrong ones were sure at 0.963, 0.975 and 0.992 (8435 for 8436, from 9
# frames, with a half of 4 reading the same and nothing against it: taken at 0.95), the right
# ones 274 of 295 at 0.995 or more. The bar costs 6 of the 500 bursts a full reading (4 steady,
# 2 moving).
AVERAGE_CODE_SOLO_CONFIDENCE = 0.995
# An average of 4 or 5 frames is not believed alone on the code (see MIN_FRAMES_ALONE), but on
# the dates it is (_dates_alone): when both were read with the same month and day
# (reader.dates_read_alike: the card prints them twice, and a single still of a small card is
# believed on that at 0.85), each at FEW_FRAMES_DATE_CONFIDENCE and each read alike by some half.
# Cached readings of 146 such bench bursts (seeds 401-404 steady, 501-502 moving): of 252 whole
# date readings sure at 0.95, the one wrong (an expiry day 15 for 16) did not match the birth's
# day. Full readings: steady 243 -> 249 of 300 (seeds 401-403), moving 46 -> 58 of 200, steady
# 71 -> 72 of 100 (seed 404); no wrong value. (All of these were in view when the bar and the
# half were chosen: this is not a held-out measure.) The month and day say nothing of a year (an
# older average of 4-5 frames misread 1976 for 1986), hence 0.99 and the half that reads it
# alike.
MIN_FRAMES_DATES_ALONE = 4
FEW_FRAMES_DATE_CONFIDENCE = 0.99
# Averaged frames give the security code only when the card is at least this wide (the median of
# the widths of the frames chosen for the average, as rank_frame measures them): its digits are
# then 4.5 px tall.
# Below, the print itself can show another code: a bench page burst of 12 steady frames of a
# card about 201 px wide (measured; drawn 202-208) read 0050 for 0080 in the whole and in both
# halves, deblurred and plain, sure at 0.89-0.998, and the average shows a 5 to the eye too,
# so no rule on the readings can catch it. The same frames drawn 5 px wider read 0080. The
# dates (printed larger) are still given, and the page asks to come closer for the code
# (static/reset/cardface.js MIN_CARD_PX).
CODE_MIN_AVERAGED_WIDTH_PX = 205


@dataclass(frozen=True)
class FrameRank:
    """What the cheap look at one frame found: a card, its width, its sharpness (the
    Laplacian's variance, by which a large card's frames are read in turn) and its sharpness in
    its least sharp direction (directional_sharpness, by which a small card's frames are chosen
    for the average)."""

    index: int
    card_width: float
    sharpness: float
    quad: locate.CardQuad | None = None
    directional: float = 0.0

    @property
    def usable(self) -> bool:
        return self.card_width >= MIN_CARD_WIDTH_PX


# Second differences along the four directions a straight smear may take (0, 90, 45 and 135
# degrees). A smear flattens the print along its own direction only, and the Laplacian (their
# sum along 0 and 90) keeps what the other direction has: on bench webcam frames of a 200-260
# px card, a horizontal 11 px smear scored 55-137 and a diagonal 3 px one 45-105, so the
# Laplacian ranked the worse frame first. The least of the four falls with any smear, in
# order of its length: unsmeared frames 103-264, 3 px 9-40, 5 px 3-17, 7-11 px 2-12.
_DIRECTIONAL_SECOND_DIFFERENCES = (
    np.array([[1, -2, 1]], dtype=np.float32),
    np.array([[1], [-2], [1]], dtype=np.float32),
    np.array([[0, 0, 1], [0, -2, 0], [1, 0, 0]], dtype=np.float32),
    np.array([[1, 0, 0], [0, -2, 0], [0, 0, 1]], dtype=np.float32),
)


def directional_sharpness(gray: np.ndarray) -> float:
    """How sharp a grey card is in its least sharp direction: the least variance of its second
    differences along 0, 90, 45 and 135 degrees (see _DIRECTIONAL_SECOND_DIFFERENCES)."""
    plane = gray.astype(np.float32)
    return min(float(cv2.filter2D(plane, -1, kernel).var())
               for kernel in _DIRECTIONAL_SECOND_DIFFERENCES)


def rank_frame(index: int, image: np.ndarray) -> FrameRank:
    """The card's width and sharpness in one frame (a few milliseconds, no OCR)."""
    if min(image.shape[:2]) < MIN_IMAGE_SIDE:
        return FrameRank(index, 0.0, 0.0)
    image = locate.downscale(image)
    quad = locate.find_card(image)
    if quad is None:
        return FrameRank(index, 0.0, 0.0)
    gray = _straightened_gray(image, quad)
    sharpness = float(cv2.Laplacian(gray, cv2.CV_64F).var())
    return FrameRank(index, quad.width_px, sharpness, quad, directional_sharpness(gray))


def _straightened_gray(image: np.ndarray, quad: locate.CardQuad) -> np.ndarray:
    """The card in `image` (already downscaled: locate.downscale) straightened to RANK_WIDTH, in
    grey."""
    corners = np.asarray(quad.corners, dtype=np.float32)
    height = round(RANK_WIDTH / locate.ID1_ASPECT)
    target = np.asarray([[0, 0], [RANK_WIDTH - 1, 0], [RANK_WIDTH - 1, height - 1],
                         [0, height - 1]], dtype=np.float32)
    card = cv2.warpPerspective(image, cv2.getPerspectiveTransform(corners, target),
                               (RANK_WIDTH, height), flags=cv2.INTER_AREA)
    return cv2.cvtColor(card, cv2.COLOR_BGR2GRAY)


@dataclass
class _Votes(Generic[T]):
    """Every reading of one value.

    `independent` readings come from disjoint frames: two alike are accepted. A `trusted` one is
    accepted alone at SOLO_CONFIDENCE. `shared` ones share frames with the others (the average
    of all frames): never a second opinion, but like every reading they veto a different value.
    """

    independent: list[FieldReading[T]]
    trusted: list[FieldReading[T]]
    shared: list[FieldReading[T]]

    def decide(self) -> FieldReading[T] | None:
        pool = [*self.independent, *self.trusted, *self.shared]  # a reading twice is harmless
        values = {r.value for r in pool}
        if len(values) != 1:
            if len(values) > 1:
                logger.info("card face burst: frames disagree, value dropped")
            return None
        # The confidence shown beside the value (the page asks for a careful look below 0.95)
        # is that of the evidence it rests on, never of a reading that only agrees: two frames
        # alike rest on the weaker of the two surest; a trusted reading alone on itself (for the
        # whole average that is least_sure's, not its surer processing in `shared`).
        grounds: list[FieldReading[T]] = []
        if len(self.independent) >= 2:
            grounds.append(sorted(self.independent, key=_confidence, reverse=True)[1])
        grounds += [r for r in self.trusted if r.confidence >= SOLO_CONFIDENCE]
        return max(grounds, key=_confidence) if grounds else None


def _confidence(reading: FieldReading[Any]) -> float:
    return reading.confidence


def _readings_of(readings: Sequence[CardFaceReading], field: str) -> list[FieldReading[Any]]:
    """Every reading of one value (`field`) among `readings`, leaving out those that found none."""
    return [x for r in readings if (x := getattr(r, field)) is not None]


def _values_of(readings: Sequence[CardFaceReading], field: str) -> set[Any]:
    """The values `readings` found for `field`."""
    return {x.value for x in _readings_of(readings, field)}


def combine(readings: Sequence[CardFaceReading], *,
            trusted: Sequence[CardFaceReading] | None = None,
            shared: Sequence[CardFaceReading] = (),
            vetoes: Sequence[CardFaceReading] = ()) -> CardFaceReading:
    """One reading from independent frames' readings of the same card (see the module doc).

    `trusted` (by default every one of `readings`) may stand alone when sure; `shared` readings
    (the average of all frames) share frames with `readings` and may only veto. `vetoes` are
    other readings of the same frames as `readings` (another processing of each half): they
    only veto, and they side with `readings` against the whole (_whole_contradicted).
    """
    trusted = readings if trusted is None else trusted
    if _whole_contradicted([*readings, *vetoes], shared):
        trusted = [r for r in trusted if r not in shared]

    def votes(field: str) -> _Votes[Any]:
        return _Votes(_readings_of(readings, field), _readings_of(trusted, field),
                      _readings_of([*shared, *vetoes], field))

    birth, expiry, code = (votes(name).decide()
                           for name in ("birth_date", "expiry_date", "security_code"))
    if birth and expiry and birth.value >= expiry.value:
        birth = expiry = None
    if birth and expiry and code:
        return CardFaceReading(birth, expiry, code)
    reasons = [r.reason for r in [*readings, *shared] if r.reason is not None]
    if birth or expiry or code:
        # A value was read from the card, so it was found: "no card here" (some frames before
        # the hand settled) would contradict the filled value (seen on 2 of 50 moving bench
        # hands).
        reasons = [r for r in reasons if r is not CardFaceReason.NOT_A_CARD]
    # The most frequent reason explains best what went wrong (ties: the first frame's).
    reason = max(reasons, key=reasons.count) if reasons else CardFaceReason.UNREADABLE
    return CardFaceReading(birth, expiry, code, reason)


def _whole_contradicted(independent: Sequence[CardFaceReading],
                        shared: Sequence[CardFaceReading]) -> bool:
    """Whether an independent reading (a half) says otherwise than the whole average on some
    value, with no independent reading on the whole's side.

    Such a whole misreads this burst somewhere and no longer stands alone on any value: on a
    bench moving burst the whole of 5 frames, sure of all three, misread the code (a half read
    it right) and, with both halves silent, the expiry year too - that expiry alone would have
    been taken. Over 400 bench bursts this took wrong values from 5 to 4 and cost no value that
    was read right.
    """
    for field in ("birth_date", "expiry_date", "security_code"):
        wholes = _values_of(shared, field)
        halves = _values_of(independent, field)
        if len(wholes) == 1 and halves and wholes.isdisjoint(halves):
            return True
    return False


def _read_averaged(images: Sequence[np.ndarray], ranks: Sequence[FrameRank],
                   today: date) -> CardFaceReading:
    """Small cards: the sharp frames averaged, and the halves' averages as the second opinion."""
    ranks = sorted(ranks, key=lambda r: r.directional, reverse=True)
    sharpest = ranks[0].directional
    chosen = [r for r in ranks if r.directional >= FUSE_SHARPNESS_SHARE * sharpest][:MAX_FUSED]
    cards = [locate.warp_card(locate.downscale(images[r.index]), r.quad)
             for r in chosen if r.quad is not None]
    aligned = fuse.align(cards)
    del cards
    logger.info("card face burst: %d of %d frames averaged", len(aligned), len(images))

    # Every average is of frames laid onto the same one: once a reading knows which way round
    # they read, the others are read that way only (reader.Orientation).
    orientation = Orientation()

    def read(group: Sequence[np.ndarray], *, deblurred: bool = True) -> CardFaceReading:
        average = fuse.average(group)
        return read_straight_card(fuse.deblur(average) if deblurred else average, today,
                                  orientation=orientation)

    wholes = [read(aligned)]
    aligned = _upright(aligned, orientation)
    if not _sure(wholes[0]):
        # The plain average too: deblurring the upscaled print helps most values but now and
        # then breaks one glyph that the plain average keeps.
        wholes.append(read(aligned, deblurred=False))
        aligned = _upright(aligned, orientation)
    if len(aligned) < 2 * MIN_FRAMES_HALF:
        # One to three small frames: their reading of the code is exactly what cannot be
        # trusted (reader.CODE_MIN_CARD_WIDTH_PX), and there are no halves to confirm it.
        return combine([], trusted=[], shared=wholes)
    # Each half is read twice, deblurred and plain: a glyph one processing breaks the other
    # may keep, and either misreading vetoes the value.
    pairs = [(read(group), read(group, deblurred=False))
             for group in (aligned[0::2], aligned[1::2])]
    reading = decide_averaged(len(aligned), wholes, pairs, today=today)
    width = float(np.median([r.card_width for r in chosen]))
    return _without_code_under(reading, width)


def _upright(aligned: list[np.ndarray], orientation: Orientation) -> list[np.ndarray]:
    """The aligned cards turned upright where `orientation` learnt they read turned round;
    from then on they are known upright."""
    if not orientation.turned:
        return aligned
    orientation.turned = False
    return [cv2.rotate(card, cv2.ROTATE_180) for card in aligned]


def _without_code_under(reading: CardFaceReading, card_width: float) -> CardFaceReading:
    """`reading` of averaged frames of a card `card_width` px wide, without its security code
    when the card is under CODE_MIN_AVERAGED_WIDTH_PX: the page is then told the card is too
    small, and asks to come closer."""
    if card_width >= CODE_MIN_AVERAGED_WIDTH_PX:
        return reading
    logger.info("card face burst: card under %d px, no security code",
                CODE_MIN_AVERAGED_WIDTH_PX)
    return replace(reading, security_code=None, reason=CardFaceReason.TOO_SMALL)


def decide_averaged(frames: int, wholes: Sequence[CardFaceReading],
                    pairs: Sequence[tuple[CardFaceReading, CardFaceReading]], *,
                    today: date) -> CardFaceReading:
    """The values of a small card's burst from the readings of its averages: `wholes` of all
    `frames` frames (deblurred, and plain when that was not sure of all), `pairs` of each
    half (deblurred, plain).

    The whole stands alone only when made of enough frames, when some half read anything at
    all and when no half contradicts it anywhere (_whole_contradicted), and then only as sure as
    its least sure processing (for the security code at least AVERAGE_CODE_SOLO_CONFIDENCE);
    under MIN_FRAMES_ALONE frames it stands alone on the dates only (_dates_alone). A half
    (at most 5 frames) never stands alone.
    """
    halves = [_without_weak_code(one_opinion(*pair)) for pair in pairs]
    raw = [reading for pair in pairs for reading in pair]
    # Decided here, on the readings themselves: combine recognises a contradicted whole among
    # its trusted readings by equality, and least_sure's merged reading equals neither.
    alone = (frames >= MIN_FRAMES_DATES_ALONE and whole_may_stand_alone(raw)
             and not _whole_contradicted([*halves, *raw], wholes))
    trusted = [_what_the_whole_gives_alone(frames, wholes, pairs, today)] if alone else []
    return combine(halves, trusted=trusted, shared=wholes, vetoes=raw)


def _without_weak_code(half: CardFaceReading) -> CardFaceReading:
    """A half's opinion without a security code read under HALF_CODE_CONFIDENCE (it still
    vetoes: the caller keeps the half's readings as vetoes)."""
    code = half.security_code
    if code is None or code.confidence >= HALF_CODE_CONFIDENCE:
        return half
    return replace(half, security_code=None)


def _what_the_whole_gives_alone(frames: int, wholes: Sequence[CardFaceReading],
                                pairs: Sequence[tuple[CardFaceReading, CardFaceReading]],
                                today: date) -> CardFaceReading:
    """The whole average as one reading at its least sure processing, without what it may not
    give alone: the code under AVERAGE_CODE_SOLO_CONFIDENCE, an expiry already past, anything
    but the dates under MIN_FRAMES_ALONE frames (_dates_alone). What it drops it still vetoes,
    as one of `wholes`."""
    whole = _dates_one_processing_missed(least_sure(wholes), wholes, pairs)
    if whole.expiry_date is not None and whole.expiry_date.value < today:
        # A card past its expiry cannot be used here, so a past expiry is worth little and is
        # the likelier misread: on a bench steady burst (10 frames) the whole and a half read
        # 2025-06-06 for 2026-06-06 (a 6 read as 5, as in the codes 8435, 5517 and 6534), sure
        # at 0.999, the other half silent. (Two halves alike would give it here, but no burst
        # answers a past expiry: read_card_burst drops it, reader.without_past_expiry. It
        # still vetoes, here and as a frame's reading.)
        whole = replace(whole, expiry_date=None)
    if frames < MIN_FRAMES_ALONE:
        whole = _dates_alone(whole, wholes, [reading for pair in pairs for reading in pair])
    code = whole.security_code
    if code is not None and code.confidence < AVERAGE_CODE_SOLO_CONFIDENCE:
        whole = replace(whole, security_code=None)
    return whole


def _dates_one_processing_missed(
    whole: CardFaceReading, wholes: Sequence[CardFaceReading],
    pairs: Sequence[tuple[CardFaceReading, CardFaceReading]],
) -> CardFaceReading:
    """`whole` (least_sure of `wholes`) with a date back that one processing of the whole did
    not read, where three things vouch for it: the other processing read it, some half read
    it alike in both its processings (`pairs`: deblurred and plain, half by half), and it
    carries the same month and day as the other date, which the whole read both ways
    (reader.dates_read_alike: the card prints them twice). At the least sure of these readings.

    least_sure alone lost it: on a bench steady burst (seed 81, 9 frames) the deblurred whole
    read no expiry, the plain whole read 2032-12-03 at 1.0, a half read it at 0.999 and 1.0,
    the birth was 1969-12-03. The burst that made least_sure strict ("plain whole alone": an
    expiry 2027/9/2 for 9/21) had no half reading it and a birth on 9/21: it stays out.
    Readings that say otherwise still drop it (combine's vetoes). On cached readings of 80
    later bench bursts (seed 83, 40 steady; seed 84, 40 moving) it gave one date more in each
    (one more burst read right, steady 27 -> 28 of 40) and no wrong value.
    """
    for name, other in (("birth_date", "expiry_date"), ("expiry_date", "birth_date")):
        values = _values_of(wholes, name)
        if getattr(whole, name) is not None or getattr(whole, other) is None or len(values) != 1:
            continue
        alike = [pair for pair in pairs
                 if len(_readings_of(pair, name)) == 2 and _values_of(pair, name) == values]
        if not alike:
            continue
        date_read = min([*_readings_of(wholes, name), *_readings_of(
            [r for pair in alike for r in pair], name)], key=_confidence)
        birth, expiry = ((date_read, whole.expiry_date) if name == "birth_date"
                         else (whole.birth_date, date_read))
        if dates_read_alike(birth, expiry):
            whole = replace(whole, birth_date=birth, expiry_date=expiry)
    return whole


def _dates_alone(whole: CardFaceReading, wholes: Sequence[CardFaceReading],
                 half_readings: Sequence[CardFaceReading]) -> CardFaceReading:
    """What an average of few frames may give alone: the two dates, or nothing.

    Both must carry the same month and day, each at FEW_FRAMES_DATE_CONFIDENCE; each must be
    read alike by some reading of a half (not a second opinion, its frames are among the
    whole's, but the year too is then seen in fewer frames, and the month and day say nothing
    of it); and no reading, of a half or of the whole, may read either otherwise. Each date
    vouches for the other, so one disputed takes both: combine decides each value on its own
    and would keep the undisputed one alone (review).
    """
    birth, expiry = whole.birth_date, whole.expiry_date

    def stands(name: str, x: FieldReading[date] | None) -> bool:
        return (x is not None and x.confidence >= FEW_FRAMES_DATE_CONFIDENCE
                and _values_of(half_readings, name) == {x.value}
                and _values_of(wholes, name) == {x.value})

    if not (dates_read_alike(birth, expiry) and stands("birth_date", birth)
            and stands("expiry_date", expiry)):
        birth = expiry = None
    return CardFaceReading(birth, expiry, None, whole.reason)


def least_sure(readings: Sequence[CardFaceReading]) -> CardFaceReading:
    """The same frames' readings (the whole average deblurred and plain) as one: each value at
    the confidence of the least sure reading of it, and only a value every one of them read.

    Two processings of one average are not two opinions, so the surer one must not speak for
    both: on a bench page burst of 12 frames (8 averaged) the deblurred whole read the code
    8586 (printed 8686) at 0.93 and the plain one at 0.98, which stood alone. Nor may one
    speak where the other read nothing: on a moving bench burst (7 frames averaged, none
    unsmeared) the plain whole read the expiry 2027/9/2 (printed 2027/9/21) at 0.958, the
    deblurred whole and every half no expiry at all, and it stood alone. On 200 cached bench
    bursts (seeds 71-72: 60 moving, 60 steady, 40 of the page's 12, 40 of 撮影する's 12 of 24)
    this took 2 of 480 values given and no burst read right. (Readings that disagree are
    dropped anyway, by combine.)
    """

    def weakest(field: str) -> FieldReading[Any] | None:
        found = _readings_of(readings, field)
        return min(found, key=_confidence) if len(found) == len(readings) else None

    return CardFaceReading(weakest("birth_date"), weakest("expiry_date"),
                           weakest("security_code"), readings[0].reason)


def whole_may_stand_alone(halves: Sequence[CardFaceReading]) -> bool:
    """Whether the frames carry the print at all: some half's average (deblurred or plain)
    read some value.

    When no half of the frames reads a single value, the whole average is at the edge of what
    the recogniser can see, and there its confidence means nothing: on 400 bench bursts (seeds
    11-14 steady, 21-24 moving) a code 9098 for 8098 and 6354 for 6384, each sure at 0.96-0.99
    on an average of 5 and 7 frames, both came with every half silent.
    """
    return any(_found(h) for h in halves)


def one_opinion(deblurred: CardFaceReading, plain: CardFaceReading) -> CardFaceReading:
    """One half's two readings (the same frames, two processings) as one independent opinion:
    a value either read, none where they disagree (the caller also keeps both as vetoes), at
    the confidence of the less sure where both read it."""

    def pick(a: FieldReading[T] | None, b: FieldReading[T] | None) -> FieldReading[T] | None:
        if a is None or b is None:
            return a or b
        # Alike, at the less sure (as least_sure: one processing must not speak for both).
        return min(a, b, key=_confidence) if a.value == b.value else None

    return CardFaceReading(
        pick(deblurred.birth_date, plain.birth_date),
        pick(deblurred.expiry_date, plain.expiry_date),
        pick(deblurred.security_code, plain.security_code),
        deblurred.reason,
    )


def _found(reading: CardFaceReading) -> bool:
    return any(f is not None for f in (reading.birth_date, reading.expiry_date,
                                       reading.security_code))


def _sure(reading: CardFaceReading) -> bool:
    """All three values read, each at SOLO_CONFIDENCE or more."""
    fields = (reading.birth_date, reading.expiry_date, reading.security_code)
    return all(f is not None and f.confidence >= SOLO_CONFIDENCE for f in fields)


def read_card_burst(
    images: Sequence[np.ndarray], *, today: date | None = None,
    max_read: int = MAX_READ_FRAMES,
) -> CardFaceReading:
    """Read a burst of BGR frames of one card front."""
    today = today or datetime.now(JST).date()
    ranks = [rank_frame(i, image) for i, image in enumerate(images[:MAX_FRAMES])]
    # Frames on which the card is large enough for its security code first, then the sharpest.
    usable = sorted(
        (r for r in ranks if r.usable),
        key=lambda r: (r.card_width >= CODE_MIN_CARD_WIDTH_PX, r.sharpness), reverse=True,
    )
    if not usable:
        largest = max(ranks, key=lambda r: r.card_width, default=None)
        if largest is not None and largest.card_width > 0:
            return CardFaceReading.failed(CardFaceReason.TOO_SMALL)
        return CardFaceReading.failed(CardFaceReason.NOT_A_CARD)
    if usable[0].card_width < CODE_MIN_CARD_WIDTH_PX:
        reading = _read_averaged(images, usable, today)
    else:
        reading = _read_one_by_one(images, usable[:max_read], today)
    return without_past_expiry(reading, today)


def _read_one_by_one(images: Sequence[np.ndarray], ranks: Sequence[FrameRank],
                     today: date) -> CardFaceReading:
    """Large cards: the frames of `ranks` read in turn until their readings combine into all
    three values."""
    readings: list[CardFaceReading] = []
    for rank in ranks:
        readings.append(read_card_image(images[rank.index], today=today))
        combined = combine(readings)
        if combined.ok:
            return combined
    return combine(readings)


def read_card_burst_bytes(
    frames: Sequence[bytes], *, today: date | None = None
) -> CardFaceReading:
    """Decode, read and drop a burst of JPEG/PNG/WebP frames; nothing is stored or logged."""
    images = [image for image in (decode_image(f) for f in frames[:MAX_FRAMES])
              if image is not None]
    if not images:
        logger.info("card face burst: no decodable frame")
        return CardFaceReading.failed(CardFaceReason.NOT_A_CARD)
    try:
        reading = read_card_burst(images, today=today)
    except Exception as exc:
        # As for one photo (reader.read_card_face_image): the type only, never the text.
        logger.error("card face burst read failed: %s", type(exc).__name__)
        reading = CardFaceReading.failed(CardFaceReason.UNREADABLE)
    finally:
        del images
    logger.info("card face burst read: %s", "ok" if reading.ok else reading.reason)
    return reading
