"""Campaign eligibility by dates, tier and RFM segment, and the campaign earn rate."""

from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.rules.campaigns import (
    Campaign,
    campaign_multiplier_percent,
    campaigns_from_mapping,
    eligible_campaigns,
    is_eligible,
    is_running,
)
from kiosk.errors import ConfigError
from tests.support.branches import Branches
from kiosk.rules import LoyaltyRules, earn_points
from kiosk.rules.segments import SEGMENTS

RULES = LoyaltyRules()
BRONZE, SILVER, GOLD, PLATINUM = RULES.tiers
NOWRUZ = Campaign(
    "nowruz",
    "Nowruz double points",
    date(2026, 3, 14),
    date(2026, 4, 2),
    earn_multiplier_percent=200,
)


def test_a_campaign_runs_from_its_first_to_its_last_day_inclusive():
    assert not is_running(NOWRUZ, date(2026, 3, 13))
    assert is_running(NOWRUZ, date(2026, 3, 14))
    assert is_running(NOWRUZ, date(2026, 4, 2))
    assert not is_running(NOWRUZ, date(2026, 4, 3))


def test_a_one_day_campaign_runs_on_that_day():
    flash = Campaign("flash", "Flash sale", date(2026, 5, 5), date(2026, 5, 5))
    assert is_running(flash, date(2026, 5, 5))
    assert not is_running(flash, date(2026, 5, 6))


def test_is_running_refuses_a_datetime():
    with pytest.raises(TypeError, match=r"today must be a datetime\.date"):
        is_running(NOWRUZ, datetime(2026, 3, 20, 10, 0))


def test_a_campaign_without_targets_is_for_everyone():
    for tier in RULES.tiers:
        for segment in SEGMENTS:
            assert is_eligible(NOWRUZ, date(2026, 3, 20), tier, segment)


def test_a_tier_campaign_is_only_for_those_tiers():
    vip = Campaign(
        "vip", "VIP week", date(2026, 1, 1), date(2026, 1, 7), target_tiers=["gold", "platinum"]
    )
    assert is_eligible(vip, date(2026, 1, 3), GOLD, "loyal")
    assert is_eligible(vip, date(2026, 1, 3), "platinum", "hibernating")
    assert not is_eligible(vip, date(2026, 1, 3), SILVER, "champions")


def test_a_segment_campaign_is_only_for_those_segments():
    winback = Campaign(
        "winback",
        "We miss you",
        date(2026, 1, 1),
        date(2026, 12, 31),
        target_segments={"at_risk", "hibernating"},
    )
    assert is_eligible(winback, date(2026, 6, 1), BRONZE, "at_risk")
    assert not is_eligible(winback, date(2026, 6, 1), BRONZE, "champions")


def test_tier_and_segment_targets_must_both_match():
    both = Campaign(
        "both",
        "Gold at risk",
        date(2026, 1, 1),
        date(2026, 12, 31),
        target_tiers={"gold"},
        target_segments={"at_risk"},
    )
    assert is_eligible(both, date(2026, 6, 1), GOLD, "at_risk")
    assert not is_eligible(both, date(2026, 6, 1), GOLD, "champions")
    assert not is_eligible(both, date(2026, 6, 1), SILVER, "at_risk")


def test_an_unknown_segment_is_a_caller_bug():
    with pytest.raises(ValueError, match="segment 'vip' is not a known segment"):
        is_eligible(NOWRUZ, date(2026, 3, 20), GOLD, "vip")


def test_eligible_campaigns_are_listed_ending_soonest_first():
    a = Campaign("a", "A", date(2026, 1, 1), date(2026, 3, 1))
    b = Campaign("b", "B", date(2026, 1, 1), date(2026, 2, 1))
    c = Campaign("c", "C", date(2026, 1, 1), date(2026, 2, 1), target_tiers={"gold"})
    later = Campaign("later", "Later", date(2026, 6, 1), date(2026, 7, 1))
    assert eligible_campaigns([a, b, c, later], date(2026, 1, 15), SILVER, "new") == (b, a)


def test_the_highest_campaign_multiplier_applies_and_they_do_not_stack():
    double = Campaign(
        "d", "Double", date(2026, 1, 1), date(2026, 1, 2), earn_multiplier_percent=200
    )
    extra = Campaign("e", "Extra", date(2026, 1, 1), date(2026, 1, 2), earn_multiplier_percent=150)
    assert campaign_multiplier_percent([extra, double]) == 200
    assert campaign_multiplier_percent([]) == 100


