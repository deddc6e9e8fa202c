"""FIFO expiry: debits consume the oldest credits first; unspent old credits expire."""

from collections import deque
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.errors import InsufficientPoints
from tests.support.branches import Branches
from kiosk.rules import (
    Entry,
    LoyaltyRules,
    apply,
    balance_of,
    expiring_points,
    expiry_schedule,
    open_lots,
)

UTC = UTC
RULES = LoyaltyRules()  # expiry_days = 365
NO_DEADLINE = settings(deadline=None)  # no timing assertions, also not per example


def d(y: int, m: int, day: int, hour: int = 12) -> datetime:
    return datetime(y, m, day, hour, tzinfo=UTC)


def e(event_id: str, kind: str, points: int, when: datetime) -> Entry:
    return Entry(event_id, kind, points, 0, when)


def test_an_unspent_credit_expires_when_it_is_expiry_days_old():
    ledger = [e("a", "earn", 100, d(2025, 1, 10))]
    assert expiring_points(ledger, d(2026, 1, 10) - timedelta(seconds=1), RULES) == 0
    assert expiring_points(ledger, d(2026, 1, 10), RULES) == 100


def test_a_redemption_consumes_the_oldest_credit_first():
    ledger = [
        e("jan", "earn", 100, d(2025, 1, 10)),
        e("jun", "earn", 100, d(2025, 6, 10)),
        e("spend", "redeem", -60, d(2025, 7, 1)),
    ]
    # January's 100 paid 60 of the redemption; 40 are left to expire in January 2026.
    assert expiring_points(ledger, d(2026, 2, 1), RULES) == 40
    # By July 2026 June's 100 has expired as well.
    assert expiring_points(ledger, d(2026, 7, 1), RULES) == 140


def test_a_redemption_larger_than_the_oldest_credit_spills_into_the_next():
    ledger = [
        e("jan", "earn", 100, d(2025, 1, 10)),
        e("jun", "bonus", 100, d(2025, 6, 10)),
        e("spend", "redeem", -150, d(2025, 7, 1)),
    ]
    assert expiring_points(ledger, d(2026, 2, 1), RULES) == 0
    assert expiring_points(ledger, d(2026, 6, 10), RULES) == 50


def test_recorded_expiry_counts_as_a_debit_so_expiry_is_not_repeated():
    ledger = [e("jan", "earn", 100, d(2025, 1, 10)), e("jun", "earn", 30, d(2025, 6, 10))]
    now = d(2026, 2, 1)
    due = expiring_points(ledger, now, RULES)
    assert due == 100
    ledger.append(e("x1", "expire", -due, now))
    assert expiring_points(ledger, now, RULES) == 0
    assert expiring_points(ledger, d(2026, 6, 10), RULES) == 30


def test_ledger_order_does_not_matter_only_the_dates():
    ledger = [
        e("spend", "redeem", -60, d(2025, 7, 1)),
        e("jun", "earn", 100, d(2025, 6, 10)),
        e("jan", "earn", 100, d(2025, 1, 10)),
    ]
    assert expiring_points(ledger, d(2026, 2, 1), RULES) == 40


def test_a_negative_adjust_consumes_credit_like_a_redemption():
    ledger = [e("jan", "earn", 100, d(2025, 1, 10)), e("fix", "adjust", -100, d(2025, 2, 1))]
    assert expiring_points(ledger, d(2027, 1, 1), RULES) == 0


def test_a_debit_dated_before_its_credits_is_paid_by_the_next_credits():
    # Clock skew between devices can put a debit before the credit it spent.
    ledger = [e("fix", "adjust", -30, d(2025, 1, 1)), e("jan", "earn", 100, d(2025, 1, 10))]
    assert open_lots(ledger) == [(d(2025, 1, 10), 70)]
    assert expiring_points(ledger, d(2026, 2, 1), RULES) == 70


def test_zero_expiry_days_means_points_never_expire():
    rules = LoyaltyRules(expiry_days=0)
    ledger = [e("a", "earn", 100, d(2000, 1, 1))]
    assert expiring_points(ledger, d(2026, 1, 1), rules) == 0
    assert expiry_schedule(ledger, d(2026, 1, 1), rules) == ()


def test_a_short_expiry_from_the_rules():
    rules = LoyaltyRules(expiry_days=30)
    ledger = [e("a", "earn", 10, d(2026, 1, 1)), e("b", "earn", 5, d(2026, 1, 20))]
    assert expiring_points(ledger, d(2026, 1, 31), rules) == 10
    assert expiring_points(ledger, d(2026, 2, 19), rules) == 15


def test_duplicate_event_ids_do_not_create_double_credit_to_expire():
    ledger = [e("a", "earn", 100, d(2025, 1, 1)), e("a", "earn", 100, d(2025, 1, 1))]
    assert expiring_points(ledger, d(2026, 6, 1), RULES) == 100


def test_the_schedule_lists_future_expiries_oldest_first_and_merges_equal_times():
    ledger = [
        e("old", "earn", 100, d(2025, 1, 10)),  # already due at now: not listed
        e("a", "earn", 20, d(2025, 3, 1)),
        e("b", "bonus", 5, d(2025, 3, 1)),
        e("c", "earn", 50, d(2025, 9, 1)),
        e("spend", "redeem", -110, d(2025, 10, 1)),  # eats "old" and 10 of "a"
    ]
    assert expiry_schedule(ledger, d(2026, 2, 1), RULES) == (
        (d(2026, 3, 1), 15),
        (d(2026, 9, 1), 50),
    )


