"""Turn OCR lines from a card front into the birth date, expiry date and security code.

The three are what 照合番号B is built from (docs/mynacard-protocol.md §6.2): the birth date as
printed (和暦 such as 昭和60年 7月23日生, or 西暦 on newer cards), the card's expiry (…まで有効,
西暦 or 令和) and the 4-digit セキュリティコード printed under the photo.

A wrong value is worse than none: every value must be a real calendar date inside its era and a
plausible range, every digit must have been recognised confidently (month and day may instead be
read alike in both dates, which print them twice), and the two dates must agree with each other;
otherwise the value is dropped.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum, unique
from typing import TypeVar

from cardface.ocr import OcrLine
from cardface.result import FieldReading
from mynacard.pins import ERAS

logger = logging.getLogger(__name__)

T = TypeVar("T")


@unique
class Era(StrEnum):
    """Japanese eras that can appear on a card (spec §6.2); ERA_START has their first days."""

    MEIJI = "明治"
    TAISHO = "大正"
    SHOWA = "昭和"
    HEISEI = "平成"
    REIWA = "令和"


# Oldest first. The dates are mynacard.pins.ERAS's, the ones 照合番号B is built with.
ERA_START: dict[Era, date] = {Era(era.name): era.start for era in reversed(ERAS)}
_ERA_ORDER = list(ERA_START)

# Every character of a value must be at least this sure; a 3 read as 8 usually scores lower.
MIN_CONFIDENCE = 0.85
# A Japanese national's card expires on a birthday (the 10th, or 5th for minors, after issue), so
# birth and expiry share month and day. Foreign residents' cards end with the period of stay and
# may not; such a pair is legitimate but a misread digit looks the same, so ask for more.
MIN_CONFIDENCE_UNMATCHED_DAY = 0.95
# The recogniser's top choice with at least half the probability: enough for an era character
# (see _date_reading) and the floor below which a digit is never corroborated.
ERA_MIN_CONFIDENCE = 0.5
# An expiry already past needs as much as an unmatched day: a 令和 year that lost its tens digit
# lands ten years back (parse_lines). It is read so that it may veto other readings of the same
# card; no answer gives it (reader.without_past_expiry).
MIN_CONFIDENCE_PAST_EXPIRY = 0.95
EARLIEST_BIRTH = date(1900, 1, 1)
# The first My Number Cards were issued in January 2016; none can have expired before that.
EARLIEST_EXPIRY = date(2016, 1, 1)
# Ten years to the 10th birthday after issue is at most eleven years ahead.
MAX_YEARS_AHEAD = 11
# The code sits under the photo: the right side, lower half (x0, y0, x1, y1 as fractions).
SECURITY_CODE_REGION = (0.55, 0.5, 1.0, 0.97)

_ERA_NAMES = "|".join(e.value for e in Era)
# Characters found in one era name only.
_DISTINGUISHING = {
    ch for e in Era for ch in e.value if sum(ch in other.value for other in Era) == 1
}
_DATE = r"(?:(?P<era>{eras})(?P<era_year>元|\d{{1,2}})|(?<!\d)(?P<year>\d{{4}}))年" \
    r"(?P<month>\d{{1,2}})月(?P<day>\d{{1,2}})日"
# 生 is read 午 on serif print of a 300 px still (1978年9月4日午件别男): a date followed by 午
# and 性 (or its look-alike 件) can only be the birth date. A 午 alone is not taken: it may be
# the expiry's まで misread, and an expiry taken for a birth date would cancel the real one.
BIRTH_RE = re.compile(_DATE.format(eras=_ERA_NAMES) + "(?:生|午(?=[性件]))")
# Only 西暦 or 令和 are possible for an expiry date. The expiry is printed in a box whose left
# edge touches 令: on small or averaged print the recogniser drops it and reads 和8年…まで.
# A 和 that starts the date (no character of another era name before it) and an era year in
# front of まで can then only be 令和 (no card expires in 昭和, the only other era with 和).
_LOST_REIWA = Era.REIWA.value[1]
EXPIRY_RE = re.compile(
    _DATE.format(eras=f"{Era.REIWA.value}|(?<!\\w){_LOST_REIWA}") + "まで"
)
SECURITY_CODE_RE = re.compile(r"\d{4}")
# Words a card front carries; used to tell "not a card" from "a card we could not read".
CARD_WORDS = ("個人番号カード", "氏名", "住所", "有効", "性別", "日生")
# The recogniser was trained on Chinese as well: on small or soft print it answers the
# simplified form or a look-alike (性别, 有劲, 個人番号力ード with the kanji 力). Only for
# counting CARD_WORDS, never for a value.
_WORD_LOOKALIKES = str.maketrans({"别": "別", "劲": "効", "力": "カ"})


# Misreadings of 令 seen on small or serif print. Only before 和 and an era year: no other word
# on a card front has that shape, and no other era can be meant (昭和 shares no stroke shape).
_REIWA_MISREAD = re.compile(r"[合今](?=和(?:元|\d{1,2})年)")
# Misread for 令 on averaged small-card print too (会和13年…まで, 命和12年…), and on serif
# print of a 300 px still (台和10年…まで, 分和10年…まで): taken only in an expiry date, whose
# era can only be 令和 (no card expires in 昭和, and EXPIRY_RE takes a lone 和 too). In a birth
# date 命 (which has 昭's 口) might be a 昭和 of 1926-1933 read as a 令和 child's birth, and 台
# and 分 share 召's strokes (台和60年 may be 昭和60年), so none of them is taken there. The era
# character keeps its own score, which must pass ERA_MIN_CONFIDENCE (_date_reading).
_EXPIRY_REIWA_MISREAD = re.compile(
    r"[会全命金台分](?=和(?:元|\d{1,2})年\d{1,2}月\d{1,2}日まで)"
)
# 年, 月 and 日 read as look-alikes on serif print of a 300 px still (2029午1月23Hま°C有效,
# 令和10年10几20日まで): between a date's digits, in that order, they can only be those three.
# Only the marks are put back; the digits are doubted as always (_date_reading).
# Never an H followed by 日: that H is no mark but a misread digit (1H日 is no day 1).
_DATE_MARKS_MISREAD = re.compile(r"(元|\d{1,4})[年午](\d{1,2})[月几](\d{1,2})[日H](?!日)")


# まで of まで有効 read as other glyphs on small or averaged print (系で, 次で, ま°C: the NFKC of
# ℃): on a card face a date followed by one to three non-digits and 有 can only be the expiry
# line, whatever they are. The date's digits are checked as always (parse_lines).
_MADE_MISREAD = re.compile(r"(?<=日)[^\d有日]{1,3}(?=有)")


def fix_known_misreads(text: str) -> str:
    """Undo OCR confusions that can only have one meaning on a card face."""
    reiwa = Era.REIWA.value[0]
    text = _DATE_MARKS_MISREAD.sub(r"\1年\2月\3日", text)
    text = _REIWA_MISREAD.sub(reiwa, _MADE_MISREAD.sub("まで", text))
    return _EXPIRY_REIWA_MISREAD.sub(reiwa, text)


class DateError(ValueError):
    """A date that does not exist in the calendar or in the stated era."""


def era_to_gregorian(era: Era, era_year: int, month: int, day: int) -> date:
    """The Gregorian date for 和暦 era/year/month/day; DateError if it is outside the era."""
    if era_year < 1:
        raise DateError("era year starts at 1 (元年)")
    start = ERA_START[era]
    try:
        value = date(start.year + era_year - 1, month, day)
    except ValueError as exc:
        raise DateError(str(exc)) from exc
    following = _ERA_ORDER.index(era) + 1
    end = ERA_START[_ERA_ORDER[following]] if following < len(_ERA_ORDER) else date.max
    if not start <= value < end:
        raise DateError("date outside its era")
    return value


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _era(name: str) -> Era:
    """The era a matched era name means: EXPIRY_RE's lone 和 is 令和."""
    return Era.REIWA if name == _LOST_REIWA else Era(name)


