"""Bonus rules: enrollment, profile completion, birthday and referral.

Each function returns the number of bonus points to credit now (0 = none); the service
records a non-zero result as a "bonus" entry. Dates are passed in, never read from a clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

import jdatetime

from kiosk.rules.config import LoyaltyRules
from kiosk.rules.ledger import Entry, is_plain_date, require_aware, unique_entries


def enrollment_bonus(rules: LoyaltyRules) -> int:
    """Points for joining the club."""
    return rules.enrollment_bonus


def profile_completion_bonus(has_birthday: bool, has_last_name: bool, already_given: bool,
                             rules: LoyaltyRules) -> int:
    """Points once the profile has both a birthday and a last name; given only once."""
    if already_given or not (has_birthday and has_last_name):
        return 0
    return rules.profile_completion_bonus


def referral_bonuses(rules: LoyaltyRules) -> tuple[int, int]:
    """(points for the referrer, points for the new member they referred)."""
    return rules.referral_bonus, rules.referred_bonus


def _require_date(name: str, value: object) -> None:
    if not is_plain_date(value):
        raise TypeError(f"{name} must be a datetime.date (no time), got {value!r}")


def birthday_bonus(birthday: date | None, today: date, last_given: date | None,
                   rules: LoyaltyRules) -> int:
    """Birthday points, at most once per calendar year.

    birthday_mode "month": any day of the birth month; "day": on the birthday itself, and a
    Feb 29 birthday is celebrated on Feb 28 in non-leap years. With calendar "jalali" the
    month, the day and the year are Solar Hijri ones (Esfand 30 -> Esfand 29 in common
    years); all dates passed in stay Gregorian `date`s. A member without a birthday gets 0.
    `last_given` is the date the bonus was last credited (None = never); a bonus already
    given in the same calendar year as `today` blocks another one.
    """
    if birthday is None:
        return 0
    _require_date("birthday", birthday)
    _require_date("today", today)
    if last_given is not None:
        _require_date("last_given", last_given)
    if rules.birthday_bonus == 0:
        return 0
    if rules.calendar == "jalali":
        eligible = _jalali_eligible(birthday, today, last_given, rules.birthday_mode)
    else:
        eligible = _gregorian_eligible(birthday, today, last_given, rules.birthday_mode)
    return rules.birthday_bonus if eligible else 0


def is_birthday_period(birthday: date | None, today: date, rules: LoyaltyRules) -> bool:
    """True on the member's birthday (birthday_mode "day") or in their birth month ("month"), in the rules'
    calendar (Jalali aware), whatever was given before; for birthday campaigns."""
    if birthday is None:
        return False
    _require_date("birthday", birthday)
    _require_date("today", today)
    if rules.calendar == "jalali":
        return _jalali_eligible(birthday, today, None, rules.birthday_mode)
    return _gregorian_eligible(birthday, today, None, rules.birthday_mode)


def _gregorian_eligible(birthday: date, today: date, last_given: date | None,
                        mode: str) -> bool:
    if last_given is not None and last_given.year == today.year:
        return False
    if mode == "month":
        return today.month == birthday.month
    return today == _celebrated_on(today.year, birthday.month, birthday.day, _gregorian)


def _jalali_eligible(birthday: date, today: date, last_given: date | None, mode: str) -> bool:
    jbirth = jdatetime.date.fromgregorian(date=birthday)
    jtoday = jdatetime.date.fromgregorian(date=today)
    if last_given is not None and jdatetime.date.fromgregorian(date=last_given).year == jtoday.year:
        return False
    if mode == "month":
        return jtoday.month == jbirth.month
    return jtoday == _celebrated_on(jtoday.year, jbirth.month, jbirth.day, jdatetime.date)


def _gregorian(year: int, month: int, day: int) -> date:
    return date(year, month, day)


def _celebrated_on(year: int, month: int, day: int, make):
    """This year's birthday; the last day of a leap month moves back one day otherwise.

    Only Feb 29 (gregorian) and Esfand 30 (jalali) can be missing in a year, and in both
    cases the day before exists.
    """
    try:
        return make(year, month, day)
    except ValueError:
        return make(year, month, day - 1)


def visit_streak(entries: Iterable[Entry], now: datetime, since: datetime | None,
                 rules: LoyaltyRules) -> int:
    """How many consecutive streak periods, the latest ending at `now`, hold a purchase.

    Periods are counted back from `now`: period k is
    (now - (k+1) * streak_period_days, now - k * streak_period_days]. Only "earn" entries
    after `since` count (pass the time the streak bonus was last given, so one streak
    pays once and the next streak starts from scratch). Entries after `now` are ignored.
    """
    require_aware("now", now)
    if since is not None:
        require_aware("since", since)
    period = timedelta(days=rules.streak_period_days)
    hit = {
        (now - e.created_at) // period
        for e in unique_entries(entries)
        if e.kind == "earn" and e.created_at <= now and (since is None or e.created_at > since)
    }
    streak = 0
    while streak in hit:
        streak += 1
    return streak


def streak_bonus(entries: Iterable[Entry], now: datetime, last_given: datetime | None,
                 rules: LoyaltyRules) -> int:
    """streak_bonus points once a visit streak reaches streak_periods, else 0.

    Call it after recording a purchase; `last_given` is when this bonus was last credited.
    """
    if rules.streak_bonus == 0:
        return 0
    if visit_streak(entries, now, last_given, rules) >= rules.streak_periods:
        return rules.streak_bonus
    return 0
