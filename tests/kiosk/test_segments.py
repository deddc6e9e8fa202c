"""RFM segmentation from a member's ledger."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.errors import ConfigError
from tests.support.branches import Branches
from kiosk.rules import Entry
from kiosk.rules.segments import (
    SEGMENTS,
    Rfm,
    RfmRules,
    RfmScores,
    RfmValues,
    quintile_thresholds,
    rfm,
    rfm_rules_from_mapping,
    rfm_scores,
    rfm_values,
    segment_for,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
RULES = RfmRules()
# Every segment is reached by some score combination (the rarest by about 4 % of the examples, depending on the
# constants hypothesis mixes in from the modules loaded before), "new" by a third or more.
SEGMENT_SHARES = {**{segment: 0.015 for segment in SEGMENTS}, "new": 0.18}


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def buy(event_id: str, days_ago: float, amount: int) -> Entry:
    return Entry(event_id, "earn", amount // 10_000, amount, ago(days_ago))


# --- values ------------------------------------------------------------------------------


def test_values_count_purchases_only_and_each_event_once():
    ledger = [
        buy("a", 3.5, 200_000),
        buy("b", 40, 300_000),
        buy("a", 3.5, 200_000),  # repeat: counted once
        Entry("r", "redeem", -10, 0, ago(1)),  # not a purchase
        Entry("x", "bonus", 100, 0, ago(0.5)),  # not a purchase
        Entry("f", "adjust", 5, 999_999, ago(0.5)),  # not a purchase
    ]
    assert rfm_values(ledger, NOW, RULES) == RfmValues(3, 2, 500_000)


def test_frequency_and_monetary_use_the_window_but_recency_does_not():
    ledger = [buy("old", 500, 9_000_000), buy("older", 700, 1_000_000)]
    assert rfm_values(ledger, NOW, RULES) == RfmValues(500, 0, 0)
    assert rfm_values(ledger, NOW, RfmRules(window_days=600)) == RfmValues(500, 1, 9_000_000)


def test_a_member_who_never_bought_has_no_recency():
    assert rfm_values([Entry("b", "bonus", 100, 0, ago(3))], NOW, RULES) == RfmValues(None, 0, 0)


def test_purchases_after_now_are_ignored():
    assert rfm_values([buy("a", -1, 100_000)], NOW, RULES) == RfmValues(None, 0, 0)


def test_values_refuse_a_naive_now():
    with pytest.raises(ValueError, match="has no time zone"):
        rfm_values([], datetime(2026, 1, 1), RULES)


# --- scores --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "score"),
    [(0, 5), (14, 5), (15, 4), (30, 4), (31, 3), (90, 3), (91, 2), (180, 2), (181, 1), (None, 1)],
)
def test_recency_scores_fall_as_days_since_the_last_purchase_grow(days, score):
    assert rfm_scores(RfmValues(days, 0, 0), RULES).recency == score


@pytest.mark.parametrize(
    ("count", "score"), [(0, 1), (1, 1), (2, 2), (3, 2), (4, 3), (8, 4), (16, 5), (99, 5)]
)
def test_frequency_scores_rise_with_the_number_of_purchases(count, score):
    assert rfm_scores(RfmValues(1, count, 0), RULES).frequency == score


@pytest.mark.parametrize(("rial", "score"), [(0, 1), (999_999, 1), (1_000_000, 2), (50_000_000, 5)])
def test_monetary_scores_rise_with_the_rial_spent(rial, score):
    assert rfm_scores(RfmValues(1, 1, rial), RULES).monetary == score


def test_scores_stay_in_1_to_5_and_better_figures_never_score_lower():
    recency, spend = Branches(), Branches()

    @settings(deadline=None)  # no timing assertions, also not per example
    @given(
        st.one_of(st.none(), st.integers(0, 5000)),
        st.integers(0, 100),
        st.integers(0, 10**9),
        st.integers(0, 5000),
        st.integers(0, 100),
        st.integers(0, 10**9),
    )
    def example(r1, f1, m1, r2, f2, m2):
        s1 = rfm_scores(RfmValues(r1, f1, m1), RULES)
        for s in (s1.recency, s1.frequency, s1.monetary):
            assert 1 <= s <= 5
        if r1 is not None and r1 <= r2:
            later = rfm_scores(RfmValues(r2, 0, 0), RULES).recency
            assert s1.recency >= later
            recency.took("more recent scores higher" if s1.recency > later else "same recency score")
        else:
            recency.took("not compared")
        if f1 <= f2 and m1 <= m2:
            s2 = rfm_scores(RfmValues(0, f2, m2), RULES)
            assert s1.frequency <= s2.frequency and s1.monetary <= s2.monetary
            spend.took("compared")
        else:
            spend.took("not compared")

    example()
    recency.require(**{"more recent scores higher": 0.06, "same recency score": 0.05})
    spend.require(compared=0.18)


# --- segments ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("r", "f", "m", "segment"),
    [
        (5, 5, 5, "champions"),
        (4, 4, 4, "champions"),
        (3, 4, 5, "loyal"),
        (5, 4, 1, "loyal"),
        (5, 2, 1, "potential_loyalist"),
        (4, 3, 5, "potential_loyalist"),
        (5, 1, 1, "promising"),
        (2, 3, 1, "at_risk"),
        (1, 5, 5, "at_risk"),
        (3, 3, 3, "needs_attention"),
        (3, 1, 1, "needs_attention"),
        (2, 2, 5, "about_to_sleep"),
        (1, 2, 2, "hibernating"),
        (1, 1, 1, "hibernating"),
    ],
)
def test_segments_follow_the_table(r, f, m, segment):
    assert segment_for(RfmScores(r, f, m), 365, RULES) == segment


def test_a_recently_enrolled_member_is_new_whatever_the_scores():
    assert segment_for(RfmScores(5, 5, 5), 29, RULES) == "new"
    assert segment_for(RfmScores(5, 5, 5), 30, RULES) == "champions"
    assert segment_for(RfmScores(5, 5, 5), 0, RfmRules(new_member_days=0)) == "champions"


def test_every_score_combination_has_a_known_segment():
    branches = Branches()

    @settings(max_examples=300, deadline=None)  # no timing assertions, also not per example
    @given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5), st.integers(0, 1000))
    def example(r, f, m, age):
        segment = segment_for(RfmScores(r, f, m), age, RULES)
        assert segment in SEGMENTS
        branches.took(segment)

    example()
    branches.require(**SEGMENT_SHARES)


def test_a_frequent_big_spender_who_came_last_week_is_a_champion():
    ledger = [buy(f"p{i}", 7 + i * 20, 3_000_000) for i in range(10)]  # 10 buys, 30M rial
    result = rfm(ledger, NOW, RULES)
    assert result == Rfm(RfmValues(7, 10, 30_000_000), RfmScores(5, 4, 4), "champions")


def test_a_frequent_buyer_gone_for_half_a_year_is_at_risk():
    ledger = [buy(f"p{i}", 200 + i * 10, 500_000) for i in range(6)]
    assert rfm(ledger, NOW, RULES).segment == "at_risk"


def test_a_member_with_one_old_purchase_is_hibernating():
    ledger = [Entry("enrol", "bonus", 100, 0, ago(400)), buy("p", 300, 100_000)]
    assert rfm(ledger, NOW, RULES).segment == "hibernating"


def test_enrollment_time_defaults_to_the_first_ledger_entry():
    ledger = [Entry("enrol", "bonus", 100, 0, ago(10)), buy("p", 2, 100_000)]
    assert rfm(ledger, NOW, RULES).segment == "new"
    assert rfm(ledger, NOW, RULES, enrolled_at=ago(100)).segment == "promising"


def test_a_member_with_an_empty_ledger_counts_as_new():
    assert rfm([], NOW, RULES).segment == "new"


# --- rules and thresholds ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"window_days": 0}, r"window_days = 0 is not allowed: use a whole number of at least 1"),
        ({"new_member_days": -1}, r"new_member_days = -1 is not allowed"),
        ({"recency_days": (14, 30, 90)}, r"recency_days = \(14, 30, 90\) is not allowed: give 4"),
        ({"frequency_purchases": (2, 2, 8, 16)}, r"frequency_purchases = .* increasing order"),
        ({"monetary_rial": (1, 2, 3, 4.5)}, r"monetary_rial = .* whole numbers"),
    ],
)
def test_bad_rfm_rules_raise_a_config_error_naming_the_field(kwargs, pattern):
    with pytest.raises(ConfigError, match=pattern):
        RfmRules(**kwargs)


def test_rfm_rules_from_a_config_table_accept_lists_and_refuse_unknown_keys():
    rules = rfm_rules_from_mapping({"recency_days": [7, 14, 30, 60]})
    assert rules.recency_days == (7, 14, 30, 60)
    with pytest.raises(ConfigError, match=r"^\[segments\] 'recency' is not a known RFM setting"):
        rfm_rules_from_mapping({"recency": [1, 2, 3, 4]})
    with pytest.raises(ConfigError, match=r"^\[segments\] window_days = -1"):
        rfm_rules_from_mapping({"window_days": -1})


def test_quintile_thresholds_split_a_population_into_fifths():
    assert quintile_thresholds(range(1, 101)) == (21, 41, 61, 81)


def test_quintile_thresholds_stay_increasing_when_values_repeat():
    assert quintile_thresholds([0] * 50 + [3] * 50) == (0, 1, 3, 4)


def test_quintile_thresholds_need_data():
    with pytest.raises(ValueError, match="at least one value"):
        quintile_thresholds([])


def test_quintile_thresholds_are_always_valid_rfm_thresholds():
    branches = Branches()

    @settings(deadline=None)  # no timing assertions, also not per example
    @given(st.lists(st.integers(0, 10**8), min_size=1, max_size=300) | st.lists(st.integers(0, 3), min_size=1))
    def example(values):
        bounds = quintile_thresholds(values)
        RfmRules(monetary_rial=bounds)  # raises if not 4 increasing whole numbers
        branches.took("fewer than five amounts" if len(set(values)) < 5 else "five amounts or more")

    example()
    branches.require(**{"fewer than five amounts": 0.4, "five amounts or more": 0.1})


def test_quintile_thresholds_of_distinct_values_use_every_score():
    branches = Branches()

    @settings(deadline=None)  # no timing assertions, also not per example
    @given(st.lists(st.integers(0, 10**8), min_size=5, max_size=300, unique=True))
    def example(values):
        rules = RfmRules(monetary_rial=quintile_thresholds(values))
        scores = [rfm_scores(RfmValues(0, 0, v), rules).monetary for v in values]
        assert set(scores) == {1, 2, 3, 4, 5}
        sizes = [scores.count(s) for s in range(1, 6)]
        assert max(sizes) - min(sizes) <= 1
        branches.took("equal fifths" if len(values) % 5 == 0 else "uneven fifths")

    example()
    branches.require(**{"equal fifths": 0.18, "uneven fifths": 0.3})