def _date_from_match(match: re.Match[str]) -> date:
    if match.group("era"):
        raw_year = match.group("era_year")
        era_year = 1 if raw_year == "元" else int(raw_year)
        return era_to_gregorian(
            _era(match.group("era")), era_year, int(match.group("month")), int(match.group("day"))
        )
    try:
        return date(int(match.group("year")), int(match.group("month")), int(match.group("day")))
    except ValueError as exc:
        raise DateError(str(exc)) from exc


@dataclass(frozen=True)
class ParsedFace:
    """What one OCR pass yielded, before the caller decides on a reason."""

    birth_date: FieldReading[date] | None
    expiry_date: FieldReading[date] | None
    security_code: FieldReading[str] | None
    card_words: int

    @property
    def found(self) -> int:
        return sum(x is not None for x in (self.birth_date, self.expiry_date, self.security_code))


@dataclass(frozen=True)
class _DateReading:
    """A date candidate with the confidence of each part, so parts can be corroborated."""

    value: date
    year: float  # the year digits, and the era when it is in doubt
    month: float
    day: float

    @property
    def confidence(self) -> float:
        return min(self.year, self.month, self.day)

    def as_field(self) -> FieldReading[date]:
        return FieldReading(self.value, self.confidence)


R = TypeVar("R", FieldReading[str], _DateReading)


