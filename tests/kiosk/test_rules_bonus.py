"""Bonus rules: enrollment, profile completion, referral and the yearly birthday bonus."""

import calendar
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.branches import Branches
from kiosk.rules import (
    Entry,
    LoyaltyRules,
    birthday_bonus,
    enrollment_bonus,
    profile_completion_bonus,
    referral_bonuses,
    streak_bonus,
    visit_streak,
)

MONTH = LoyaltyRules(birthday_mode="month")
DAY = LoyaltyRules(birthday_mode="day")
JALALI_MONTH = LoyaltyRules(birthday_mode="month", calendar="jalali")
JALALI_DAY = LoyaltyRules(birthday_mode="day", calendar="jalali")


def test_enrollment_and_referral_bonuses_come_from_the_rules():
    rules = LoyaltyRules(enrollment_bonus=7, referral_bonus=30, referred_bonus=20)
    assert enrollment_bonus(rules) == 7
    assert referral_bonuses(rules) == (30, 20)
    assert referral_bonuses(LoyaltyRules()) == (100, 50)


@pytest.mark.parametrize(
    ("has_birthday", "has_last_name", "already_given", "points"),
    [
        (True, True, False, 50),
        (True, False, False, 0),
        (False, True, False, 0),
        (False, False, False, 0),
        (True, True, True, 0),
    ],
)
def test_profile_completion_needs_birthday_and_last_name_and_is_given_once(
    has_birthday, has_last_name, already_given, points
):
    assert (
        profile_completion_bonus(has_birthday, has_last_name, already_given, LoyaltyRules())
        == points
    )


# --- birthday, gregorian ------------------------------------------------------------------


def test_month_mode_gives_the_bonus_any_day_of_the_birth_month():
    born = date(1990, 5, 17)
    assert birthday_bonus(born, date(2026, 5, 1), None, MONTH) == 200
    assert birthday_bonus(born, date(2026, 5, 31), None, MONTH) == 200
    assert birthday_bonus(born, date(2026, 4, 30), None, MONTH) == 0
    assert birthday_bonus(born, date(2026, 6, 1), None, MONTH) == 0


def test_the_birthday_bonus_is_given_once_per_calendar_year():
    born = date(1990, 5, 17)
    assert birthday_bonus(born, date(2026, 5, 20), date(2026, 5, 2), MONTH) == 0
    assert birthday_bonus(born, date(2026, 5, 20), date(2025, 5, 30), MONTH) == 200
    assert birthday_bonus(born, date(2026, 5, 17), date(2026, 5, 17), DAY) == 0


def test_day_mode_gives_the_bonus_only_on_the_birthday():
    born = date(1985, 12, 31)
    assert birthday_bonus(born, date(2026, 12, 31), None, DAY) == 200
    assert birthday_bonus(born, date(2026, 12, 30), None, DAY) == 0
    assert birthday_bonus(born, date(2027, 1, 1), None, DAY) == 0


def test_a_feb_29_birthday_is_celebrated_on_feb_28_in_a_common_year():
    born = date(2000, 2, 29)
    assert birthday_bonus(born, date(2027, 2, 28), None, DAY) == 200
    assert birthday_bonus(born, date(2027, 3, 1), None, DAY) == 0


def test_a_feb_29_birthday_is_celebrated_on_feb_29_in_a_leap_year():
    born = date(2000, 2, 29)
    assert birthday_bonus(born, date(2028, 2, 29), None, DAY) == 200
    assert birthday_bonus(born, date(2028, 2, 28), None, DAY) == 0


def test_a_feb_29_birthday_in_month_mode_gets_the_bonus_in_february():
    born = date(2000, 2, 29)
    assert birthday_bonus(born, date(2027, 2, 1), None, MONTH) == 200
    assert birthday_bonus(born, date(2027, 3, 1), None, MONTH) == 0


def test_a_member_without_a_birthday_gets_no_birthday_bonus():
    assert birthday_bonus(None, date(2026, 5, 1), None, MONTH) == 0


def test_a_zero_birthday_bonus_switches_it_off():
    assert (
        birthday_bonus(date(1990, 5, 1), date(2026, 5, 1), None, LoyaltyRules(birthday_bonus=0))
        == 0
    )