def test_campaign_points_are_rounded_once_on_the_whole_purchase():
    # 135,000 rial, silver 110%, double points: floor(135000*110*200/(100*100*10000)) = 29
    assert earn_points(135_000, SILVER, RULES, campaign_percent=200) == 29
    # Rounding each step separately would give floor(14.85) * 2 = 28.
    assert earn_points(135_000, SILVER, RULES) * 2 == 28


def test_a_campaign_percent_below_100_is_refused():
    with pytest.raises(ValueError, match="campaign_percent must be >= 100"):
        earn_points(10_000, BRONZE, RULES, campaign_percent=50)


def test_a_bigger_campaign_multiplier_never_gives_fewer_points():
    branches = Branches()

    @settings(deadline=None)  # no timing assertions, also not per example
    @given(
        st.integers(0, 10**12),
        st.sampled_from(RULES.tiers),
        st.integers(100, 500),
        st.integers(100, 500),
    )
    def example(amount, tier, p1, p2):
        low, high = sorted((p1, p2))
        assert earn_points(amount, tier, RULES) == earn_points(
            amount, tier, RULES, campaign_percent=100
        )
        earned = earn_points(amount, tier, RULES, campaign_percent=low), earn_points(
            amount, tier, RULES, campaign_percent=high
        )
        assert earned[0] <= earned[1]
        branches.took("more points" if earned[0] < earned[1] else "as many points")

    example()
    branches.require(**{"more points": 0.18, "as many points": 0.32})


def test_running_means_between_the_dates_inclusive():
    branches = Branches()
    # The days at and beside the bounds, where an off-by-one shows, the middle day, and any day.
    near_a_bound = st.sampled_from(["start", "end", "middle"]).flatmap(
        lambda bound: st.integers(-1, 1).map(lambda shift: (bound, shift)))

    @settings(deadline=None)  # no timing assertions, also not per example
    @given(
        st.dates(date(2025, 1, 1), date(2027, 12, 31)),
        st.dates(date(2025, 1, 1), date(2027, 12, 31)),
        st.dates(date(2024, 12, 1), date(2028, 1, 31)) | near_a_bound,
    )
    def example(d1, d2, today):
        start, end = sorted((d1, d2))
        if isinstance(today, tuple):
            bound, shift = today
            middle = start + (end - start) / 2
            today = {"start": start, "end": end, "middle": middle}[bound] + timedelta(days=shift)
        campaign = Campaign("c", "C", start, end)
        assert is_running(campaign, today) == (start <= today <= end)
        branches.took("first or last day" if today in (start, end) else "running" if start < today < end
                      else "not running")

    example()
    branches.require(**{"first or last day": 0.2, "running": 0.08, "not running": 0.21})


# --- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"campaign_id": ""}, r"campaign id = '' is not allowed"),
        ({"name": " "}, r"campaign 'x' name = ' ' is not allowed"),
        (
            {"starts_on": "2026-01-01"},
            r"campaign 'x' starts_on = '2026-01-01' is not allowed: use a date",
        ),
        (
            {"ends_on": datetime(2026, 2, 1)},
            r"campaign 'x' ends_on = .* is not allowed: use a date",
        ),
        (
            {"ends_on": date(2025, 12, 31)},
            r"ends_on = 2025-12-31 is not allowed: it is before starts_on 2026-01-01",
        ),
        (
            {"target_segments": {"vip"}},
            r"target_segments has unknown segment 'vip': use new, champions",
        ),
        ({"target_tiers": "gold"}, r"target_tiers = 'gold' is not allowed: give a list of names"),
        (
            {"earn_multiplier_percent": 90},
            r"earn_multiplier_percent = 90 is not allowed: .*at least 100",
        ),
        ({"earn_multiplier_percent": 1.5}, r"earn_multiplier_percent = 1.5 is not allowed"),
    ],
)
def test_a_bad_campaign_raises_a_config_error_naming_the_field(kwargs, pattern):
    base = {
        "campaign_id": "x",
        "name": "X",
        "starts_on": date(2026, 1, 1),
        "ends_on": date(2026, 2, 1),
    }
    with pytest.raises(ConfigError, match=pattern):
        Campaign(**{**base, **kwargs})


