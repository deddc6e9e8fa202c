"""Ledger rules: balances, idempotent apply, redemption checks and the tier window."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.errors import InsufficientPoints
from kiosk.rules import (
    Entry,
    LoyaltyRules,
    apply,
    balance_of,
    check_redeem,
    offline_redeem_allowance,
    redeemed_points,
    window_points,
)
from tests.support.branches import Branches

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
RULES = LoyaltyRules()


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def entry(event_id: str, kind: str, points: int, day: float = 0, amount: int = 0) -> Entry:
    return Entry(event_id, kind, points, amount, at(day))


EVENT_IDS = st.sampled_from([f"e{i}" for i in range(12)])


@st.composite
def entries(draw, ids=EVENT_IDS):
    kind = draw(st.sampled_from(["earn", "bonus", "redeem", "expire", "adjust"]))
    if kind in ("earn", "bonus"):
        points = draw(st.integers(0, 500))
    elif kind in ("redeem", "expire"):
        points = draw(st.integers(-500, 0))
    else:
        points = draw(st.integers(-500, 500))
    day = draw(st.integers(0, 800))
    return Entry(draw(ids), kind, points, draw(st.integers(0, 10**7)), at(day))


def fold(candidates):
    """Apply each entry in turn, skipping the ones apply() refuses; return the ledger and
    the entries that were accepted for the first time."""
    ledger: tuple[Entry, ...] = ()
    accepted = []
    for new in candidates:
        try:
            after = apply(ledger, new)
        except InsufficientPoints:
            continue
        if after != ledger:
            accepted.append(new)
        ledger = after
    return ledger, accepted


# --- Entry ---------------------------------------------------------------------------


def test_an_entry_with_an_unknown_kind_is_refused_listing_the_kinds():
    with pytest.raises(
        ValueError, match=r"kind = 'gift' is not a ledger kind: use one of adjust, bonus"
    ):
        entry("a", "gift", 5)


@pytest.mark.parametrize(
    ("kind", "points"), [("earn", -1), ("bonus", -5), ("redeem", 1), ("expire", 2)]
)
def test_an_entry_whose_sign_contradicts_its_kind_is_refused(kind, points):
    with pytest.raises(ValueError, match=f"a {kind} entry"):
        entry("a", kind, points)


def test_adjust_entries_may_credit_or_debit():
    assert entry("a", "adjust", -5).points == -5
    assert entry("b", "adjust", 5).points == 5


def test_an_entry_without_a_time_zone_is_refused_with_a_hint():
    with pytest.raises(ValueError, match=r"has no time zone: pass an aware datetime"):
        Entry("a", "earn", 1, 0, datetime(2026, 1, 1))


def test_an_entry_with_float_points_or_an_empty_id_is_refused():
    with pytest.raises(TypeError, match="points must be a whole number"):
        Entry("a", "earn", 1.0, 0, T0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="event_id must be a non-empty string"):
        Entry("", "earn", 1, 0, T0)


# --- balance and apply -------------------------------------------------------------------


def test_the_balance_is_the_sum_of_points_counting_each_event_once():
    ledger = [
        entry("a", "earn", 100),
        entry("b", "redeem", -30),
        entry("a", "earn", 100),
        entry("c", "adjust", 5),
    ]
    assert balance_of(ledger) == 75


def test_the_first_entry_with_an_event_id_wins():
    assert balance_of([entry("a", "earn", 10), entry("a", "earn", 999)]) == 10


def test_an_empty_ledger_has_a_zero_balance():
    assert balance_of([]) == 0


def test_apply_appends_a_new_entry():
    first = entry("a", "earn", 10)
    second = entry("b", "redeem", -10)
    assert apply((), first) == (first,)
    assert apply((first,), second) == (first, second)


def test_applying_a_repeated_event_id_changes_nothing_even_if_it_differs():
    ledger = (entry("a", "earn", 10),)
    assert apply(ledger, entry("a", "earn", 10)) == ledger
    assert apply(ledger, entry("a", "adjust", -10)) == ledger


def test_a_debit_beyond_the_balance_is_refused_with_the_needed_and_available_points():
    ledger = (entry("a", "earn", 40),)
    with pytest.raises(InsufficientPoints) as caught:
        apply(ledger, entry("b", "redeem", -50))
    assert (caught.value.needed, caught.value.available) == (50, 40)
    assert str(caught.value) == "not enough points: this needs 50 points and the balance is 40"


def test_a_debit_of_exactly_the_balance_is_allowed():
    ledger = apply((entry("a", "earn", 40),), entry("b", "redeem", -40))
    assert balance_of(ledger) == 0


def test_a_negative_adjust_beyond_the_balance_is_refused_too():
    with pytest.raises(InsufficientPoints):
        apply((), entry("a", "adjust", -1))


def test_apply_refuses_something_that_is_not_an_entry():
    with pytest.raises(TypeError, match="new must be an Entry"):
        apply((), {"event_id": "a"})  # type: ignore[arg-type]


def test_apply_keeps_first_occurrences_refuses_overdrafts_and_the_balance_matches_a_running_total():
    branches = Branches()

    @settings(max_examples=200, deadline=None)
    @given(st.lists(entries(), max_size=40))
    def example(candidates):
        # The model: a set of seen ids and a running total, nothing shared with the rules code.
        seen: set[str] = set()
        total, kept = 0, []
        ledger: tuple[Entry, ...] = ()
        for new in candidates:
            try:
                ledger = apply(ledger, new)
            except InsufficientPoints:
                branches.took("overdraft refused")
                assert new.event_id not in seen and total + new.points < 0
                continue
            if new.event_id in seen:
                branches.took("repeat ignored")
            else:
                branches.took("appended")
                assert total + new.points >= 0
                seen.add(new.event_id)
                total += new.points
                kept.append(new)
        assert ledger == tuple(kept)
        assert balance_of(ledger) == total

    example()
    branches.require(**{"appended": 0.2, "repeat ignored": 0.2, "overdraft refused": 0.05})


@given(st.lists(entries(), max_size=40))
def test_the_balance_is_never_negative_after_any_sequence_of_apply(candidates):
    ledger: tuple[Entry, ...] = ()
    for new in candidates:
        try:
            ledger = apply(ledger, new)
        except InsufficientPoints as refused:
            assert refused.available == balance_of(ledger)
            assert refused.needed > refused.available
        assert balance_of(ledger) >= 0


@given(st.lists(entries(), max_size=30), entries())
def test_applying_the_same_event_twice_changes_nothing(candidates, new):
    ledger, _ = fold(candidates)
    try:
        once = apply(ledger, new)
    except InsufficientPoints:
        return
    assert apply(once, new) == once
    assert balance_of(apply(once, new)) == balance_of(once)


@given(st.lists(entries(), max_size=30))
def test_a_ledger_built_by_apply_has_unique_event_ids(candidates):
    ledger, _ = fold(candidates)
    ids = [e.event_id for e in ledger]
    assert len(ids) == len(set(ids))


# --- check_redeem --------------------------------------------------------------------------


def test_a_redemption_within_the_balance_passes():
    check_redeem(100, 100)
    check_redeem(100, 1)


@pytest.mark.parametrize("cost", [101, 150])  # one point beyond the balance is as refused as fifty
def test_a_redemption_beyond_the_balance_says_what_is_needed_and_available(cost):
    with pytest.raises(InsufficientPoints, match=f"this needs {cost} points and the balance is 100"):
        check_redeem(100, cost)


@pytest.mark.parametrize("cost", [0, -5])
def test_a_redemption_that_costs_nothing_is_a_caller_bug(cost):
    with pytest.raises(ValueError, match=f"at least 1 point, got cost={cost}"):
        check_redeem(100, cost)


# --- tier window ----------------------------------------------------------------------------


def test_window_points_count_earn_and_bonus_credits_in_the_last_year():
    now = at(400)
    ledger = [
        entry("old", "earn", 1000, day=400 - 365),  # exactly 365 days old: left the window
        entry("in", "earn", 300, day=400 - 364.99),
        entry("bonus", "bonus", 100, day=399),
        entry("spent", "redeem", -200, day=399),  # spending does not lower the tier
        entry("fix", "adjust", 500, day=399),  # corrections are not earnings
        entry("future", "earn", 70, day=401),  # not yet
        entry("in", "earn", 300, day=398),  # duplicate id counts once
    ]
    assert window_points(ledger, now, RULES) == 400


def test_the_window_length_comes_from_the_rules():
    ledger = [entry("a", "earn", 10, day=0)]
    assert window_points(ledger, at(29), LoyaltyRules(tier_window_days=30)) == 10
    assert window_points(ledger, at(30), LoyaltyRules(tier_window_days=30)) == 0


def test_window_points_refuse_a_naive_now():
    with pytest.raises(ValueError, match=r"now = .* has no time zone"):
        window_points([], datetime(2026, 1, 1), RULES)


def test_window_points_compare_times_across_time_zones():
    tehran = timezone(timedelta(hours=3, minutes=30))
    e = Entry("a", "earn", 5, 0, datetime(2026, 1, 1, 3, 0, tzinfo=tehran))  # 23:30 UTC Dec 31
    now = datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    assert window_points([e], now, RULES) == 5
    assert window_points([e], now + timedelta(hours=1), RULES) == 0


# --- offline redemption cap ------------------------------------------------------------------


def test_redeemed_points_sum_redemptions_within_the_day_only():
    day_start, day_end = at(10), at(11)
    ledger = [
        entry("a", "earn", 500, day=9),
        entry("b", "redeem", -100, day=10),  # at the start: counted
        entry("c", "redeem", -50, day=10.5),
        entry("c", "redeem", -50, day=10.5),  # repeat: once
        entry("d", "expire", -20, day=10.5),  # expiry is not a redemption
        entry("e", "redeem", -70, day=11),  # at the end: next day
    ]
    assert redeemed_points(ledger, day_start, day_end) == 150


def test_the_offline_allowance_is_what_is_left_of_the_daily_cap():
    rules = LoyaltyRules(offline_daily_redeem_cap=300)
    assert offline_redeem_allowance(0, rules) == 300
    assert offline_redeem_allowance(250, rules) == 50
    assert offline_redeem_allowance(400, rules) == 0
    assert offline_redeem_allowance(0, LoyaltyRules(offline_daily_redeem_cap=0)) == 0


def test_a_negative_redeemed_today_is_refused():
    with pytest.raises(ValueError, match="redeemed_today must be >= 0"):
        offline_redeem_allowance(-1, RULES)


def test_an_entry_read_back_from_the_ledger_equals_the_checked_entry_it_was_written_as():
    at = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    checked = Entry("e-1", "redeem", -40, 0, at)
    assert Entry.stored("e-1", "redeem", -40, 0, at) == checked
    assert hash(Entry.stored("e-1", "redeem", -40, 0, at)) == hash(checked)
    with pytest.raises(ValueError, match="debits points"):
        Entry("e-1", "redeem", 40, 0, at)  # the checked constructor still refuses what the ledger never holds
