"""The rules used together the way the service uses them, driven by a hypothesis state machine.

A member earns, redeems, gets bonuses and has points expired while time moves forward;
after every step the ledger-wide invariants must hold.
"""

from datetime import UTC, datetime, timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from kiosk.errors import InsufficientPoints
from kiosk.rules import (
    Entry,
    LoyaltyRules,
    apply,
    balance_of,
    check_redeem,
    earn_points,
    expiring_points,
    expiry_schedule,
    tier_for,
    window_points,
)

RULES = LoyaltyRules(expiry_days=90, tier_window_days=60, rial_per_point=1_000)


class MemberLedger(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.ledger: tuple[Entry, ...] = ()
        self.now = datetime(2026, 1, 1, tzinfo=UTC)
        self.counter = 0
        self.credited = 0

    def _id(self) -> str:
        self.counter += 1
        return f"e{self.counter}"

    def _record(self, kind: str, points: int, amount: int = 0) -> None:
        self.ledger = apply(self.ledger, Entry(self._id(), kind, points, amount, self.now))

    def _expire_due(self) -> None:
        due = expiring_points(self.ledger, self.now, RULES)
        if due:
            self._record("expire", -due)

    @rule(days=st.integers(0, 40), hours=st.integers(0, 23))
    def time_passes(self, days: int, hours: int) -> None:
        self.now += timedelta(days=days, hours=hours)

    @rule(amount=st.integers(0, 2_000_000))
    def purchase(self, amount: int) -> None:
        tier = tier_for(window_points(self.ledger, self.now, RULES), RULES)
        points = earn_points(amount, tier, RULES)
        self._record("earn", points, amount)
        self.credited += points

    @rule(points=st.integers(0, 500))
    def bonus(self, points: int) -> None:
        self._record("bonus", points)
        self.credited += points

    @rule(cost=st.integers(1, 3_000))
    def redeem(self, cost: int) -> None:
        self._expire_due()  # as the service must: never spend expired points
        balance = balance_of(self.ledger)
        try:
            check_redeem(balance, cost)
        except InsufficientPoints:
            return
        self._record("redeem", -cost)
        assert expiring_points(self.ledger, self.now, RULES) == 0

    @precondition(lambda self: self.ledger)
    @rule()
    def retry_last_event(self) -> None:
        before = self.ledger
        self.ledger = apply(self.ledger, self.ledger[-1])
        assert self.ledger == before

    @rule()
    def nightly_expiry(self) -> None:
        self._expire_due()
        assert expiring_points(self.ledger, self.now, RULES) == 0

    @invariant()
    def balance_is_the_sum_and_never_negative(self) -> None:
        balance = balance_of(self.ledger)
        assert balance == sum(e.points for e in self.ledger)
        assert 0 <= balance <= self.credited

    @invariant()
    def due_plus_scheduled_expiry_is_the_balance(self) -> None:
        due = expiring_points(self.ledger, self.now, RULES)
        later = sum(p for _, p in expiry_schedule(self.ledger, self.now, RULES))
        assert due + later == balance_of(self.ledger)

    @invariant()
    def tier_points_never_exceed_what_was_credited(self) -> None:
        assert 0 <= window_points(self.ledger, self.now, RULES) <= self.credited


MemberLedger.TestCase.settings = settings(max_examples=60, stateful_step_count=30)
test_a_member_ledger_keeps_its_invariants_through_any_sequence = MemberLedger.TestCase
