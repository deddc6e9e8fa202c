"""Drain a 100,000-event outbox backlog to the reference cloud on loopback.

    /work/venv/bin/python benchmarks/sync_drain.py [--events N] [--batch-events N]

The cloud runs as its own process (`python -m cloud.cli serve`); the backlog is
written into a real kiosk database; then a fresh kiosk process drains it with the
real SyncWorker, so its peak RSS is the drain's, not the set-up's. Prints
`name=value` lines. Goal: events_per_s >= 2000 and kiosk_peak_rss_mb < 100.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk.store import LedgerRow, Store, iso, new_event_id  # noqa: E402


def fill_backlog(store: Store, events: int, members: int = 1_000) -> None:
    """Members (enrol + bind) and earns until `events` outbox rows, in big transactions.

    Uses the store's own outbox writer (_enqueue) so the payloads are byte-for-byte what
    the kiosk writes; the rows go in 10,000 per transaction because 100,000 single
    fsynced transactions would take longer than the drain being measured.
    """
    from dataclasses import asdict

    member_ids = [new_event_id() for _ in range(members)]
    now = iso(datetime.now(timezone.utc))

    def add_members(db):
        for n, member_id in enumerate(member_ids):
            member = {"id": member_id, "phone": f"+98912{n:07d}", "first_name": f"Member{n}", "last_name": "Bench",
                      "birthday": None, "consent_at": now, "consent_version": "2026-01", "referral_code": f"R{n:07d}",
                      "referred_by": None, "language": "fa", "device_id": store.device_id, "created_at": now}
            db["members"].insert(member)
            db["balances"].insert({"member_id": member_id, "points": 0, "earned_total": 0, "spent_rial": 0,
                                   "updated_at": now})
            store._enqueue(db, "member_enrolled", {"member": member}, now)
            card = {"card_ref": f"{n:064x}", "member_id": member_id, "tech": "rfid125", "label": f"…{n:04d}",
                    "state": "active", "bound_at": now}
            db["cards"].insert(card)
            store._enqueue(db, "card_bound", {"card": card}, now)

    store.write(add_members, timeout=None)
    remaining = events - 2 * members
    rng = random.Random(1)
    while remaining > 0:
        chunk = min(10_000, remaining)

        def add_earns(db, chunk=chunk):
            for _ in range(chunk):
                member_id = rng.choice(member_ids)
                amount = rng.randrange(10_000, 5_000_000, 1_000)
                row = LedgerRow(new_event_id(), member_id, "earn", amount // 10_000 or 1, amount, "purchase at bronze rate",
                                None, None, store.device_id, now)
                db["ledger"].insert(asdict(row))
                db.execute("UPDATE balances SET points = points + ? WHERE member_id = ?", [row.points, member_id])
                store._enqueue(db, "earn", asdict(row), now, event_id=row.event_id)

        store.write(add_earns, timeout=None)
        remaining -= chunk


def drain(args: argparse.Namespace) -> None:
    """Child process: drain the backlog and report figures as JSON on stdout."""
    from kiosk.sync.worker import SyncWorker
    from kiosk.sync.client import CloudClient
    from drivers.backoff import Backoff

    with Store(args.db, device_id="bench-kiosk") as store:
        depth = store.outbox_depth()
        client = CloudClient(args.cloud, device_id=args.device_id, device_key=args.device_key)
        worker = SyncWorker(store, client, clock=lambda: datetime.now(timezone.utc), rng=random.Random(1),
                            backoff=Backoff(initial_s=0.05, cap_s=1.0, jitter=True), batch_events=args.batch_events,
                            batch_bytes=args.batch_bytes)
        started = time.perf_counter()
        rounds = 0
        while store.outbox_depth() and rounds < 100:
            rounds += 1
            result = worker.drain()
            if result.failed:
                time.sleep(max(result.retry_in, 0.05))
        elapsed = time.perf_counter() - started
        left = store.outbox_depth()
        client.close()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"events": depth - left, "seconds": elapsed, "left": left, "peak_rss_kb": peak_kb,
                      "rounds": rounds, "delivered": worker.status.delivered_total}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=1_000)
    parser.add_argument("--batch-events", type=int, default=500)
    parser.add_argument("--batch-bytes", type=int, default=1_000_000)
    parser.add_argument("--drain", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--cloud", help=argparse.SUPPRESS)
    parser.add_argument("--device-id", help=argparse.SUPPRESS)
    parser.add_argument("--device-key", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drain:
        drain(args)
        return

    from cloud.store import CloudStore
    from kiosk.sync.client import CloudClient

    with tempfile.TemporaryDirectory(prefix="sync-drain-") as tmp:
        cloud_db = Path(tmp) / "cloud.sqlite"
        kiosk_db = Path(tmp) / "kiosk.db"
        token = CloudStore(cloud_db).create_token("bench")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        # Port 0: the server binds what it gets and prints it (a port picked here could be taken first).
        cloud = subprocess.Popen([sys.executable, "-m", "cloud.cli", "--db", str(cloud_db), "serve", "--port", "0"],
                                 cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            line = cloud.stdout.readline()  # printed once bound, so it answers from here on
            if " on http://" not in line:
                raise SystemExit(f"the cloud did not start: {line!r}")
            url = line.rsplit(" on ", 1)[1].strip().rstrip("/")
            with CloudClient(url) as client:
                registration = client.register(token, name="bench")
            fill_started = time.perf_counter()
            with Store(kiosk_db, device_id="bench-kiosk") as store:
                fill_backlog(store, args.events, members=min(args.members, args.events // 2))
                backlog = store.outbox_depth()
            print(f"backlog_events={backlog}")
            print(f"backlog_fill_s={time.perf_counter() - fill_started:.1f}")
            child = subprocess.run(
                [sys.executable, __file__, "--drain", "--db", str(kiosk_db), "--cloud", url,
                 "--device-id", registration.device_id, "--device-key", registration.device_key,
                 "--batch-events", str(args.batch_events), "--batch-bytes", str(args.batch_bytes)],
                cwd=ROOT, env=env, capture_output=True, text=True, check=True,
            )
            figures = json.loads(child.stdout.strip().splitlines()[-1])
            stored = CloudStore(cloud_db).counts()["events"]
        finally:
            cloud.terminate()
            cloud.wait(timeout=10)
            cloud.stdout.close()
    print(f"batch_events={args.batch_events}")
    print(f"drained_events={figures['events']}")
    print(f"left_in_outbox={figures['left']}")
    print(f"cloud_events={stored}")
    print(f"drain_s={figures['seconds']:.2f}")
    print(f"events_per_s={figures['events'] / figures['seconds']:.0f}")
    print(f"kiosk_peak_rss_mb={figures['peak_rss_kb'] / 1024:.1f}")


if __name__ == "__main__":
    main()