def test_a_datetime_instead_of_a_date_is_refused():
    with pytest.raises(TypeError, match=r"today must be a datetime.date \(no time\)"):
        birthday_bonus(date(1990, 5, 1), datetime(2026, 5, 1, 9, 0), None, MONTH)


births = st.dates(min_value=date(1920, 1, 1), max_value=date(2020, 12, 31)) | st.sampled_from(
    [date(1988, 2, 29), date(2000, 2, 29), date(1996, 2, 29), date(1990, 2, 28), date(1990, 12, 31)])


def test_day_mode_gives_exactly_one_bonus_day_per_year():
    branches = Branches()

    @settings(deadline=None)  # no timing assertions, also not per example
    @given(births, st.dates(min_value=date(2021, 1, 1), max_value=date(2060, 12, 31)))
    def example(born, some_day):
        year = some_day.year
        days = [
            date.fromordinal(o)
            for o in range(date(year, 1, 1).toordinal(), date(year + 1, 1, 1).toordinal())
        ]
        leap = calendar.isleap(year)
        # The birthday itself; a Feb 29 birthday on Feb 28 in a common year.
        celebrated = date(year, 2, 28) if (born.month, born.day) == (2, 29) and not leap else born.replace(year=year)
        assert [t for t in days if birthday_bonus(born, t, None, DAY)] == [celebrated]
        branches.took("feb 29 in a common year" if (born.month, born.day) == (2, 29) and not leap else
                      "feb 29 in a leap year" if (born.month, born.day) == (2, 29) else "another day")

    example()
    branches.require(**{"feb 29 in a common year": 0.07, "feb 29 in a leap year": 0.03, "another day": 0.4})


def test_walking_through_a_year_the_bonus_is_paid_once():
    """Simulate a member who visits every day and is credited whenever eligible."""
    branches = Branches()

    @settings(deadline=None)  # no timing assertions, also not per example
    @given(births, st.dates(min_value=date(2021, 1, 1), max_value=date(2060, 12, 31))
           | st.integers(2021, 2060).map(lambda y: date(y, 1, 1)))
    def example(born, start):
        last_given = None
        paid = 0
        for offset in range(365):
            today = date.fromordinal(start.toordinal() + offset)
            if birthday_bonus(born, today, last_given, MONTH):
                paid += 1
                last_given = today
        assert 1 <= paid <= 2  # a 365-day walk can span two calendar years' birth months
        if start.month == 1 and start.day == 1:
            assert paid == 1
        branches.took("paid twice" if paid == 2 else "paid once from new year" if start.timetuple().tm_yday == 1
                      else "paid once")

    example()
    branches.require(**{"paid once": 0.14, "paid once from new year": 0.22, "paid twice": 0.13})


# --- birthday, jalali -------------------------------------------------------------------------


def test_jalali_month_mode_uses_the_solar_hijri_birth_month():
    born = date(1990, 3, 25)  # 5 Farvardin 1369
    assert birthday_bonus(born, date(2026, 3, 21), None, JALALI_MONTH) == 200  # 1 Farvardin 1405
    assert birthday_bonus(born, date(2026, 4, 20), None, JALALI_MONTH) == 200  # 31 Farvardin
    assert birthday_bonus(born, date(2026, 4, 21), None, JALALI_MONTH) == 0  # 1 Ordibehesht
    assert birthday_bonus(born, date(2026, 3, 20), None, JALALI_MONTH) == 0  # 29 Esfand 1404
    # The gregorian reading would differ: March 2026 is not the jalali birth month throughout.
    assert birthday_bonus(born, date(2026, 3, 5), None, MONTH) == 200
    assert birthday_bonus(born, date(2026, 3, 5), None, JALALI_MONTH) == 0


def test_jalali_once_a_year_counts_solar_hijri_years():
    born = date(1990, 3, 19)  # 28 Esfand 1368
    # Given on 28 Esfand 1403 (2025-03-18); 1 Esfand 1404 (2026-02-20) is a new jalali year.
    assert birthday_bonus(born, date(2026, 2, 20), date(2025, 3, 18), JALALI_MONTH) == 200
    # Given on 2026-02-20 (1404); 2026-03-10 is still 1404 although gregorian years match too.
    assert birthday_bonus(born, date(2026, 3, 10), date(2026, 2, 20), JALALI_MONTH) == 0


