"""The pure rules of draws, budgets, the game and badges."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from kiosk.rules.badges import badges
from kiosk.rules.budgets import Grant, grantable, spendable
from kiosk.rules.draws import draw_winners, seed_hash, tickets
from kiosk.rules.games import outcome

NOW = datetime(2026, 5, 1, 10, tzinfo=timezone.utc)
SEED = "ab" * 32


def test_winners_do_not_depend_on_the_order_entries_arrived_in_and_nobody_wins_twice():
    entries = [("e1", "sara", 5), ("e2", "ali", 1), ("e3", "reza", 2), ("e4", "sara", 3)]
    first = draw_winners(SEED, tickets(entries), ["bike", "tablet", "mug"])
    again = draw_winners(SEED, tickets(reversed(entries)), ["bike", "tablet", "mug"])
    assert first == again and len({w.member_id for w in first}) == 3
    assert draw_winners("cd" * 32, tickets(entries), ["bike"]) != [] and seed_hash(SEED) != seed_hash("cd" * 32)


def test_unsorted_tickets_and_a_bad_seed_are_refused():
    with pytest.raises(ValueError):
        draw_winners(SEED, list(reversed(tickets([("a", "m", 2)]))), ["x"])
    with pytest.raises(ValueError):
        seed_hash("not hex")


def test_a_grant_gives_nothing_once_expired_and_the_budget_counts_open_grants_in_full():
    open_grant = Grant("g1", "b", 3, 1, NOW + timedelta(hours=1))
    expired = Grant("g2", "b", 3, 0, NOW - timedelta(seconds=1))
    assert spendable([expired, open_grant], "b", NOW) is open_grant and expired.left(NOW) == 0
    assert Grant("g3", "b", 3, 1, NOW, closed=True).committed() == 1 and open_grant.committed() == 3
    assert grantable(want=3, held=1, daily_limit=5, total_limit=None, committed_today=4, committed_total=9) == 1
    assert grantable(want=3, held=0, daily_limit=None, total_limit=9, committed_today=0, committed_total=9) == 0


def test_odds_split_the_rolls_and_the_rest_loses():
    odds = (("coffee", 100), ("tote", 10))
    assert [outcome(odds, r) for r in (0, 99, 100, 109, 110, 9999)] == ["coffee", "coffee", "tote", "tote", None, None]


def test_badges_follow_purchases_on_different_days_the_membership_age_and_a_referral():
    rows = [("earn", 10_000, "", NOW - timedelta(days=d)) for d in range(10)]
    assert badges(rows[:1], NOW - timedelta(days=3), NOW) == ["first_purchase"]
    assert badges(rows + [("bonus", 0, "referred a new member", NOW)], NOW - timedelta(days=400), NOW) == [
        "first_purchase", "tenth_visit", "year_in_club", "referral"]
    assert badges([("earn", 10_000, "", NOW)] * 10, NOW, NOW) == ["first_purchase"]  # one day is one visit
