"""Till spending latency: quote and commit for a member with a long ledger while many campaigns run.

    python benchmarks/till.py [--entries 2000] [--campaigns 10] [--rounds 200] [--cloud]

Calls the till flow (kiosk.flows.spending.TillDesk) in process on a real SQLite file, as the POS API does
without HTTP. Prints one `name=value` line per figure, and `verify_ok=1` when every balance (points and
purchase credit) still matches its ledger afterwards. Goal: quote_p99_ms and commit_p99_ms under 20.

The store keeps a member's ledger between reads (kiosk/store/member_ledger.py), so each quote after the first
reads and converts only the rows written since (here: the last commit's). `quote_first_ms` is the first
quote, which reads the whole ledger (as the first tap or quote of a member after a restart does).

With --cloud, after those figures (measured as before, with no cloud), `kiosk-cloud serve` is started on a
SQLite file on a loopback port and the kiosk is registered with it; a second member (known to the cloud, her
cashback credit sent) then pays `--rounds` bills of 10,000 rial with purchase credit. Each such commit first
holds the credit in the cloud (one signed POST .../credit/hold, cloud/credit_holds.py) and then commits here:
commit_with_cloud_p50_ms / commit_with_cloud_p99_ms are that commit, quote_with_cloud_p99_ms its quote. Between
rounds, outside the timings, the outbox is drained to the cloud as the sync worker would (so each hold lists
no unsent credit and the previous hold is settled). A coupon's claim is the same kind of round trip and is not
measured separately. The load average is printed (`loadavg=`): a figure taken on a loaded machine is indicative.
"""
from __future__ import annotations

import argparse
import random
import statistics
import subprocess
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


ROOT = Path(__file__).resolve().parent.parent


class CloudServer:
    """`kiosk-cloud serve` on a SQLite file, on a loopback port it picks (read from its first line)."""

    def __init__(self, database: Path) -> None:
        from cloud.store import CloudStore

        with CloudStore(str(database)) as cloud:  # the schema, and one registered kiosk
            self.registration = cloud.register(cloud.create_token("bench-branch"), name="till bench")
        self.proc = subprocess.Popen([sys.executable, "-m", "cloud.cli", "--db", str(database), "serve",
                                      "--port", "0"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if " on http://" not in line:
            self.close()
            raise SystemExit(f"kiosk-cloud serve did not start: {line!r}")
        self.url = line.rsplit(" on ", 1)[1].strip().rstrip("/")

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.proc.stdout.close()


def with_cloud(service: KioskService, till: TillDesk, tmp: Path, rounds: int) -> tuple[list[float], list[float]]:
    """(quote ms, commit ms) of credit spends that each hold the credit in a real cloud first."""
    from kiosk.sync.client import CloudClient
    from kiosk.sync.coupons import ChainCoupons
    from kiosk.sync.worker import SyncWorker

    server = CloudServer(tmp / "cloud.sqlite")
    client = CloudClient(server.url, device_id=server.registration.device_id,
                         device_key=server.registration.device_key)
    chain = ChainCoupons(client.clone())
    held = [0]
    hold = chain.hold_credit

    def counted(*args: object) -> dict:
        reply = hold(*args)
        held[0] += 1
        return reply

    chain.hold_credit = counted  # type: ignore[method-assign]
    worker = SyncWorker(service.store, client, clock=service.now, rng=random.Random(1))
    try:
        member = service.enroll("+989351112233", "Cloud")
        service.earn(member.id, (rounds + 1) * 1_000_000)  # 1 % cashback: 10,000 rial of credit per round
        service.chain_coupons, service.link = chain, "online"
        worker.drain()
        quotes, commits = [], []
        for i in range(rounds):
            t0 = time.perf_counter()
            quote = till.quote({"bill_rial": 10_000, "member_id": member.id, "use_points": False})
            t1 = time.perf_counter()
            row, _ = till.commit({"quote_id": quote.quote_id, "idempotency_key": f"cloud-{i}", "bill_rial": 10_000})
            t2 = time.perf_counter()
            if row["credit_rial"] <= 0 or held != [i + 1]:  # a hold that fell back to the local ledger: no figure
                raise SystemExit(f"round {i}: the credit was not held in the cloud: {row}")
            quotes.append((t1 - t0) * 1000)
            commits.append((t2 - t1) * 1000)
            if worker.drain().failed:
                raise SystemExit("the outbox did not reach the cloud")
        return quotes, commits
    finally:
        service.chain_coupons, service.link = None, None
        chain.close()
        worker.close()
        client.close()
        server.close()


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=2_000)
    ap.add_argument("--campaigns", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--cloud", action="store_true", help="also measure quote+commit with a real cloud on loopback")
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
            cloud_figures = with_cloud(service, till, Path(tmp), args.rounds) if args.cloud else None
            claims.close()
            mismatches = store.verify()
            print(f"ledger_entries={len(store.history(member_id))}")
            print(f"active_campaigns={len(service.campaigns)}")
            print(f"quote_p50_ms={statistics.median(quotes):.2f}")
            print(f"quote_p99_ms={p99(quotes):.2f}")
            print(f"commit_p50_ms={statistics.median(commits):.2f}")
            print(f"commit_p99_ms={p99(commits):.2f}")
            print(f"quote_first_ms={quotes[0]:.2f}")
            if cloud_figures is not None:
                cloud_quotes, cloud_commits = cloud_figures
                print(f"quote_with_cloud_p99_ms={p99(cloud_quotes):.2f}")
                print(f"commit_with_cloud_p50_ms={statistics.median(cloud_commits):.2f}")
                print(f"commit_with_cloud_p99_ms={p99(cloud_commits):.2f}")
            print(f"verify_ok={0 if mismatches else 1}")
            print(f"loadavg={Path('/proc/loadavg').read_text().split()[0]}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
