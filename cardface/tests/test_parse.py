"""Era arithmetic, value parsing and the cross-checks that turn doubt into "no value"."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cardface.ocr import OcrLine, _char_scores, _normalise
from cardface.parse import (
    BIRTH_RE,
    EXPIRY_RE,
    DateError,
    Era,
    _date_from_match,
    era_to_gregorian,
    fix_known_misreads,
    parse_lines,
)
from cardface.synth import seireki, wareki

TODAY = date(2026, 11, 27)


def line(text: str, *, cx: float = 0.25, cy: float = 0.5, conf: float = 0.999,
         weak: dict[int, float] | None = None) -> OcrLine:
    scores = [conf] * len(text)
    for index, value in (weak or {}).items():
        scores[index] = value
    return OcrLine(text=text, score=conf, char_scores=tuple(scores), cx=cx, cy=cy, height=0.05)


def card(birth: str = "昭和60年7月23日生性別男", expiry: str = "2034年7月23日まで有効",
         code: str = "4821", **kw: dict[int, float]) -> list[OcrLine]:
    return [
        line("氏名", cy=0.08),
        line(birth, cy=0.52, weak=kw.get("birth_weak")),
        line(expiry, cy=0.67, weak=kw.get("expiry_weak")),
        line(code, cx=0.83, cy=0.71, weak=kw.get("code_weak")),
        line("個人番号カード", cy=0.88),
    ]


@pytest.mark.parametrize(
    ("era", "year", "month", "day", "expected"),
    [
        (Era.MEIJI, 1, 1, 25, date(1868, 1, 25)),
        (Era.MEIJI, 45, 7, 29, date(1912, 7, 29)),
        (Era.TAISHO, 1, 7, 30, date(1912, 7, 30)),
        (Era.TAISHO, 15, 12, 24, date(1926, 12, 24)),
        (Era.SHOWA, 1, 12, 25, date(1926, 12, 25)),
        (Era.SHOWA, 64, 1, 7, date(1989, 1, 7)),
        (Era.HEISEI, 1, 1, 8, date(1989, 1, 8)),
        (Era.HEISEI, 31, 4, 30, date(2019, 4, 30)),
        (Era.REIWA, 1, 5, 1, date(2019, 5, 1)),
        (Era.SHOWA, 60, 7, 23, date(1985, 7, 23)),
    ],
)
def test_era_dates_at_the_boundaries(era: Era, year: int, month: int, day: int,
                                     expected: date) -> None:
    assert era_to_gregorian(era, year, month, day) == expected


@pytest.mark.parametrize(
    ("era", "year", "month", "day"),
    [
        (Era.MEIJI, 1, 1, 24),  # before 明治
        (Era.TAISHO, 15, 12, 25),  # already 昭和
        (Era.SHOWA, 64, 1, 8),  # already 平成
        (Era.HEISEI, 1, 1, 7),  # still 昭和
        (Era.HEISEI, 31, 5, 1),  # already 令和
        (Era.REIWA, 1, 4, 30),  # still 平成
        (Era.SHOWA, 60, 2, 30),  # no such day
        (Era.SHOWA, 0, 1, 1),  # no year 0
    ],
)
def test_it_rejects_dates_outside_their_era(era: Era, year: int, month: int, day: int) -> None:
    with pytest.raises(DateError):
        era_to_gregorian(era, year, month, day)


@given(st.dates(min_value=date(1868, 1, 25), max_value=date(2100, 12, 31)))
def test_printed_wareki_parses_back_to_the_same_date(day: date) -> None:
    printed = (wareki(day) + "生").replace(" ", "")
    match = BIRTH_RE.search(printed)
    assert match is not None
    assert _date_from_match(match) == day


@given(st.dates(min_value=date(2019, 5, 1), max_value=date(2100, 12, 31)))
def test_expiry_parses_in_reiwa_and_seireki(day: date) -> None:
    for printed in (wareki(day), seireki(day)):
        match = EXPIRY_RE.search(printed.replace(" ", "") + "まで有効")
        assert match is not None
        assert _date_from_match(match) == day


def test_wareki_prints_gannen_for_the_first_year() -> None:
    assert wareki(date(1989, 1, 8)) == "平成元年 1月 8日"
    assert wareki(date(2019, 5, 1)) == "令和元年 5月 1日"


def test_it_reads_a_clean_card() -> None:
    parsed = parse_lines(card(), today=TODAY)
    assert parsed.birth_date is not None and parsed.birth_date.value == date(1985, 7, 23)
    assert parsed.expiry_date is not None and parsed.expiry_date.value == date(2034, 7, 23)
    assert parsed.security_code is not None and parsed.security_code.value == "4821"
    assert parsed.card_words >= 3


def test_it_reads_seireki_birth_and_reiwa_expiry() -> None:
    parsed = parse_lines(card("1985年7月23日生", "令和16年7月23日まで有効"), today=TODAY)
    assert parsed.birth_date is not None and parsed.birth_date.value == date(1985, 7, 23)
    assert parsed.expiry_date is not None and parsed.expiry_date.value == date(2034, 7, 23)


def test_it_reads_birth_and_expiry_merged_into_one_line() -> None:
    lines = [line("昭和60年7月23日生2034年7月23日まで有効"), line("4821", cx=0.8, cy=0.7)]
    parsed = parse_lines(lines, today=TODAY)
    assert parsed.birth_date is not None and parsed.birth_date.value == date(1985, 7, 23)
    assert parsed.expiry_date is not None and parsed.expiry_date.value == date(2034, 7, 23)


def test_it_drops_a_date_with_one_unsure_year_digit() -> None:
    # "昭和60年7月23日生": index 3 is the 0 of the year.
    parsed = parse_lines(card(birth_weak={3: 0.6}), today=TODAY)
    assert parsed.birth_date is None
    assert parsed.expiry_date is not None


def test_the_expiry_line_corroborates_an_unsure_month_or_day() -> None:
    # Index 5 is the month, 8 the last digit of the day: printed again in the expiry line.
    parsed = parse_lines(card(birth_weak={5: 0.6, 8: 0.55}), today=TODAY)
    assert parsed.birth_date is not None and parsed.birth_date.value == date(1985, 7, 23)
    alone = [line("昭和60年7月23日生", weak={5: 0.6}), line("個人番号カード")]
    assert parse_lines(alone, today=TODAY).birth_date is None


def test_a_barely_preferred_digit_is_not_corroborated() -> None:
    parsed = parse_lines(card(birth_weak={5: 0.3}), today=TODAY)
    assert parsed.birth_date is None
    assert parsed.expiry_date is not None and parsed.expiry_date.value == date(2034, 7, 23)


def test_an_unsure_separator_does_not_spoil_the_value() -> None:
    # index 10 is 生: its doubt says nothing about the digits.
    parsed = parse_lines(card(birth_weak={10: 0.5}), today=TODAY)
    assert parsed.birth_date is not None and parsed.birth_date.value == date(1985, 7, 23)


def test_it_drops_a_birth_date_in_a_doubtful_era() -> None:
    parsed = parse_lines(card(birth_weak={0: 0.3}), today=TODAY)
    assert parsed.birth_date is None


def test_it_drops_both_dates_when_birth_is_not_before_expiry() -> None:
    parsed = parse_lines(card("2035年7月23日生", "2034年7月23日まで有効"), today=date(2036, 1, 1))
    assert parsed.birth_date is None and parsed.expiry_date is None


def test_unmatched_birthday_needs_more_confidence() -> None:
    # A foreign resident's card may end on any day; a misread digit looks the same, so such a
    # pair is kept only when every digit is very sure.
    sure = parse_lines(card(expiry="2031年3月9日まで有効"), today=TODAY)
    assert sure.expiry_date is not None and sure.expiry_date.value == date(2031, 3, 9)
    unsure = parse_lines(card(expiry="2031年3月9日まで有効", expiry_weak={2: 0.9}), today=TODAY)
    assert unsure.expiry_date is None
    assert unsure.birth_date is not None and unsure.birth_date.value == date(1985, 7, 23)


@pytest.mark.parametrize(
    ("birth", "expiry", "want_birth", "want_expiry"),
    [
        # no such day
        ("昭和60年2月30日生", "2034年2月28日まで有効", None, date(2034, 2, 28)),
        # born in the future
        ("令和60年7月23日生", "2034年7月23日まで有効", None, date(2034, 7, 23)),
        # no card lasts that long
        ("昭和60年7月23日生", "2099年7月23日まで有効", date(1985, 7, 23), None),
        # before the first card was issued
        ("昭和60年7月23日生", "2012年7月23日まで有効", date(1985, 7, 23), None),
        # 令和 cannot be written as 昭和 on an expiry
        ("昭和60年7月23日生", "昭和90年7月23日まで有効", date(1985, 7, 23), None),
    ],
)
def test_it_drops_implausible_dates(birth: str, expiry: str, want_birth: date | None,
                                    want_expiry: date | None) -> None:
    parsed = parse_lines(card(birth, expiry), today=TODAY)
    assert (parsed.birth_date.value if parsed.birth_date else None) == want_birth
    assert (parsed.expiry_date.value if parsed.expiry_date else None) == want_expiry


def test_two_different_birth_dates_give_none() -> None:
    lines = [*card(), line("昭和61年7月23日生", cy=0.6)]
    assert parse_lines(lines, today=TODAY).birth_date is None


def test_security_code_must_be_four_digits_under_the_photo() -> None:
    assert parse_lines(card(code="48210"), today=TODAY).security_code is None
    assert parse_lines(card(code="482"), today=TODAY).security_code is None
    assert parse_lines(card(code="48Z1"), today=TODAY).security_code is None
    elsewhere = [line("4821", cx=0.2, cy=0.3)]
    assert parse_lines(elsewhere, today=TODAY).security_code is None


def test_security_code_readings_that_disagree_give_none() -> None:
    extra = [line("4827", cx=0.83, cy=0.71)]
    assert parse_lines(card(), code_lines=extra, today=TODAY).security_code is None
    same = [line("4821", cx=0.83, cy=0.71)]
    parsed = parse_lines(card(code_weak={1: 0.4}), code_lines=same, today=TODAY)
    assert parsed.security_code is not None and parsed.security_code.value == "4821"


def test_normalisation_makes_ascii_digits_and_splits_era_ligatures() -> None:
    text, scores = _normalise("㍼６０年 ７月", [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3])
    assert text == "昭和60年7月"
    assert scores == (0.9, 0.9, 0.8, 0.7, 0.6, 0.4, 0.3)


def test_char_scores_fall_back_to_the_line_score_when_unaligned() -> None:
    assert _char_scores("4821", 0.7, [("48", 0.9, None), ("21", 0.8, None)]) == [0.7] * 4
    aligned = _char_scores("48 21", 0.7, [(c, 0.9, None) for c in "4821"])
    assert aligned == [0.9, 0.9, 0.7, 0.9, 0.9]


@pytest.mark.parametrize("misread", ["合", "今", "会", "全", "命", "金"])
def test_it_undoes_the_one_meaning_misreads_of_reiwa(misread: str) -> None:
    # Each read for 令 on small or averaged print (会和13年…, 全和8年…, 命和12年… from bench
    # bursts of a 640x480 webcam at arm's length), also with まで itself misread.
    for expiry in (f"{misread}和16年7月23日まで有効", f"{misread}和16年7月23日未飞有効"):
        parsed = parse_lines(card(expiry=expiry), today=TODAY)
        assert parsed.expiry_date is not None and parsed.expiry_date.value == date(2034, 7, 23)
    assert fix_known_misreads(f"{misread}計1280") == f"{misread}計1280"


@pytest.mark.parametrize(("misread", "taken"), [("合", True), ("今", True), ("会", False),
                                                ("全", False), ("命", False), ("金", False)])
def test_in_a_birth_date_only_the_old_misreads_of_reiwa_are_taken(misread: str,
                                                                   taken: bool) -> None:
    # 命 has 昭's 口: 命和3年 may be a 昭和3年 (1928) read as a child born in 令和3年.
    born = parse_lines(card(birth=f"{misread}和3年7月23日生", expiry="2030年7月23日まで有効"),
                       today=TODAY)
    assert (born.birth_date.value if born.birth_date else None) == (
        date(2021, 7, 23) if taken else None)


@pytest.mark.parametrize("misread", ["台", "分"])
def test_a_look_alike_of_showa_before_wa_is_reiwa_in_an_expiry_only(misread: str) -> None:
    # 台 and 分 were read for 令 (serif print of a 300 px still), but share 召's strokes:
    # 台和60年 in a birth date may be 昭和60年.
    assert fix_known_misreads(f"{misread}和60年7月23日生") == f"{misread}和60年7月23日生"
    parsed = parse_lines(card(birth=f"{misread}和60年7月23日生"), today=TODAY)
    assert parsed.birth_date is None
    # An expiry can only be 令和 (no card expires in 昭和).
    expiry = parse_lines(card(expiry=f"{misread}和16年7月23日まで有効"), today=TODAY).expiry_date
    assert expiry is not None and expiry.value == date(2034, 7, 23)
    # The era character is doubted as 令 itself would be (ERA_MIN_CONFIDENCE).
    assert parse_lines(card(expiry=f"{misread}和16年7月23日まで有効", expiry_weak={0: 0.48}),
                       today=TODAY).expiry_date is None


@pytest.mark.parametrize(("read", "meant"), [
    # Serif print of a 300 px still (bench width_300), as read.
    ("2029午1月23Hま°C有效", "2029年1月23日まで有効"),
    ("台和10午9月22Hまで有効", "令和10年9月22日まで有効"),
    ("分和10年10几20日まで有效", "令和10年10月20日まで有効"),
])
def test_look_alikes_of_the_date_marks_between_its_digits_are_the_marks(read: str,
                                                                         meant: str) -> None:
    parsed = parse_lines(card(birth="昭和30年9月22日生", expiry=read), today=TODAY)
    want = parse_lines(card(birth="昭和30年9月22日生", expiry=meant), today=TODAY)
    assert parsed.expiry_date is not None and parsed.expiry_date == want.expiry_date
    # Only between a date's digits, in the date's order.
    for text in ("午前1月23H", "2029年1月23日H", "2029午1月23", "2029月1年23日"):
        assert fix_known_misreads(text) == text
    # An H before 日 is a misread digit, not the mark: no day 1 for the 1x printed (review).
    for text in ("令和10年10月1H日まで有効", "2029年1月1H日まで有効"):
        assert parse_lines(card(birth="昭和30年1月12日生", expiry=text), today=TODAY
                           ).expiry_date is None


def test_a_birth_date_whose_sei_was_read_as_go_is_the_birth_date() -> None:
    # Serif print of a 300 px still (bench width_300): 生 read 午, 性別 read 件别.
    parsed = parse_lines(card(birth="1978年9月4日午件别男", expiry="2036年9月4日まで有効"),
                         today=TODAY)
    assert parsed.birth_date is not None and parsed.birth_date.value == date(1978, 9, 4)
    # まで read 午で is the expiry still, and no birth date.
    expiry = parse_lines(card(birth="1978年9月4日生性別男", expiry="2036年9月4日午で有効"),
                         today=TODAY)
    assert expiry.expiry_date is not None and expiry.expiry_date.value == date(2036, 9, 4)
    assert expiry.birth_date is not None and expiry.birth_date.value == date(1978, 9, 4)
    # A 午 not followed by 性 may be まで misread: never a birth date, which would cancel the
    # real one or, on an expired card whose birth line was not read, stand for it (review).
    for line in ("2025年9月4日午", "2025年9月4日午て"):
        lone = parse_lines(card(birth="氏名", expiry=line), today=TODAY)
        assert lone.birth_date is None
        kept = parse_lines(card(birth="1978年9月4日生性別男", expiry=line), today=TODAY)
        assert kept.birth_date is not None and kept.birth_date.value == date(1978, 9, 4)


def test_an_expiry_whose_reiwa_lost_its_first_character_is_reiwa() -> None:
    # Read so from a 640x480 burst averaged (bench burst_webcam_arm_page): the box's left edge
    # swallowed 令 of 令和8年 in every reading of the card.
    parsed = parse_lines(card(birth="1962年2月2日生性別女", expiry="和8年2月2日まで有效"),
                         today=TODAY)
    assert parsed.expiry_date is not None and parsed.expiry_date.value == date(2026, 2, 2)
    assert parsed.birth_date is not None and parsed.birth_date.value == date(1962, 2, 2)
    # A mark from the box's edge before it is no character of another era.
    framed = parse_lines(card(expiry="|和16年7月23日まで有効"), today=TODAY)
    assert framed.expiry_date is not None and framed.expiry_date.value == date(2034, 7, 23)
    # Never after another character (a misread 昭和 is no expiry at all), and never a birth
    # date: 和60年 may be 昭和.
    assert parse_lines(card(expiry="昭和16年7月23日まで有効"), today=TODAY).expiry_date is None
    assert parse_lines(card(expiry="年和16年7月23日まで有効"), today=TODAY).expiry_date is None
    assert parse_lines(card(birth="和60年7月23日生性別男"), today=TODAY).birth_date is None
    # Its year digits are doubted as any other's.
    weak = parse_lines(card(expiry="和16年7月23日まで有効", expiry_weak={1: 0.6}), today=TODAY)
    assert weak.expiry_date is None and weak.birth_date is not None


def test_an_expiry_already_past_needs_more_confidence() -> None:
    # Measured on a 420 px still (bench-like draw): 令和13年 read 令和3年, the 3 sure at 0.89.
    birth = "昭和12年5月17日生性別女"
    lost_digit = card(birth=birth, expiry="令和3年5月17日まで有効", expiry_weak={2: 0.89})
    assert parse_lines(lost_digit, today=TODAY).expiry_date is None
    sure = parse_lines(card(birth=birth, expiry="令和3年5月17日まで有効"), today=TODAY)
    assert sure.expiry_date is not None and sure.expiry_date.value == date(2021, 5, 17)
    # A future expiry at the same confidence is kept as before.
    future = card(birth=birth, expiry="令和13年5月17日まで有効", expiry_weak={3: 0.89})
    assert parse_lines(future, today=TODAY).expiry_date is not None


@pytest.mark.parametrize(
    ("birth", "expiry"),
    [
        # Serif print 300-350 px wide: the thin 1 of 11月 read as a padded month's space.
        ("昭和30年1月12日生性別男", "2034年11月12日まで有効"),
        ("昭和54年11月23日生性別男", "2035年1月23日まで有効"),
        # A day one digit apart.
        ("昭和60年7月23日生性別男", "2034年7月28日まで有効"),
        ("昭和60年7月3日生性別男", "2034年7月23日まで有効"),
    ],
)
def test_dates_alike_but_for_one_digit_are_both_dropped(birth: str, expiry: str) -> None:
    parsed = parse_lines(card(birth=birth, expiry=expiry), today=TODAY)
    assert parsed.birth_date is None and parsed.expiry_date is None
    # One of the two alone is still given.
    alone = parse_lines(card(birth=birth, expiry="まで有効"), today=TODAY)
    assert alone.birth_date is not None


def test_dates_further_apart_are_a_foreign_residents_and_given_when_sure() -> None:
    parsed = parse_lines(card(expiry="2031年8月14日まで有効"), today=TODAY)
    assert parsed.birth_date is not None and parsed.expiry_date is not None
    near = parse_lines(card(expiry="2031年7月13日まで有効"), today=TODAY)
    assert near.birth_date is None and near.expiry_date is None


def test_a_misread_ma_of_made_yuukou_still_marks_the_expiry() -> None:
    # Read so from a 640x480 webcam burst averaged (bench burst_webcam_arm).
    parsed = parse_lines(card(expiry="2030年12月1日系で有効"), today=TODAY)
    assert parsed.expiry_date is not None and parsed.expiry_date.value == date(2030, 12, 1)
    assert fix_known_misreads("2030年4月6日次で有劲") == "2030年4月6日まで有劲"
    assert fix_known_misreads("2027年1月26日ま°C有効") == "2027年1月26日まで有効"
    # Never across a digit, and never where nothing stands between 日 and 有.
    assert fix_known_misreads("2030年12月1日4で有効") == "2030年12月1日4で有効"
    assert fix_known_misreads("2030年12月1日有効") == "2030年12月1日有効"


def test_card_words_are_counted_through_chinese_look_alikes() -> None:
    # Read so from an averaged 640x480 burst: 性别, 有劲 and 個人番号力ード (the kanji 力).
    lines = [line("1939年4月6日生性别男", cy=0.52), line("2030年4月6日まで有劲", cy=0.67),
             line("個人番号力ード", cy=0.88)]
    assert parse_lines(lines, today=TODAY).card_words == 4  # 日生, 有効, 性別, 個人番号カード
