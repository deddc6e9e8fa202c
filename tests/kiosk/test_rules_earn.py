"""Earning, tiers, credit and cashback: integer arithmetic with a stated rounding rule."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.branches import Branches
from kiosk.rules import (
    LoyaltyRules,
    Tier,
    TierProgress,
    cashback_rial,
    credit_rial,
    earn_points,
    points_payable,
    tier_for,
    tier_progress,
)

RULES = LoyaltyRules()
BRONZE, SILVER, GOLD, PLATINUM = RULES.tiers

# Bills from nothing to a whole chain's day, and small ones, where a point more or less shows.
amounts = st.integers(min_value=0, max_value=10**15) | st.integers(min_value=0, max_value=10**6)
multipliers = st.integers(min_value=1, max_value=1000)
rates = st.integers(min_value=1, max_value=10**6)
NO_DEADLINE = settings(deadline=None)  # no timing assertions, also not per example


# --- rounding rule: floor(amount * multiplier_percent / (100 * rial_per_point)) -----------


@pytest.mark.parametrize(
    ("amount", "tier", "points"),
    [
        (0, BRONZE, 0),
        (9_999, BRONZE, 0),  # below one point rounds down to nothing
        (10_000, BRONZE, 1),
        (19_999, BRONZE, 1),  # 1.9999 -> 1, never rounded to nearest
        (129_999, SILVER, 14),  # 14.29999 -> 14
        (90_910, SILVER, 10),  # 10.0001 -> 10
        (90_909, SILVER, 9),  # 9.99999 -> 9: the multiplier is not rounded first
        (8_000, PLATINUM, 1),  # 1.2 -> 1
        (1_000_000, GOLD, 125),
        (10**18, PLATINUM, 15 * 10**13),  # big rial amounts stay exact (no floats)
    ],
)
def test_earned_points_are_rounded_down_on_the_whole_purchase(amount, tier, points):
    assert earn_points(amount, tier, RULES) == points


def test_the_earn_rate_comes_from_the_rules():
    assert earn_points(10_000, BRONZE, LoyaltyRules(rial_per_point=1_000)) == 10


def test_a_negative_amount_is_refused_and_points_at_refunds():
    with pytest.raises(ValueError, match=r"amount_rial must be >= 0, got -1; .*adjust"):
        earn_points(-1, BRONZE, RULES)


def test_a_float_amount_is_refused():
    with pytest.raises(TypeError, match="whole number"):
        earn_points(10_000.0, BRONZE, RULES)  # type: ignore[arg-type]


def test_earning_never_decreases_when_the_amount_grows():
    branches = Branches()

    @NO_DEADLINE
    @given(amounts, amounts, multipliers, rates)
    def example(a, b, mult, rate):
        rules = LoyaltyRules(rial_per_point=rate)
        tier = Tier("t", 0, mult)
        low, high = sorted((a, b))
        assert earn_points(low, tier, rules) <= earn_points(high, tier, rules)
        branches.took("more" if earn_points(low, tier, rules) < earn_points(high, tier, rules) else "same")

    example()
    branches.require(more=0.23, same=0.26)


def test_earning_never_decreases_when_the_multiplier_grows():
    branches = Branches()

    @NO_DEADLINE
    @given(amounts, multipliers, multipliers, rates)
    def example(amount, m1, m2, rate):
        rules = LoyaltyRules(rial_per_point=rate)
        low, high = sorted((m1, m2))
        earned = earn_points(amount, Tier("a", 0, low), rules), earn_points(amount, Tier("b", 0, high), rules)
        assert earned[0] <= earned[1]
        branches.took("more" if earned[0] < earned[1] else "same")

    example()
    branches.require(more=0.25, same=0.25)


def test_earned_points_are_the_exact_floor_of_the_rate():
    branches = Branches()

    @NO_DEADLINE
    @given(amounts | st.builds(lambda n, rate: n * rate, st.integers(0, 10**6), st.just(100)), multipliers,
           rates | st.just(100))
    def example(amount, mult, rate):
        points = earn_points(amount, Tier("t", 0, mult), LoyaltyRules(rial_per_point=rate))
        # floor means: points fit into the value and one more point would not.
        assert points * 100 * rate <= amount * mult < (points + 1) * 100 * rate
        branches.took("no point" if points == 0 else "exact" if points * 100 * rate == amount * mult else "rounded down")

    example()
    branches.require(**{"no point": 0.13, "exact": 0.06, "rounded down": 0.3})


# --- tiers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("points", "name"),
    [
        (0, "bronze"),
        (999, "bronze"),
        (1000, "silver"),
        (4999, "silver"),
        (5000, "gold"),
        (19_999, "gold"),
        (20_000, "platinum"),
        (10**9, "platinum"),
    ],
)
def test_the_tier_is_the_highest_threshold_reached(points, name):
    assert tier_for(points, RULES).name == name


def test_negative_window_points_are_refused():
    with pytest.raises(ValueError, match="points_in_window must be >= 0"):
        tier_for(-1, RULES)


def test_more_points_never_give_a_lower_tier():
    branches = Branches()
    balances = st.integers(0, 10**7) | st.integers(0, 2 * RULES.tiers[-1].min_points)

    @NO_DEADLINE
    @given(balances, balances)
    def example(a, b):
        low, high = sorted((a, b))
        order = RULES.tiers.index(tier_for(low, RULES)), RULES.tiers.index(tier_for(high, RULES))
        assert order[0] <= order[1]
        branches.took("higher tier" if order[0] < order[1] else "same tier")

    example()
    branches.require(**{"higher tier": 0.18, "same tier": 0.3})


def test_tier_order_is_monotonic_for_any_valid_tier_table():
    branches = Branches()

    @NO_DEADLINE
    @given(
        st.lists(st.integers(1, 10**6), min_size=0, max_size=6, unique=True),
        st.integers(0, 2 * 10**6),
        st.integers(0, 2 * 10**6),
    )
    def example(thresholds, a, b):
        tiers = (Tier("t0", 0, 100),) + tuple(
            Tier(f"t{i + 1}", m, 100) for i, m in enumerate(sorted(thresholds))
        )
        rules = LoyaltyRules(tiers=tiers)
        low, high = sorted((a, b))
        tier = tier_for(low, rules)
        assert tier.min_points <= low
        assert tiers.index(tier) <= tiers.index(tier_for(high, rules))
        branches.took("higher tier" if tiers.index(tier) < tiers.index(tier_for(high, rules)) else "same tier")

    example()
    branches.require(**{"higher tier": 0.14, "same tier": 0.35})


def test_progress_shows_the_next_tier_and_the_points_still_needed():
    assert tier_progress(250, RULES) == TierProgress(BRONZE, SILVER, 750, 25)
    assert tier_progress(1000, RULES) == TierProgress(SILVER, GOLD, 4000, 0)
    assert tier_progress(4999, RULES) == TierProgress(SILVER, GOLD, 1, 99)


def test_progress_at_the_top_tier_is_complete():
    assert tier_progress(20_000, RULES) == TierProgress(PLATINUM, None, 0, 100)
    assert tier_progress(99_999, RULES) == TierProgress(PLATINUM, None, 0, 100)


def test_progress_with_a_single_tier_is_complete():
    rules = LoyaltyRules(tiers=(Tier("member", 0, 100),))
    assert tier_progress(0, rules) == TierProgress(rules.tiers[0], None, 0, 100)


def test_progress_is_consistent_with_the_tier():
    branches = Branches()

    @NO_DEADLINE
    @given(st.integers(0, 10**6) | st.integers(0, RULES.tiers[-1].min_points + 10))
    def example(points):
        progress = tier_progress(points, RULES)
        assert progress.tier == tier_for(points, RULES)
        assert 0 <= progress.percent <= 100
        if progress.next_tier is None:
            assert progress.points_to_next == 0 and progress.percent == 100
            branches.took("top tier")
        else:
            assert progress.points_to_next > 0
            assert points + progress.points_to_next == progress.next_tier.min_points
            assert progress.percent < 100
            branches.took("below the top")

    example()
    branches.require(**{"top tier": 0.1, "below the top": 0.4})


# --- credit and cashback ---------------------------------------------------------------


def test_points_convert_to_credit_at_the_point_value():
    assert credit_rial(0, RULES) == 0
    assert credit_rial(250, RULES) == 250_000
    assert credit_rial(3, LoyaltyRules(point_value_rial=7)) == 21


def test_negative_points_cannot_be_converted_to_credit():
    with pytest.raises(ValueError, match="points must be >= 0"):
        credit_rial(-1, RULES)


def test_points_paying_a_bill_never_exceed_the_balance_nor_the_share_of_the_bill_allowed():
    branches = Branches()

    @NO_DEADLINE
    # Point values a chain would set (a few thousand rial) as well as any: else most bills buy no point at all.
    @given(st.integers(10**5, 10**12) | st.integers(0, 10**12), st.integers(0, 10**9) | st.integers(0, 1000),
           st.integers(0, 100),
           st.integers(1, 5_000) | rates)
    def example(bill, balance, share, value):
        rules = LoyaltyRules(point_value_rial=value, max_points_percent=share)
        points = points_payable(bill, balance, rules)
        assert 0 <= points <= balance
        assert credit_rial(points, rules) <= bill * share // 100
        assert points == balance or credit_rial(points + 1, rules) > bill * share // 100
        branches.took("nothing" if points == 0 else "whole balance" if points == balance else "share of the bill")

    example()
    branches.require(nothing=0.1, **{"whole balance": 0.12, "share of the bill": 0.05})


def test_cashback_is_off_by_default():
    assert cashback_rial(1_000_000, RULES) == 0


@pytest.mark.parametrize(
    ("basis_points", "amount", "cashback"),
    [(100, 1_000_000, 10_000), (150, 99_999, 1_499), (1, 9_999, 0), (10_000, 5, 5)],
)
def test_cashback_is_rounded_down(basis_points, amount, cashback):
    assert cashback_rial(amount, LoyaltyRules(cashback_basis_points=basis_points)) == cashback


def test_a_negative_cashback_amount_is_refused():
    with pytest.raises(ValueError, match="amount_rial must be >= 0"):
        cashback_rial(-10, LoyaltyRules(cashback_basis_points=100))


def test_cashback_never_decreases_with_the_amount_and_never_exceeds_it():
    branches = Branches()

    @NO_DEADLINE
    @given(amounts, amounts, st.integers(0, 10_000))
    def example(a, b, bp):
        rules = LoyaltyRules(cashback_basis_points=bp)
        low, high = sorted((a, b))
        assert 0 <= cashback_rial(low, rules) <= cashback_rial(high, rules) <= high
        branches.took("cashback" if cashback_rial(high, rules) else "none")

    example()
    branches.require(cashback=0.35, none=0.13)