def test_campaigns_from_config_accept_toml_dates_and_iso_strings():
    campaigns = campaigns_from_mapping(
        [
            {
                "id": "nowruz",
                "name": "Nowruz",
                "starts_on": date(2026, 3, 14),
                "ends_on": "2026-04-02",
                "target_tiers": ["gold"],
                "earn_multiplier_percent": 200,
            },
            {
                "id": "winback",
                "name": "We miss you",
                "starts_on": "2026-01-01",
                "ends_on": "2026-12-31",
                "target_segments": ["at_risk"],
            },
        ],
        RULES,
    )
    assert campaigns[0] == Campaign(
        "nowruz",
        "Nowruz",
        date(2026, 3, 14),
        date(2026, 4, 2),
        frozenset({"gold"}),
        frozenset(),
        200,
    )
    assert campaigns[1].target_segments == frozenset({"at_risk"})


@pytest.mark.parametrize(
    ("items", "pattern"),
    [
        ("nowruz", r"^\[campaigns\] must be a list of campaign tables"),
        ([5], r"^\[campaigns\]\[0\] = 5 is not allowed: give a table"),
        (
            [{"id": "a", "name": "A", "starts_on": "2026-01-01"}],
            r"^\[campaigns\]\[0\] has no 'ends_on'",
        ),
        (
            [
                {
                    "id": "a",
                    "name": "A",
                    "starts_on": "2026-01-01",
                    "ends_on": "2026-01-02",
                    "tier": "x",
                }
            ],
            r"^\[campaigns\]\[0\] has unknown key 'tier'",
        ),
        (
            [{"id": "a", "name": "A", "starts_on": "2026-13-01", "ends_on": "2026-01-02"}],
            r"^\[campaigns\]\[0\] campaign 'a' starts_on = '2026-13-01' is not allowed",
        ),
        (
            [
                {
                    "id": "a",
                    "name": "A",
                    "starts_on": "2026-01-01",
                    "ends_on": "2026-01-02",
                    "target_tiers": ["Gold"],
                }
            ],
            r"^\[campaigns\]\[0\] campaign 'a' target_tiers has unknown tier 'Gold': "
            r"use bronze, silver",
        ),
        (
            [
                {"id": "a", "name": "A", "starts_on": "2026-01-01", "ends_on": "2026-01-02"},
                {"id": "a", "name": "B", "starts_on": "2026-01-01", "ends_on": "2026-01-02"},
            ],
            r"^\[campaigns\]\[1\] id = 'a' is not allowed: campaign ids must be unique",
        ),
    ],
)
def test_bad_campaign_tables_are_refused_with_their_position(items, pattern):
    with pytest.raises(ConfigError, match=pattern):
        campaigns_from_mapping(items, RULES)


HAPPY = Campaign("happy", "Happy hour", date(2026, 3, 14), date(2026, 4, 2), earn_multiplier_percent=200,
                 hours=(time(17), time(20)))


def test_a_campaign_with_hours_is_not_running_when_the_caller_gives_no_time_of_day():
    assert not is_running(HAPPY, date(2026, 3, 20))
    assert is_running(HAPPY, date(2026, 3, 20), time(18))


def test_hours_admit_exactly_the_times_of_their_window_on_the_days_the_campaign_covers():
    kinds, outcomes = Branches(), Branches()

    @settings(deadline=None)  # no timing assertions, also not per example
    @given(st.times(), st.times(), st.times(), st.dates(date(2026, 3, 10), date(2026, 4, 6))
           | st.sampled_from([date(2026, 3, 14), date(2026, 4, 2), date(2026, 4, 3)]))
    def example(start, until, now, today):
        if start == until:
            return
        c = Campaign("w", "Window", date(2026, 3, 14), date(2026, 4, 2), earn_multiplier_percent=200,
                     hours=(start, until))
        if start < until:
            expected = date(2026, 3, 14) <= today <= date(2026, 4, 2) and start <= now < until
            kinds.took("same-day window")
        elif now >= start:
            expected = date(2026, 3, 14) <= today <= date(2026, 4, 2)
            kinds.took("overnight, evening")
        else:  # the small hours belong to the evening before
            expected = now < until and date(2026, 3, 14) <= today - timedelta(days=1) <= date(2026, 4, 2)
            kinds.took("overnight, small hours")
        assert is_running(c, today, now) is expected
        outcomes.took("running" if expected else "not running")

    example()
    kinds.require(**{"same-day window": 0.24, "overnight, evening": 0.05, "overnight, small hours": 0.2})
    outcomes.require(running=0.1, **{"not running": 0.4})


def test_hours_in_a_cloud_table_are_read_as_shop_local_times():
    (c,) = campaigns_from_mapping([{"id": "h", "name": "H", "starts_on": "2026-03-14", "ends_on": "2026-04-02",
                                    "earn_multiplier_percent": 200, "hours": "17:00-20:30"}], RULES)
    assert c.hours == (time(17), time(20, 30))
