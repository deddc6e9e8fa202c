"""The queue's pure decisions: quiet hours, backoff, rate slots, dedupe keys, segments, templates, birthdays."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
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
from tests.support.branches import Branches

TEHRAN = ZoneInfo("Asia/Tehran")
moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(timezone.utc))
clock_times = st.times().map(lambda t: t.replace(microsecond=0, second=0))


def test_marketing_never_goes_out_in_quiet_hours_and_waits_no_longer_than_their_end():
    branches = Branches()

    @settings(deadline=None)  # no timing assertions, also not per example
    @given(moments)
    def example(now):
        quiet = QuietHours()
        at = send_not_before(now, MARKETING, quiet, TEHRAN)
        local = at.astimezone(TEHRAN).time()
        assert at >= now
        assert not quiet.contains(local)
        assert at - now <= timedelta(hours=10, minutes=1)  # 22:00 -> 08:00 (+ a DST hour at most)
        if quiet.contains(now.astimezone(TEHRAN).time()):
            assert at > now
            branches.took("held back")
        else:
            assert at == now
            branches.took("sent now")

    example()
    branches.require(**{"held back": 0.22, "sent now": 0.27})


def test_transactional_messages_ignore_quiet_hours():
    branches = Branches()

    @settings(deadline=None)  # no timing assertions, also not per example
    @given(moments, clock_times, clock_times)
    def example(now, start, end):
        assert send_not_before(now, TRANSACTIONAL, QuietHours(start, end), TEHRAN) == now
        quiet = QuietHours(start, end).contains(now.astimezone(TEHRAN).time())
        branches.took("in quiet hours" if quiet else "outside quiet hours")

    example()
    branches.require(**{"in quiet hours": 0.1, "outside quiet hours": 0.4})


def test_equal_quiet_hour_bounds_mean_no_quiet_hours():
    branches = Branches()

    @settings(deadline=None)  # no timing assertions, also not per example
    @given(moments, st.integers(0, 3 * 60), st.booleans())
    def example(now, minutes_before, shortly_before):
        # The bound is (often) just before now's local time: quiet hours from there would hold marketing back.
        local = now.astimezone(TEHRAN).replace(second=0, microsecond=0)
        bound = (local - timedelta(minutes=minutes_before if shortly_before else 12 * 60)).time()
        assert send_not_before(now, MARKETING, QuietHours(bound, bound), TEHRAN) == now
        later = (datetime.combine(date(2000, 1, 1), bound) + timedelta(hours=4)).time()
        held = send_not_before(now, MARKETING, QuietHours(bound, later), TEHRAN) > now
        branches.took("four quiet hours from the bound would hold it" if held else "would not")

    example()
    branches.require(**{"four quiet hours from the bound would hold it": 0.23, "would not": 0.27})


def test_quiet_hours_at_2300_tehran_resume_at_0800_the_next_morning():
    now = datetime(2026, 3, 1, 23, 0, tzinfo=TEHRAN).astimezone(timezone.utc)
    assert send_not_before(now, MARKETING, QuietHours(), TEHRAN) == datetime(2026, 3, 2, 8, 0, tzinfo=TEHRAN)


def test_backoff_grows_and_is_capped():
    branches = Branches()

    # 30 s doubles past the hour's cap after 7 retries: small attempts grow, larger ones are capped. Only 7
    # attempts grow, and hypothesis does not repeat an example, so their share is small by nature.
    @settings(deadline=None)  # no timing assertions, also not per example
    @given(st.integers(min_value=1, max_value=7) | st.integers(min_value=8, max_value=200))
    def example(attempt):
        assert timedelta(seconds=30) <= backoff(attempt) <= timedelta(hours=1)
        assert backoff(attempt + 1) >= backoff(attempt)
        branches.took("growing" if backoff(attempt + 1) > backoff(attempt) else "capped")

    example()
    branches.require(growing=0.03, capped=0.45)


def test_backoff_refuses_attempt_zero():
    with pytest.raises(ValueError):
        backoff(0)


def test_rate_slots_are_never_closer_than_one_over_the_rate():
    branches = Branches()

    @settings(deadline=None)  # no timing assertions, also not per example
    @given(st.lists(st.floats(min_value=0, max_value=0.5), min_size=1, max_size=50),
           st.floats(min_value=1, max_value=1000))
    def example(gaps, per_second):
        now = datetime(2026, 1, 1, tzinfo=timezone.utc)
        last = None
        throttled = False
        for gap in gaps:
            now += timedelta(seconds=gap)
            slot = rate_slot(last, now, per_second)
            assert slot >= now
            if last is not None:
                assert (slot - last).total_seconds() >= 1 / per_second - 1e-6
            throttled |= slot > now
            last = slot
        branches.took("throttled" if throttled else "every slot at once")

    example()
    branches.require(throttled=0.27, **{"every slot at once": 0.23})


def test_dedupe_keys_are_equal_only_for_the_same_kind_member_and_period():
    branches = Branches()
    words = st.text(min_size=1) | st.sampled_from(["birthday", "2026", "j1405", "m-1"])
    triples = st.tuples(words, words, words)

    @settings(deadline=None)  # no timing assertions, also not per example
    @given(triples, st.none() | triples)
    def example(first, second):
        (kind, member, period), (other_kind, other_member, other_period) = first, second or first
        same = (kind, member, period) == (other_kind, other_member, other_period)
        assert (dedupe_key(kind, member, period) == dedupe_key(other_kind, other_member, other_period)) == same
        branches.took("same" if same else "different")

    example()
    branches.require(same=0.27, different=0.22)


PERSIAN = "ابپتثجچحخدذرزسشصضطظعغفقکگلمنوهی "


def test_persian_text_is_counted_in_ucs2_parts_of_70_then_67():
    branches = Branches()

    @settings(deadline=None)  # no timing assertions, also not per example
    @given(st.text(alphabet=PERSIAN, min_size=0, max_size=400)
           | st.text(alphabet=PERSIAN.strip(), min_size=1).flatmap(lambda t: st.sampled_from([69, 70, 71, 134, 135, 136])
                                                         .map(lambda n: (t * n)[:n])))
    def example(text):
        expected = 1 if len(text) <= 70 else -(-len(text) // 67)
        assert segments(text) == expected
        branches.took("one part" if expected == 1 else "several parts")

    example()
    branches.require(**{"one part": 0.3, "several parts": 0.18})


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


def test_every_day_greets_its_own_calendar_day_and_a_months_last_day_the_days_the_year_lacks():
    import jdatetime

    branches = Branches()
    years = st.integers(2000, 2040)
    # Random days seldom hit the two days that greet a missing day too: Feb 28 and Esfand 29.
    days = st.one_of(
        st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)),
        years.map(lambda y: date(y, 2, 28)),
        years.map(lambda y: jdatetime.date(y - 621, 12, 29).togregorian()),
    )

    @settings(deadline=None)  # no timing assertions, also not per example
    @given(days)
    def example(day):
        j = jdatetime.date.fromgregorian(date=day)
        jalali, gregorian = birthday_keys_for(day, "jalali"), birthday_keys_for(day, "gregorian")
        assert (j.month, j.day) in jalali
        assert (day.month, day.day) in gregorian
        gregorian_lacks_feb_29 = (day.month, day.day) == (2, 28) and (day + timedelta(days=1)).day != 29
        jalali_lacks_esfand_30 = (j.month, j.day) == (12, 29) and (j + jdatetime.timedelta(days=1)).day != 30
        assert ((2, 29) in gregorian) == gregorian_lacks_feb_29
        assert ((12, 30) in jalali) == jalali_lacks_esfand_30
        branches.took("greets a missing day too" if gregorian_lacks_feb_29 or jalali_lacks_esfand_30 else "own day")

    example()
    branches.require(**{"greets a missing day too": 0.25, "own day": 0.24})


@pytest.mark.parametrize("text", ["لغو", " 11 ", "۱۱", "STOP", "stop"])
def test_opt_out_words_in_persian_digits_and_english_are_recognised(text):
    assert classify_inbound(text, {"عضویت"}) == "opt_out"


def test_the_join_keyword_and_other_texts_are_told_apart():
    assert classify_inbound("عضویت", {"عضویت"}) == "join"
    assert classify_inbound("Join", {"join"}) == "join"
    assert classify_inbound("سلام", {"عضویت"}) == "other"
