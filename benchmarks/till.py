"""Till spending latency: quote and commit for a member with a long ledger while many campaigns run.

    python benchmarks/till.py [--entries 2000] [--campaigns 10] [--rounds 200]

Calls the till flow (kiosk.flows.spending.TillDesk) in process on a real SQLite file, as the POS API does
without HTTP. Prints one `name=value` line per figure, and `verify_ok=1` when every balance (points and
purchase credit) still matches its ledger afterwards. Goal: quote_p99_ms and commit_p99_ms under 20.

The store keeps a member's ledger between reads (kiosk/store/member_ledger.py), so each quote after the first
reads and converts only the rows written since (here: the last commit's). `quote_first_ms` is the first
quote, which reads the whole ledger (as the first tap or quote of a member after a restart does), and
`load_avg_1m` the machine's load when the run ended: a figure taken on a loaded machine is only indicative.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kiosk.config import Secrets, load  # noqa: E402
from kiosk.flows.claims import TapClaims  # noqa: E402
from kiosk.flows.spending import TillDesk  # noqa: E402
from kiosk.flows.staff import PinLock  # noqa: E402
from kiosk.service import KioskService  # noqa: E402
from kiosk.store import Store, iso  # noqa: E402


def config(campaigns: int) -> dict:
    kinds = [("multiplier", {"earn_multiplier_percent": 150}), ("bonus", {"bonus_points": 10}),
             ("discount", {"discount_percent": 5})]
    return {
        "rules": {"cashback_basis_points": 100, "max_points_percent": 50},
        "tiers": [{"name": "bronze", "min_points": 0, "multiplier_percent": 100},
                  {"name": "gold", "min_points": 5000, "multiplier_percent": 125}],
        "rewards": [{"id": "coffee", "name": "Coffee", "cost_points": 50}],
        "campaigns": [{"id": f"c{i}", "type": kinds[i % 3][0], "name": f"Campaign {i}", "starts_on": "2020-01-01",
                       "ends_on": "2099-12-31", "target_segments": ["new", "champions", "loyal"] if i % 2 else [],
                       **kinds[i % 3][1]} for i in range(campaigns)],
    }


def seed(service: KioskService, entries: int) -> str:
    """One member with `entries` earn rows over the last year (bulk insert: setup, not measured)."""
    member = service.enroll("+989121234567", "Bench")
    now = datetime.now(timezone.utc)
    rows = [(str(uuid.uuid4()), member.id, "earn", 100, 1_000_000, iso(now - timedelta(hours=4 * i)))
            for i in range(1, entries)]

    def tx(db) -> None:
        db.conn.executemany("INSERT INTO ledger (event_id, member_id, kind, points, amount, device_id, created_at) "
                            "VALUES (?,?,?,?,?,'bench',?)", rows)
        db.conn.execute("UPDATE balances SET points = points + ?, earned_total = earned_total + ? WHERE member_id = ?",
                        [100 * len(rows), 100 * len(rows), member.id])

    service.store.write(tx, timeout=None)
    return member.id


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=2_000)
    ap.add_argument("--campaigns", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kiosk.toml"
        path.write_text(f'[device]\nid = "bench"\nbranch = "b"\ndata_dir = "{tmp}"\nsecrets_file = "s.toml"\n')
        settings = load(path)
        with Store(Path(tmp) / "kiosk.db", device_id="bench") as store:
            service = KioskService(store, settings, Secrets(chain_secret=b"x" * 32))
            service.apply_config(config(args.campaigns))
            member_id = seed(service, args.entries)
            claims = TapClaims(service)
            till = TillDesk(service, claims, PinLock(Path(tmp) / "lock.json", max_attempts=5, lockout_s=60))
            quotes, commits = [], []
            for i in range(args.rounds):
                t0 = time.perf_counter()
                quote = till.quote({"bill_rial": 200_000, "member_id": member_id})
                t1 = time.perf_counter()
                till.commit({"quote_id": quote.quote_id, "idempotency_key": f"bench-{i}", "bill_rial": 200_000})
                t2 = time.perf_counter()
                quotes.append((t1 - t0) * 1000)
                commits.append((t2 - t1) * 1000)
            claims.close()
            mismatches = store.verify()
            print(f"ledger_entries={len(store.history(member_id))}")
            print(f"active_campaigns={len(service.campaigns)}")
            print(f"quote_p50_ms={statistics.median(quotes):.2f}")
            print(f"quote_p99_ms={p99(quotes):.2f}")
            print(f"commit_p50_ms={statistics.median(commits):.2f}")
            print(f"commit_p99_ms={p99(commits):.2f}")
            print(f"quote_first_ms={quotes[0]:.2f}")
            print(f"load_avg_1m={os.getloadavg()[0]:.2f}")
            print(f"verify_ok={0 if mismatches else 1}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
