"""Message queue throughput against a loopback Kavenegar, and the birthday job at chain scale.

    python benchmarks/messages.py [--messages 3000] [--members 1000000] [--sender LINE] [--provider-in-process]

Prints `name=value` lines. Goals: queue_send_per_s >= 500, birthday_job_s < 60 (1,000,000 members).
The loopback provider runs in a process of its own (a real provider is another machine: its HTTP server's
work is not the queue's); --provider-in-process measures the old way, both in one process and one GIL.
"""
from __future__ import annotations

import argparse
import contextlib
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jdatetime  # noqa: E402

from cloud.messages.automations import run_birthdays  # noqa: E402
from cloud.messages.cli import engine_for  # noqa: E402
from cloud.messages.kavenegar import KavenegarGateway  # noqa: E402
from cloud.messages.queue import MessageQueue, Outgoing  # noqa: E402
from cloud.messages.rules import TRANSACTIONAL  # noqa: E402
from cloud.messages.settings import settings_from  # noqa: E402
from cloud.store import CloudStore  # noqa: E402
from tests.support.sms_providers import FakeProvider  # noqa: E402


def load_members(db: Path, members: int, rng: random.Random) -> None:
    """Bulk-load contacts with random birthdays straight through sqlite3 (setup, not measured)."""
    conn = sqlite3.connect(db)
    chunk = 50_000
    for start in range(0, members, chunk):
        rows = []
        for i in range(start, min(start + chunk, members)):
            born = date(1960, 1, 1).toordinal() + rng.randrange(365 * 45)
            born_day = date.fromordinal(born)
            j = jdatetime.date.fromgregorian(date=born_day)
            rows.append((f"m{i}", f"+98912{i:07d}", "Sara", "fa", born_day.month, born_day.day, j.month, j.day,
                         "2024-01-01T00:00:00.000000Z", i % 10 != 0, "kiosk"))
        conn.executemany("INSERT INTO message_contacts (member_id, phone_e164, first_name, language, birth_g_month,"
                         " birth_g_day, birth_j_month, birth_j_day, enrolled_at, marketing_consent, source)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.commit()
    conn.close()


@contextlib.contextmanager
def provider_process():
    """The loopback Kavenegar in its own process; yields its URL."""
    root = Path(__file__).resolve().parent.parent
    child = subprocess.Popen([sys.executable, "-m", "tests.support.sms_providers", "kavenegar"], cwd=root,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        yield child.stdout.readline().strip()
    finally:
        child.stdin.close()
        child.wait(timeout=30)
        child.stdout.close()


@contextlib.contextmanager
def provider_here():
    with FakeProvider("kavenegar") as provider:
        yield provider.url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--concurrency", type=int, default=8, help="messages in flight for the second figure")
    parser.add_argument("--sender", default="10004346",
                        help="the Kavenegar sender line; empty sends one message per call (no bulk call)")
    parser.add_argument("--provider-in-process", action="store_true",
                        help="run the loopback provider in this process (shares its GIL)")
    args = parser.parse_args()
    rng = random.Random(13)
    now = datetime(2026, 5, 10, 8, 30, tzinfo=timezone.utc)
    settings = settings_from({"messages": {"rate_per_second": 100_000}})
    parallel = settings_from({"messages": {"rate_per_second": 100_000, "concurrency": args.concurrency}})
    provider = provider_here() if args.provider_in_process else provider_process()
    with tempfile.TemporaryDirectory() as tmp, provider as provider_url:
        db = Path(tmp) / "cloud.sqlite"
        store = CloudStore(db)
        engine = engine_for(store.db)
        gateway = KavenegarGateway("good-key", args.sender, base_url=provider_url)
        for label, chosen in (("", settings), (f"_concurrency_{args.concurrency}", parallel)):
            queue = MessageQueue(engine, chosen, clock=lambda: datetime.now(timezone.utc))
            queue.enqueue(Outgoing(f"+98912{n:07d}", f"code {n}", "otp", TRANSACTIONAL) for n in range(args.messages))
            started = time.perf_counter()
            report = queue.drain(gateway)
            send_s = time.perf_counter() - started
            print(f"queue_sent{label}={report.sent}")
            print(f"queue_send_per_s{label}={report.sent / send_s:.0f}")

        load_members(db, args.members, rng)
        birthday_queue = MessageQueue(engine, settings, clock=lambda: now)
        started = time.perf_counter()
        queued = run_birthdays(engine, birthday_queue, settings, now)
        print(f"members={args.members}")
        print(f"birthday_queued={queued}")
        print(f"birthday_job_s={time.perf_counter() - started:.2f}")
        started = time.perf_counter()
        print(f"birthday_rerun_queued={run_birthdays(engine, birthday_queue, settings, now)}")
        print(f"birthday_rerun_s={time.perf_counter() - started:.2f}")
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