def _unique(candidates: list[R]) -> R | None:
    """One value, or None when the lines disagree (two different dates is no answer)."""
    if not candidates:
        return None
    values = {c.value for c in candidates}
    if len(values) != 1:
        logger.info("card face: conflicting candidates dropped")
        return None
    return max(candidates, key=lambda c: c.confidence)


def _date_reading(line: OcrLine, match: re.Match[str], value: date) -> _DateReading:
    """Confidence per part: the weakest digit of each of year, month and day.

    年/月/日/生/まで are already checked by the pattern; a blurred 生 says nothing about the
    digits. The era must match a whole era name, so turning one era into another takes two
    characters misread into a different real era; its distinguishing character need only pass
    ERA_MIN_CONFIDENCE (和 is shared by 昭和 and 令和 and so proves nothing).
    """

    def part(*groups: str) -> float:
        spans = [match.span(g) for g in groups if match.start(g) >= 0]
        return min(line.span_confidence(start, end) for start, end in spans)

    year = part("era_year", "year")
    # A lone 和 (EXPIRY_RE) has no character to doubt: the pattern itself leaves only 令和.
    if match.group("era") and match.group("era") != _LOST_REIWA:
        start = match.start("era")
        era_chars = [
            line.char_scores[start + i]
            for i, ch in enumerate(match.group("era"))
            if ch in _DISTINGUISHING
        ]
        era_confidence = max(era_chars, default=0.0)
        if era_confidence < ERA_MIN_CONFIDENCE:
            year = min(year, era_confidence)
    return _DateReading(value, year, part("month"), part("day"))


def _dates(lines: Sequence[OcrLine], pattern: re.Pattern[str]) -> list[_DateReading]:
    found: list[_DateReading] = []
    for line in lines:
        for match in pattern.finditer(fix_known_misreads(line.text)):
            try:
                value = _date_from_match(match)
            except DateError:
                # A date that cannot exist is a misread; it must not be silently dropped while
                # a different reading survives, so it is kept as a conflicting candidate.
                found.append(_DateReading(date.min, 0.0, 0.0, 0.0))
                continue
            found.append(_date_reading(line, match, value))
    return found


def _corroborate(birth: _DateReading, expiry: _DateReading) -> tuple[_DateReading, _DateReading]:
    """Month and day printed twice and read alike: each digit need be sure in one line only.

    Two independent readings agreeing is the evidence; a digit the recogniser barely preferred
    (below ERA_MIN_CONFIDENCE) is not lifted, so a stray misread cannot borrow certainty.
    """
    def lift(a: float, b: float) -> tuple[float, float]:
        return (a, b) if min(a, b) < ERA_MIN_CONFIDENCE else (max(a, b), max(a, b))

    birth_month, expiry_month = lift(birth.month, expiry.month)
    birth_day, expiry_day = lift(birth.day, expiry.day)
    return (
        _DateReading(birth.value, birth.year, birth_month, birth_day),
        _DateReading(expiry.value, expiry.year, expiry_month, expiry_day),
    )


