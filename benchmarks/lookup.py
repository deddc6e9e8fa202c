"""Balance look-up latency, earn throughput and database size at chain scale.

    python benchmarks/lookup.py [--members 100000] [--ledger 1000000] [--lookups 20000] [--earns 300]

Prints one `name=value` line per figure. Goal: lookup_p99_ms < 2.
"""
from __future__ import annotations

import argparse
import random
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kiosk.config import Secrets, load  # noqa: E402
from kiosk.identity import card_ref, mask_uid  # noqa: E402
from kiosk.service import KioskService  # noqa: E402
from kiosk.store import Store, iso  # noqa: E402


def build(store: Store, secret: bytes, members: int, ledger_rows: int, rng: random.Random) -> list[str]:
    """Bulk-load members, cards and ledger rows in large transactions (setup, not measured)."""
    uids = [f"{i:010X}" for i in range(1, members + 1)]
    now = datetime.now(timezone.utc)
    per_member = max(1, ledger_rows // members)
    chunk = 5_000
    for start in range(0, members, chunk):
        def tx(db, start=start):
            member_rows, card_rows, ledger, balances = [], [], [], []
            for i in range(start, min(start + chunk, members)):
                mid = str(uuid.UUID(int=rng.getrandbits(128)))
                created = iso(now - timedelta(days=400))
                member_rows.append((mid, f"+98912{i:07d}", "M", "", created, "bench"))
                card_rows.append((card_ref(secret, "rfid125", uids[i]), mid, "rfid125", mask_uid(uids[i]), created))
                total = 0
                for j in range(per_member):
                    pts = rng.randint(1, 200)
                    total += pts
                    at = iso(now - timedelta(days=rng.randint(0, 400), seconds=j))
                    ledger.append((str(uuid.UUID(int=rng.getrandbits(128))), mid, "earn", pts, pts * 10_000, at))
                balances.append((mid, total, total, total * 10_000, iso(now)))
            db.conn.executemany(
                "INSERT INTO members (id, phone, first_name, last_name, created_at, device_id) VALUES (?,?,?,?,?,?)",
                member_rows)
            db.conn.executemany(
                "INSERT INTO cards (card_ref, member_id, tech, label, bound_at) VALUES (?,?,?,?,?)", card_rows)
            db.conn.executemany(
                "INSERT INTO ledger (event_id, member_id, kind, points, amount, device_id, created_at) "
                "VALUES (?,?,?,?,?,'bench',?)", ledger)
            db.conn.executemany(
                "INSERT INTO balances (member_id, points, earned_total, spent_rial, updated_at) VALUES (?,?,?,?,?)",
                balances)
        store.write(tx, timeout=None)
    return uids




def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=int, default=100_000)
    ap.add_argument("--ledger", type=int, default=1_000_000)
    ap.add_argument("--lookups", type=int, default=20_000)
    ap.add_argument("--earns", type=int, default=300)
    args = ap.parse_args()
    rng = random.Random(7)
    secret = secrets.token_bytes(32)
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "kiosk.toml"
        config.write_text('[device]\nid = "bench"\nbranch = "bench"\ndata_dir = "."\n')
        settings = load(config)
        with Store(settings.database_path, device_id="bench") as store:
            t0 = time.perf_counter()
            uids = build(store, secret, args.members, args.ledger, rng)
            print(f"build_s={time.perf_counter() - t0:.1f}")
            service = KioskService(store, settings, Secrets(chain_secret=secret))
            lookups = []
            for _ in range(args.lookups):
                uid = rng.choice(uids)
                t = time.perf_counter()
                card = service.member_for_card("rfid125", uid)
                store.balance(card.member_id)
                lookups.append((time.perf_counter() - t) * 1000)
            screens = []
            for _ in range(min(args.lookups, 2_000)):
                uid = rng.choice(uids)
                t = time.perf_counter()
                card = service.member_for_card("rfid125", uid)
                service.summary(card.member_id, card=card)
                screens.append((time.perf_counter() - t) * 1000)
            members = [service.member_for_card("rfid125", rng.choice(uids)).member_id for _ in range(args.earns)]
            t = time.perf_counter()
            for mid in members:
                service.earn(mid, 1_500_000)
            earn_s = time.perf_counter() - t
        size = sum(p.stat().st_size for p in Path(tmp).glob("kiosk.db*"))
    print(f"members={args.members}")
    print(f"ledger_rows={args.members * max(1, args.ledger // args.members)}")
    print(f"lookup_p50_ms={statistics.median(lookups):.3f}")
    print(f"lookup_p99_ms={p99(lookups):.3f}")
    print(f"balance_screen_p50_ms={statistics.median(screens):.3f}")
    print(f"balance_screen_p99_ms={p99(screens):.3f}")
    print(f"earn_tx_per_s={args.earns / earn_s:.0f}")
    print(f"db_size_mb={size / 1e6:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
