"""The queue's pure decisions: quiet hours, backoff, rate slots, dedupe keys, segments, templates, birthdays."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloud.messages.rules import (
    MARKETING,
    TRANSACTIONAL,
    QuietHours,
    TemplateError,
    backoff,
    birthday_keys_for,
    check_template,
    classify_inbound,
    dedupe_key,
    greeting_period,
    localise_digits,
    rate_slot,
    segments,
    send_not_before,
)

TEHRAN = ZoneInfo("Asia/Tehran")
moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(timezone.utc))
clock_times = st.times().map(lambda t: t.replace(microsecond=0, second=0))


@given(moments)
def test_marketing_never_goes_out_in_quiet_hours_and_waits_no_longer_than_their_end(now):
    quiet = QuietHours()
    at = send_not_before(now, MARKETING, quiet, TEHRAN)
    local = at.astimezone(TEHRAN).time()
    assert at >= now
    assert not quiet.contains(local)
    assert at - now <= timedelta(hours=10, minutes=1)  # 22:00 -> 08:00 (+ a DST hour at most)
    if not quiet.contains(now.astimezone(TEHRAN).time()):
        assert at == now


@given(moments, clock_times, clock_times)
def test_transactional_messages_ignore_quiet_hours(now, start, end):
    assert send_not_before(now, TRANSACTIONAL, QuietHours(start, end), TEHRAN) == now


@given(moments, clock_times)
def test_equal_quiet_hour_bounds_mean_no_quiet_hours(now, bound):
    assert send_not_before(now, MARKETING, QuietHours(bound, bound), TEHRAN) == now


def test_quiet_hours_at_2300_tehran_resume_at_0800_the_next_morning():
    now = datetime(2026, 3, 1, 23, 0, tzinfo=TEHRAN).astimezone(timezone.utc)
    assert send_not_before(now, MARKETING, QuietHours(), TEHRAN) == datetime(2026, 3, 2, 8, 0, tzinfo=TEHRAN)


@given(st.integers(min_value=1, max_value=200))
def test_backoff_grows_and_is_capped(attempt):
    assert timedelta(seconds=30) <= backoff(attempt) <= timedelta(hours=1)
    assert backoff(attempt + 1) >= backoff(attempt)


def test_backoff_refuses_attempt_zero():
    with pytest.raises(ValueError):
        backoff(0)


@given(st.lists(st.floats(min_value=0, max_value=0.5), min_size=1, max_size=50), st.floats(min_value=1, max_value=1000))
def test_rate_slots_are_never_closer_than_one_over_the_rate(gaps, per_second):
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    last = None
    for gap in gaps:
        now += timedelta(seconds=gap)
        slot = rate_slot(last, now, per_second)
        assert slot >= now
        if last is not None:
            assert (slot - last).total_seconds() >= 1 / per_second - 1e-6
        last = slot


@given(st.text(min_size=1), st.text(min_size=1), st.text(min_size=1), st.text(min_size=1))
def test_dedupe_keys_are_equal_only_for_the_same_kind_member_and_period(kind, member, period, other):
    assert dedupe_key(kind, member, period) == dedupe_key(kind, member, period)
    if other != period:
        assert dedupe_key(kind, member, other) != dedupe_key(kind, member, period)


@given(st.text(alphabet="ابپتثجچحخدذرزسشصضطظعغفقکگلمنوهی ", min_size=0, max_size=400))
def test_persian_text_is_counted_in_ucs2_parts_of_70_then_67(text):
    expected = 1 if len(text) <= 70 else -(-len(text) // 67)
    assert segments(text) == expected


def test_latin_text_is_counted_in_gsm_parts_of_160_then_153():
    assert (segments("a" * 160), segments("a" * 161), segments("a" * 306), segments("a" * 307)) == (1, 2, 2, 3)
    assert segments("a" * 69 + "س") == 1 and segments("a" * 70 + "س") == 2


def test_a_template_with_an_unknown_variable_is_refused_and_says_which():
    with pytest.raises(TemplateError, match=r"\{coupon_code\}"):
        check_template("Hi {first_name}, use {coupon_code}", {"first_name", "points"})
    with pytest.raises(TemplateError, match="unbalanced"):
        check_template("Hi {first_name", {"first_name"})


def test_numbers_follow_the_members_language():
    assert (localise_digits("120", "fa"), localise_digits("120", "ar"), localise_digits("120", "en")) == (
        "۱۲۰", "١٢٠", "120")


def test_a_feb_29_birthday_is_greeted_on_feb_28_in_a_common_year_only():
    assert (2, 29) in birthday_keys_for(date(2027, 2, 28), "gregorian")
    assert (2, 29) not in birthday_keys_for(date(2028, 2, 28), "gregorian")


def test_an_esfand_30_birthday_is_greeted_on_esfand_29_in_a_common_jalali_year():
    # 1404 is a common Jalali year: Esfand 29 1404 is 2026-03-20.
    assert birthday_keys_for(date(2026, 3, 20), "jalali") == [(12, 29), (12, 30)]
    assert greeting_period(date(2026, 3, 20), "jalali") == "j1404"
    assert greeting_period(date(2026, 3, 21), "jalali") == "j1405"


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)))
def test_every_day_greets_its_own_calendar_day(day):
    import jdatetime
    j = jdatetime.date.fromgregorian(date=day)
    assert (j.month, j.day) in birthday_keys_for(day, "jalali")
    assert (day.month, day.day) in birthday_keys_for(day, "gregorian")


@pytest.mark.parametrize("text", ["لغو", " 11 ", "۱۱", "STOP", "stop"])
def test_opt_out_words_in_persian_digits_and_english_are_recognised(text):
    assert classify_inbound(text, {"عضویت"}) == "opt_out"


def test_the_join_keyword_and_other_texts_are_told_apart():
    assert classify_inbound("عضویت", {"عضویت"}) == "join"
    assert classify_inbound("Join", {"join"}) == "join"
    assert classify_inbound("سلام", {"عضویت"}) == "other"
