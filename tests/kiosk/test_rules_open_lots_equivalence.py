"""open_lots takes the first points of the credits for all debits at once (benchmarks/till.py); it gives exactly
the lots of the lot-by-lot FIFO walk it replaced, for any ledger: debits before their credits, deficits, equal
times, repeated event ids, zero-point adjusts; and a ledger marked UniqueEntries gives what it gives unmarked."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.rules import Entry, LoyaltyRules, expiring_points, expiry_schedule, open_lots, unique_entries
from kiosk.rules.ledger import UniqueEntries
from kiosk.rules.segments import RfmRules, rfm

T0 = datetime(2025, 1, 1, 12, tzinfo=UTC)


def walked_lots(entries):
    """The FIFO walk open_lots used before: every debit consumes the oldest open lots one by one."""
    ordered = sorted(unique_entries(entries), key=lambda e: e.created_at)
    lots: list[list] = []
    head = 0
    deficit = 0
    for entry in ordered:
        if entry.points > 0:
            paid = min(deficit, entry.points)
            deficit -= paid
            if entry.points > paid:
                lots.append([entry.created_at, entry.points - paid])
        elif entry.points < 0:
            owed = -entry.points
            while owed and head < len(lots):
                take = min(owed, lots[head][1])
                lots[head][1] -= take
                owed -= take
                if lots[head][1] == 0:
                    head += 1
            deficit += owed
    return [(at, left) for at, left in lots[head:]]


rows = st.lists(st.tuples(st.integers(0, 12),  # few ids: repeats happen
                          st.sampled_from(["earn", "bonus", "redeem", "expire", "adjust"]),
                          st.integers(0, 400), st.integers(0, 6), st.booleans()), max_size=40)


def ledger_of(drawn) -> list[Entry]:
    out = []
    for event, kind, size, day, negative in drawn:
        points = -size if kind in ("redeem", "expire") or (kind == "adjust" and negative) else size
        out.append(Entry(f"e{event}", kind, points, 100 * size, T0 + timedelta(days=100 * day)))
    return out


@settings(max_examples=400, deadline=None)
@given(rows)
def test_open_lots_are_exactly_the_lots_of_the_fifo_walk(drawn):
    ledger = ledger_of(drawn)
    assert open_lots(ledger) == walked_lots(ledger)


@settings(max_examples=200, deadline=None)
@given(rows, st.integers(0, 1200))
def test_a_ledger_marked_unique_gives_every_rule_what_it_gives_unmarked(drawn, day):
    unique = unique_entries(ledger_of(drawn))
    marked, now = UniqueEntries(unique), T0 + timedelta(days=day)
    assert unique_entries(marked) is marked
    assert open_lots(marked) == open_lots(unique)
    assert expiring_points(marked, now, LoyaltyRules()) == expiring_points(unique, now, LoyaltyRules())
    assert expiry_schedule(marked, now, LoyaltyRules()) == expiry_schedule(unique, now, LoyaltyRules())
    assert rfm(marked, now, RfmRules()) == rfm(unique, now, RfmRules())