def _security_codes(lines: Sequence[OcrLine]) -> list[FieldReading[str]]:
    """Confident 4-digit lines under the photo.

    The code may be read twice (whole card, and its region alone, where the small digits read
    better); a weak reading of one pass is ignored, but two confident different codes cancel.
    """
    x0, y0, x1, y1 = SECURITY_CODE_REGION
    found: list[FieldReading[str]] = []
    for line in lines:
        if not (x0 <= line.cx <= x1 and y0 <= line.cy <= y1):
            continue
        if SECURITY_CODE_RE.fullmatch(line.text):
            confidence = line.span_confidence(0, len(line.text))
            if confidence >= MIN_CONFIDENCE:
                found.append(FieldReading(line.text, confidence))
    return found


def _confident(item: FieldReading[T] | None, threshold: float) -> FieldReading[T] | None:
    if item is None or item.confidence < threshold:
        return None
    return item


def _digits_one_apart(a: int, b: int) -> bool:
    """Whether two printed numbers differ by one digit added, dropped or changed."""
    x, y = str(a), str(b)
    if len(x) == len(y):
        return sum(p != q for p, q in zip(x, y, strict=True)) == 1
    short, long = sorted((x, y), key=len)
    return len(long) == len(short) + 1 and any(
        long[:i] + long[i + 1:] == short for i in range(len(long)))


def _one_digit_apart(birth: date, expiry: date) -> bool:
    """Whether the two dates' months and days are alike but for one digit of one of them.

    A national's card expires on a birthday, so such a pair is likelier one misread than a
    foreign resident's card ending so near its holder's birthday: on serif print 300-350 px wide
    the thin 1 of 11月 is read as the space of a padded month (1955年1月12日 for 11月12日
    beside an expiry on 11月12日, sure at 0.995; 2035年1月23日 for 11月23日 at 0.951), which the
    bar for an unmatched day (MIN_CONFIDENCE_UNMATCHED_DAY) let through. We cannot tell which is
    misread, so both go, and the resident types them. The cost falls on foreign residents'
    cards whose dates are so near: on 1000 fresh bench stills 320-440 px wide, 4 (1/1 and 2/1,
    10/2 and 10/26, 11/1 and 11/18, 6/6 and 7/6), about one in 15 of the bench's such cards.
    """
    return ((birth.month == expiry.month and _digits_one_apart(birth.day, expiry.day))
            or (birth.day == expiry.day and _digits_one_apart(birth.month, expiry.month)))


def parse_lines(
    lines: Sequence[OcrLine], *, code_lines: Sequence[OcrLine] = (), today: date
) -> ParsedFace:
    """Find, validate and cross-check the three values among the lines of a straightened card.

    `code_lines` are extra lines read from SECURITY_CODE_REGION alone.
    """
    birth = _unique(_dates(lines, BIRTH_RE))
    expiry = _unique(_dates(lines, EXPIRY_RE))
    code = _unique(_security_codes([*lines, *code_lines]))

    if birth is not None and not EARLIEST_BIRTH <= birth.value <= today:
        birth = None
    if expiry is not None and not (
        EARLIEST_EXPIRY <= expiry.value <= _add_years(today, MAX_YEARS_AHEAD)
    ):
        expiry = None
    threshold = MIN_CONFIDENCE
    if birth is not None and expiry is not None:
        if birth.value >= expiry.value or _one_digit_apart(birth.value, expiry.value):
            birth = expiry = None  # one of them is misread and we cannot tell which
        elif (birth.value.month, birth.value.day) == (expiry.value.month, expiry.value.day):
            birth, expiry = _corroborate(birth, expiry)
        else:
            threshold = MIN_CONFIDENCE_UNMATCHED_DAY
    birth_field = _confident(birth.as_field() if birth else None, threshold)
    expiry_threshold = threshold
    if expiry is not None and expiry.value < today:
        # A card past its expiry cannot be used, and a 令和 year that lost its tens digit looks
        # just like one (令和3年 read for 令和13年, sure at 0.89, on a 420 px still).
        expiry_threshold = max(threshold, MIN_CONFIDENCE_PAST_EXPIRY)
    expiry_field = _confident(expiry.as_field() if expiry else None, expiry_threshold)

    joined = "".join(line.text for line in lines).translate(_WORD_LOOKALIKES)
    words = sum(word in joined for word in CARD_WORDS)
    return ParsedFace(birth_field, expiry_field, code, words)