def test_an_esfand_30_birthday_moves_to_esfand_29_in_a_common_jalali_year():
    born = date(2025, 3, 20)  # 30 Esfand 1403 (1403 is a leap year)
    assert birthday_bonus(born, date(2026, 3, 20), None, JALALI_DAY) == 200  # 29 Esfand 1404
    assert birthday_bonus(born, date(2026, 3, 21), None, JALALI_DAY) == 0  # 1 Farvardin 1405


# --- visit streaks ------------------------------------------------------------------------------

STREAK = LoyaltyRules(streak_bonus=150, streak_periods=4, streak_period_days=7)
NOW = datetime(2026, 6, 1, 18, 0, tzinfo=UTC)


def bought(event_id: str, days_ago: float) -> Entry:
    return Entry(event_id, "earn", 10, 100_000, NOW - timedelta(days=days_ago))


def test_a_purchase_every_week_for_four_weeks_earns_the_streak_bonus():
    ledger = [bought("w3", 21), bought("w2", 14), bought("w1", 7), bought("w0", 0)]
    assert visit_streak(ledger, NOW, None, STREAK) == 4
    assert streak_bonus(ledger, NOW, None, STREAK) == 150


def test_a_missed_week_breaks_the_streak():
    ledger = [bought("w3", 21), bought("w1", 7), bought("w0", 0)]
    assert visit_streak(ledger, NOW, None, STREAK) == 2
    assert streak_bonus(ledger, NOW, None, STREAK) == 0


def test_periods_are_counted_back_from_now_with_the_older_edge_open():
    # (now - 7d, now] is this week; a purchase exactly 7 days ago belongs to last week.
    assert visit_streak([bought("a", 7)], NOW, None, STREAK) == 0
    assert visit_streak([bought("a", 6.99), bought("b", 7)], NOW, None, STREAK) == 2


def test_several_purchases_in_one_week_count_as_one_period():
    ledger = [bought(f"p{i}", i * 0.5) for i in range(10)]  # five days of shopping
    assert visit_streak(ledger, NOW, None, STREAK) == 1


def test_a_streak_pays_once_and_the_next_one_starts_from_scratch():
    ledger = [bought("w3", 21), bought("w2", 14), bought("w1", 7), bought("w0", 0)]
    # Paid when w0 was recorded: asking again at once gives nothing.
    assert streak_bonus(ledger, NOW, NOW, STREAK) == 0
    # Paid a week ago (after w1): only w0 counts towards the next streak.
    assert visit_streak(ledger, NOW, NOW - timedelta(days=6), STREAK) == 1
    # Three more weekly purchases complete the next streak.
    later = NOW + timedelta(days=21)
    more = ledger + [
        Entry(f"n{i}", "earn", 10, 100_000, NOW + timedelta(days=7 * i)) for i in (1, 2, 3)
    ]
    assert streak_bonus(more, later, NOW - timedelta(days=6), STREAK) == 150


def test_bonus_and_redeem_entries_are_not_visits():
    ledger = [Entry("b", "bonus", 5, 0, NOW), Entry("r", "redeem", -5, 0, NOW - timedelta(days=8))]
    assert visit_streak(ledger, NOW, None, STREAK) == 0


def test_the_streak_bonus_is_off_by_default():
    ledger = [bought(f"w{i}", 7 * i) for i in range(8)]
    assert visit_streak(ledger, NOW, None, LoyaltyRules()) == 8
    assert streak_bonus(ledger, NOW, None, LoyaltyRules()) == 0


def test_the_streak_never_exceeds_the_periods_with_purchases():
    branches = Branches()

    @settings(deadline=None)  # no timing assertions, also not per example
    @given(st.lists(st.integers(0, 60 * 24), max_size=25), st.integers(1, 10))
    def example(hours_ago, period_days):
        rules = LoyaltyRules(streak_period_days=period_days)
        ledger = [
            Entry(f"p{i}", "earn", 1, 1, NOW - timedelta(hours=h)) for i, h in enumerate(hours_ago)
        ]
        streak = visit_streak(ledger, NOW, None, rules)
        periods = {h // (24 * period_days) for h in hours_ago}
        assert streak <= len(periods)
        assert all(k in periods for k in range(streak))
        assert streak not in periods
        branches.took("no streak" if streak == 0 else "one period" if streak == 1 else "several periods")

    example()
    branches.require(**{"no streak": 0.29, "one period": 0.035, "several periods": 0.17})
