"""Cost of the pure loyalty rules over one member's ledger (no database).

    python benchmarks/rules.py [--entries 2000] [--repeat 50]

The service derives the tier window, expiry and RFM segment from a member's ledger on
each tap, so these run on the tap path. Prints one `name=value` line per figure (median
milliseconds per call). 2,000 entries is a member shopping five times a week for eight
years; try --entries 20000 for a pathological one.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kiosk.errors import InsufficientPoints  # noqa: E402
from kiosk.rules import (  # noqa: E402
    Entry,
    LoyaltyRules,
    apply,
    balance_of,
    expiring_points,
    expiry_schedule,
    window_points,
)
from kiosk.rules.segments import RfmRules, rfm  # noqa: E402


def ledger(n: int, now: datetime, rng: random.Random) -> tuple[Entry, ...]:
    """A plausible history: mostly purchases, some redemptions and bonuses, oldest first."""
    start = now - timedelta(days=8 * 365)
    step = (now - start) / n
    out: list[Entry] = []
    balance = 0
    for i in range(n):
        at = start + step * i
        roll = rng.random()
        if roll < 0.1 and balance > 100:
            points = -rng.randint(50, min(balance, 500))
            out.append(Entry(f"r{i}", "redeem", points, 0, at))
        elif roll < 0.15:
            points = 50
            out.append(Entry(f"b{i}", "bonus", points, 0, at))
        else:
            amount = rng.randint(50_000, 5_000_000)
            points = amount // 10_000
            out.append(Entry(f"e{i}", "earn", points, amount, at))
        balance += points
    return tuple(out)


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    now = datetime(2026, 6, 1, tzinfo=UTC)
    rules, rfm_rules = LoyaltyRules(), RfmRules()
    entries = ledger(args.entries, now, random.Random(7))
    n, r = args.entries, args.repeat

    def fold() -> None:
        acc: tuple[Entry, ...] = ()
        for e in entries[:500]:
            try:
                acc = apply(acc, e)
            except InsufficientPoints:
                pass

    figures = {
        "balance_of": lambda: balance_of(entries),
        "window_points": lambda: window_points(entries, now, rules),
        "expiring_points": lambda: expiring_points(entries, now, rules),
        "expiry_schedule": lambda: expiry_schedule(entries, now, rules),
        "rfm": lambda: rfm(entries, now, rfm_rules),
    }
    print(f"rules_entries={n}")
    for name, fn in figures.items():
        print(f"rules_{name}_ms={median_ms(fn, r):.3f}")
    print(f"rules_apply_500_in_turn_ms={median_ms(fold, max(1, r // 10)):.3f}")

if __name__ == "__main__":
    main()