def test_expiry_refuses_a_naive_now():
    with pytest.raises(ValueError, match="has no time zone"):
        expiring_points([], datetime(2026, 1, 1), RULES)


# --- properties ------------------------------------------------------------------------------

T0 = d(2025, 1, 1)


@st.composite
def ledgers(draw):
    """A ledger built through apply(), so it is a ledger the kiosk could really hold."""
    ledger: tuple[Entry, ...] = ()
    steps = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["earn", "bonus", "redeem", "adjust"]),
                st.integers(1, 300),
                st.integers(0, 900),
            ),
            max_size=30,
        )
    )
    for i, (kind, size, day) in enumerate(steps):
        points = -size if kind == "redeem" or (kind == "adjust" and size % 2) else size
        try:
            ledger = apply(ledger, Entry(f"e{i}", kind, points, 0, T0 + timedelta(days=day)))
        except InsufficientPoints:
            pass
    return ledger


def reference_fifo(ledger, now, rules):
    """A slow point-by-point model of FIFO: one token per point, oldest spent first."""
    tokens: deque[datetime] = deque()
    owed = 0  # a debit dated before the credits it spent is paid by the next credits
    for entry in sorted(ledger, key=lambda x: x.created_at):
        for _ in range(entry.points):
            if owed:
                owed -= 1
            else:
                tokens.append(entry.created_at)
        for _ in range(-entry.points):
            if tokens:
                tokens.popleft()
            else:
                owed += 1
    return sum(1 for t in tokens if t + timedelta(days=rules.expiry_days) <= now)


# Any day, and days after the ledger's last entries (0..900) have had a year to expire, where points fall due.
days = st.integers(0, 1500) | st.integers(400, 1300)


def due_branch(due: int, balance: int) -> str:
    return "nothing due" if due == 0 else "all due" if due == balance else "some due"


def test_expiring_points_never_exceed_the_balance():
    branches = Branches()

    @settings(deadline=None, max_examples=400)  # "some due" is a narrow window: enough examples to reach it
    @given(ledgers(), days, st.integers(0, 400))
    def example(ledger, day, expiry):
        rules = LoyaltyRules(expiry_days=expiry)
        due = expiring_points(ledger, T0 + timedelta(days=day), rules)
        assert 0 <= due <= balance_of(ledger)
        branches.took(due_branch(due, balance_of(ledger)))

    example()
    branches.require(**{"nothing due": 0.3, "all due": 0.1, "some due": 0.09})


def test_expiry_matches_a_point_by_point_fifo_model():
    branches = Branches()

    anniversaries = Branches()

    @NO_DEADLINE
    @given(ledgers(), days, st.integers(1, 400), st.data())
    def example(ledger, day, expiry, data):
        rules = LoyaltyRules(expiry_days=expiry)
        now = T0 + timedelta(days=day)
        # Half the time the very moment an entry turns expiry_days old: the bound where < and <= differ.
        if ledger and data.draw(st.booleans()):
            now = data.draw(st.sampled_from(ledger)).created_at + timedelta(days=expiry)
            anniversaries.took("at an entry's expiry moment")
        else:
            anniversaries.took("any moment")
        due = expiring_points(ledger, now, rules)
        assert due == reference_fifo(ledger, now, rules)
        branches.took(due_branch(due, balance_of(ledger)))

    example()
    branches.require(**{"nothing due": 0.28, "all due": 0.07, "some due": 0.15})
    anniversaries.require(**{"at an entry's expiry moment": 0.19})


def test_recording_the_due_expiry_leaves_nothing_due():
    branches = Branches()

    @NO_DEADLINE
    @given(ledgers(), days)
    def example(ledger, day):
        now = T0 + timedelta(days=day)
        due = expiring_points(ledger, now, RULES)
        if due:
            ledger = apply(ledger, Entry("expiry", "expire", -due, 0, now))
        assert expiring_points(ledger, now, RULES) == 0
        branches.took("expired" if due else "nothing was due")

    example()
    branches.require(expired=0.19, **{"nothing was due": 0.31})


def test_more_points_become_due_as_time_passes_without_new_entries():
    branches = Branches()

    @NO_DEADLINE
    @given(ledgers(), st.integers(0, 1500), st.integers(0, 1500))
    def example(ledger, a, b):
        early, late = sorted((a, b))
        due = expiring_points(ledger, T0 + timedelta(days=early), RULES), expiring_points(
            ledger, T0 + timedelta(days=late), RULES
        )
        assert due[0] <= due[1]
        branches.took("more due later" if due[0] < due[1] else "as much due")

    example()
    branches.require(**{"more due later": 0.2, "as much due": 0.29})


def test_open_lots_add_up_to_the_balance_and_the_schedule_plus_due_too():
    branches = Branches()

    @settings(deadline=None, max_examples=400)  # as above, for "scheduled and due"
    @given(ledgers(), days)
    def example(ledger, day):
        now = T0 + timedelta(days=day)
        assert sum(p for _, p in open_lots(ledger)) == balance_of(ledger)
        scheduled = sum(p for _, p in expiry_schedule(ledger, now, RULES))
        due = expiring_points(ledger, now, RULES)
        assert scheduled + due == balance_of(ledger)
        branches.took("no points" if not balance_of(ledger) else "scheduled and due" if scheduled and due
                      else "all scheduled" if scheduled else "all due")

    example()
    branches.require(**{"no points": 0.06, "scheduled and due": 0.1, "all scheduled": 0.29, "all due": 0.05})
