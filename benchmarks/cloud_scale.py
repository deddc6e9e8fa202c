"""The cloud at a chain's scale: ingest, member look-up, console search, a segment run and the weekly report on
PostgreSQL.

    .venv/bin/python benchmarks/cloud_scale.py [--data-dir DIR] [--keep] [--load-only] [--members 1000000]
        [--ledger-rows 20000000] [--kiosks 100] [--batches 5] [--batch-events 100] [--lookups 2000] [--searches 3]
        [--no-sqlite] [--report-weeks 52] [--only ingest,lookup,search,segments,report]

Runs its own PostgreSQL (Debian's initdb + pg_ctl, loopback) in two phases:

- load (only when the cluster directory has none yet): `--members` members (a card and a balance each) and
  `--ledger-rows` ledger events made on the server (INSERT ... SELECT over generate_series, the HTTP path would
  take hours), in one transaction on tables truncated in it with wal_level=minimal, so nothing of it is written
  twice (WAL and table); every index and unique constraint is built after the rows, then VACUUM ANALYZE. With
  `--data-dir DIR` the loaded cluster is kept in DIR and later runs only measure (the load of the full size takes
  about twenty minutes; measuring a few). `--keep` keeps a temporary cluster too (its path is printed).
- measure, the server restarted with production settings (fsync and synchronous commit ON; SERVE_SETTINGS):
  - ingest_events_per_s: `--kiosks` registered kiosks post `--batches` signed batches of `--batch-events` events
    each, all at once over HTTP to `kiosk-cloud serve` processes (one per core), into the loaded database; its
    rows are deleted afterwards, so every run measures the same database. The kiosks post through the kiosk's own
    CloudClient, which here shares the cloud's two cores; ingest_wire_events_per_s: the same
    batches posted and signed on plain http.client connections, the cloud's share. sqlite_ingest_events_per_s:
    the CloudClient's figure against a new SQLite file.
  - member_lookup_p99_ms: signed GET /v1/members/lookup?card_ref= of random members over HTTP, one at a time,
    by the kiosk's CloudClient (member_lookup_wire_p99_ms: the same signed requests on a plain http.client
    connection, the cloud's share without the kiosk's HTTP library; member_lookup_db_p99_ms: the store's
    queries alone; member_lookup_client_cpu_ms and member_lookup_wire_cpu_ms: this process's CPU time per
    call of each, the client's own cost; member_lookup_server_cpu_ms and member_lookup_database_cpu_ms: the
    `kiosk-cloud serve` process's and the PostgreSQL processes' CPU time per wire call, from /proc, so the cost
    of each part of the look-up can be compared between two versions on a busy machine);
  - console_search_p99_ms: cloud.members.search (the console's query) for full and partial phones, Persian and
    Arabic spellings of names, and card refs;
  - segments_recompute_s: cloud.analytics.recompute over every member and the whole ledger;
  - weekly_report_s: cloud.reports.weekly, the console's weekly table, over a year (`--report-weeks` 52),
    every branch; weekly_report_tiers_s: its tier pass alone.
  `--only` measures only the named phases (a look-up change is measured in a minute, not the whole run's ten).

Prints name=value lines. Goals: ingest >= 5000 events/s, look-up p99 < 5 ms, search p99 < 50 ms, segments < 120 s,
weekly report < 10 s at 1,000,000 members and 20,000,000 ledger rows. Figures are only as good as the machine is
idle: load_average_* lines say how busy it was.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cloud.store import CloudStore, Device  # noqa: E402
from kiosk import protocol  # noqa: E402
from kiosk.sync.client import BatchReply, CloudClient  # noqa: E402
from tests.support.postgres import PostgresServer, pg_bindir  # noqa: E402
from tests.support.procs import children_of  # noqa: E402

FIRST = ("زهرا", "مریم", "فاطمه", "علی", "حسین", "رضا", "نرگس", "کاوه", "مهدی", "یاسمن", "سینا", "کیان", "لیلا",
         "امید", "دینا", "پریسا", "بهرام", "شیرین", "آرش", "نیما", "سارا", "محمد", "امیر", "الهام", "ساناز", "کامران",
         "مینا", "هادی", "یوسف", "ژاله")
LAST = ("یوسفی", "کریمی", "حسینی", "محمدی", "رحیمی", "جعفری", "موسوی", "نوری", "کاظمی", "تهرانی", "احمدی", "رضایی",
        "صادقی", "اکبری", "ملکی", "کیانی", "یزدانی", "شریفی", "قاسمی", "باقری", "عباسی", "کرمانی", "شیرازی", "اصفهانی",
        "فراهانی", "نیکزاد", "پاکزاد", "زمانی", "کوهی", "دریایی")


DATABASE = "cloud_scale"
MARKER = "cloud_scale.json"  # in the cluster directory: what was loaded, and the `now` its times are relative to
# Only for the load: nothing of it needs to survive a crash (a failed load is redone from scratch).
LOAD_SETTINGS = {"wal_level": "minimal", "max_wal_senders": "0", "synchronous_commit": "off", "autovacuum": "off",
                 "maintenance_work_mem": "1GB", "max_parallel_maintenance_workers": "2", "max_wal_size": "16GB",
                 "checkpoint_timeout": "1h"}
# What a production server of this size sets beside fsync and synchronous commit on (docs/cloud.md).
SERVE_SETTINGS = {"random_page_cost": "1.1", "effective_cache_size": "8GB", "work_mem": "64MB",
                  "shared_preload_libraries": "pg_prewarm"}


PHASES = ("ingest", "lookup", "search", "segments", "report")


def phases(text: str) -> tuple[str, ...]:
    asked = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = sorted(set(asked) - set(PHASES))
    if unknown or not asked:
        named = ", ".join(unknown) or repr(text)
        raise argparse.ArgumentTypeError(f"unknown phase {named}: name some of {', '.join(PHASES)}")
    return asked


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """Each live process's user + system CPU seconds so far (/proc/PID/stat), by pid."""
    tick = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue  # ended since it was listed
        seconds[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime (fields 14 and 15)
    return seconds


def cpu_spent_ms(before: dict[int, float], after: dict[int, float]) -> float:
    """Milliseconds of CPU the processes alive at both readings spent between them."""
    return sum(after[pid] - before[pid] for pid in before.keys() & after.keys()) * 1000


def postgres_pids(directory: Path) -> list[int]:
    """The cluster's postmaster (first line of its postmaster.pid) and every process it started."""
    postmaster = int((directory / "postmaster.pid").read_text().split()[0])
    return [postmaster, *children_of(postmaster)]


def timed_ms(call: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


class Serve:
    """`kiosk-cloud serve` processes on one database, each on its own port."""

    def __init__(self, database: str, processes: int, threads: int) -> None:
        self.procs, self.urls = [], []
        for _ in range(processes):
            proc = subprocess.Popen([sys.executable, "-m", "cloud.cli", "--db", database, "serve", "--port", "0",
                                     "--threads", str(threads)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
            line = proc.stdout.readline()
            if " on http://" not in line:
                raise SystemExit(f"kiosk-cloud serve did not start: {line!r}")
            self.procs.append(proc)
            self.urls.append(line.rsplit(" on ", 1)[1].strip().rstrip("/"))

    def close(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            proc.wait(timeout=30)
            proc.stdout.close()


def ingest(database: str, kiosks: int, batches: int, batch_events: int, processes: int, threads: int,
           wire: bool = False) -> float:
    """Events per second stored when every kiosk posts its batches at once; on PostgreSQL the run's rows are
    deleted afterwards (the loaded database stays as loaded). `wire`: the kiosks post on plain http.client
    connections (WireClient), not through the kiosk's CloudClient, whose requests library here runs on the
    cloud's own two cores (a real kiosk's runs on the kiosk)."""
    with CloudStore(database) as store:
        devices = [store.register(store.create_token(f"branch-{k % 50:02d}"), name=f"bench-{k}") for k in range(kiosks)]
    now = datetime.now(timezone.utc)
    plans: list[list[list[str]]] = []
    for k, device in enumerate(devices):
        plan = []
        for b in range(batches):
            batch = []
            for e in range(batch_events):
                member_id = f"k{k}-m{e % 20}"
                if b == 0 and e < 20:
                    event = protocol.make_event("member_enrolled", member_id, now, phone_e164=f"+98912{k:03d}{e:04d}",
                                                name=f"{FIRST[e % len(FIRST)]} {LAST[k % len(LAST)]}")
                else:
                    event = protocol.make_event("earn", member_id, now, points=12, amount=120_000,
                                                receipt_id=f"R{k}-{b}-{e}")
                batch.append(protocol.canonical_json(event))
            plan.append(batch)
        plans.append(plan)
    server = Serve(database, processes, threads)
    stored = [0] * kiosks
    errors: list[BaseException] = []
    start_line = threading.Barrier(kiosks + 1)

    def kiosk(k: int) -> None:
        try:
            url = server.urls[k % len(server.urls)]
            with (WireClient(url, devices[k]) if wire else
                  CloudClient(url, device_id=devices[k].device_id, device_key=devices[k].device_key,
                              read_timeout=120, deadline=180)) as client:
                start_line.wait()
                for batch in plans[k]:
                    stored[k] += sum(r["status"] == protocol.ACCEPTED for r in client.send_batch(batch).results)
        except BaseException as exc:  # noqa: BLE001 - reported below, the run is void
            errors.append(exc)
            start_line.abort()

    threads = [threading.Thread(target=kiosk, args=(k,)) for k in range(kiosks)]
    try:
        for thread in threads:
            thread.start()
        start_line.wait()
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        server.close()
        if database.startswith("postgresql"):
            forget_devices(database, [d.device_id for d in devices])
    if errors:
        raise SystemExit(f"a kiosk's batch failed: {errors[0]!r}")
    expected = kiosks * batches * batch_events
    if sum(stored) != expected:
        raise SystemExit(f"stored {sum(stored)} of {expected} events")
    return expected / elapsed


def forget_devices(url: str, device_ids: list[str]) -> None:
    """Delete what the ingest run's devices stored, so the next run measures the same database."""
    import psycopg

    with psycopg.connect(url) as conn:
        members = "SELECT member_id FROM members WHERE device_id = ANY(%(ids)s)"
        for statement in ("DELETE FROM events WHERE device_id = ANY(%(ids)s)",
                          f"DELETE FROM balances WHERE member_id IN ({members})",
                          "DELETE FROM members WHERE device_id = ANY(%(ids)s)",
                          "DELETE FROM devices WHERE device_id = ANY(%(ids)s)",
                          "DELETE FROM tokens WHERE device_id = ANY(%(ids)s)"):
            conn.execute(statement, {"ids": device_ids})


LOADED = ("members", "cards", "balances", "events")


def bulk_load(url: str, members: int, ledger_rows: int, now: datetime) -> None:
    """Members, cards, balances and ledger rows made by the database itself, in one transaction on tables it
    truncates (with wal_level=minimal PostgreSQL then writes them without WAL and syncs them at commit), every
    index and unique constraint of those tables built after the rows are in."""
    import psycopg

    first = "ARRAY[" + ",".join(f"'{n}'" for n in FIRST) + "]"
    last = "ARRAY[" + ",".join(f"'{n}'" for n in LAST) + "]"
    # No query parameters where the SQL has modulo signs: psycopg would read them as placeholders.
    stamp = f"""to_char(('{now.isoformat()}'::timestamptz - make_interval(secs => {{secs}})) AT TIME ZONE 'UTC',
                'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
    with psycopg.connect(url) as conn:
        conn.execute(f"TRUNCATE {', '.join(LOADED)}")
        constraints = conn.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid::regclass::text = ANY(%(tables)s) AND contype IN ('p', 'u') ORDER BY conname",
            {"tables": list(LOADED)}).fetchall()
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY(%(tables)s) "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname",
            {"tables": list(LOADED)}).fetchall()
        for name, _definition in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        for table, name, _definition in constraints:
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        conn.execute(f"""
            INSERT INTO members (member_id, phone_e164, name, name_folded, enrolled_at, device_id, branch)
            SELECT 'm' || i, '+989' || (ARRAY['12','13','19','35','36','01'])[1 + i % 6]
                   || lpad(((i::bigint * 7919) % 10000000)::text, 7, '0'), name, name,
                   {stamp.format(secs='((i::bigint * 7727) % (900 * 86400))')}, 'bulk', 'branch-' || lpad((i % 200)::text, 3, '0')
            FROM (SELECT i, ({first})[1 + i % {len(FIRST)}] || ' ' || ({last})[1 + (i / {len(FIRST)}) % {len(LAST)}] AS name
                  FROM generate_series(0, {members - 1}) AS i) AS s""")
        conn.execute(f"""INSERT INTO cards (card_ref, member_id, state, changed_at)
            SELECT encode(sha256(('card' || i)::bytea), 'hex'), 'm' || i, 'active', '{protocol.format_time(now)}'
            FROM generate_series(0, {members - 1}) AS i""")
        print(f"# loaded {members} members and cards", file=sys.stderr, flush=True)
        chunk = 2_000_000
        for start in range(0, ledger_rows, chunk):
            stop = min(ledger_rows, start + chunk) - 1
            conn.execute(f"""
                INSERT INTO events (event_id, device_id, branch, kind, member_id, created_at, received_at, points,
                                    amount, digest, payload)
                SELECT md5('e' || i)::uuid::text, 'bulk', 'branch-' || lpad((m % 200)::text, 3, '0'),
                       CASE WHEN i % 10 = 9 THEN 'redeem' ELSE 'earn' END, 'm' || m, ts, ts,
                       CASE WHEN i % 10 = 9 THEN -20 ELSE amount / 10000 END,
                       CASE WHEN i % 10 = 9 THEN 0 ELSE amount END, md5(i::text) || md5('d' || i),
                       '{{"amount":' || amount || ',"points":' || amount / 10000 || '}}'
                FROM (SELECT i, (i::bigint * 2654435761) % {members} AS m,
                             {stamp.format(secs='((i::bigint * 104729) % (730 * 86400))')} AS ts,
                             100000 + (i::bigint * 48271) % 9000000 AS amount
                      FROM generate_series({start}, {stop}) AS i) AS s""")
            print(f"# loaded {stop + 1} ledger rows", file=sys.stderr, flush=True)
        conn.execute("""INSERT INTO balances (member_id, points, events)
                        SELECT member_id, sum(points), count(*) FROM events GROUP BY member_id""")
        for table, name, definition in constraints:
            conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            print(f"# built {name}", file=sys.stderr, flush=True)
        for name, definition in indexes:
            conn.execute(definition)
            print(f"# built {name}", file=sys.stderr, flush=True)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (FREEZE, ANALYZE)")


# What a tap reads: on a server that has been answering taps these are in its cache (and autoprewarm,
# docs/cloud.md, puts them back after a restart); right after the benchmark's restart they would be read from disk.
TAP_RELATIONS = ("devices", "devices_pkey", "cards", "cards_pkey", "members", "members_pkey", "balances",
                 "balances_pkey", "credit_balances", "credit_balances_pkey", "coupons", "ix_coupons_member_id")


def prewarm(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        pages = conn.execute("SELECT sum(pg_prewarm(name::regclass)) FROM unnest(%(names)s::text[]) AS name",
                             {"names": list(TAP_RELATIONS)}).fetchone()[0]
    print(f"# prewarmed {pages} pages of the tap's tables", file=sys.stderr, flush=True)


def search_queries(rng: random.Random, members: int) -> list[str]:
    """What a clerk types: a whole phone, its last digits, a surname in Persian or Arabic letters, a full name."""
    queries = []
    for _ in range(20):
        i = rng.randrange(members)
        digits = f"{(i * 7919) % 10_000_000:07d}"
        prefix = ("12", "13", "19", "35", "36", "01")[i % 6]
        first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
        queries += [f"09{prefix}{digits}", f"9{prefix}{digits[:4]}", digits, last,
                    last.replace("ی", "ي").replace("ک", "ك"), f"{first} {last}"]
    return queries


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, help="keep the loaded cluster here; load only if it has none yet")
    parser.add_argument("--keep", action="store_true", help="keep the temporary cluster (its path is printed)")
    parser.add_argument("--load-only", action="store_true", help="load (if needed) and stop, measure nothing")
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--ledger-rows", type=int, default=20_000_000)
    parser.add_argument("--kiosks", type=int, default=100)
    parser.add_argument("--batches", type=int, default=5, help="batches each kiosk posts")
    parser.add_argument("--batch-events", type=int, default=100)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--searches", type=int, default=3, help="rounds over the mixed search queries")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2, help="serve processes")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads per serve process")
    parser.add_argument("--report-weeks", type=int, default=52, help="weeks of the timed weekly report")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite ingest")
    parser.add_argument("--only", type=phases, default=PHASES, metavar="PHASE,...",
                        help=f"measure only these of {','.join(PHASES)} (the whole run takes minutes at full size)")
    args = parser.parse_args()
    bindir = pg_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL is not installed (apt-get install postgresql, or make system-deps)")
    print(f"cpus={os.cpu_count()}\nload_average_1m_before={os.getloadavg()[0]:.2f}")
    print(f"members={args.members}\nledger_rows={args.ledger_rows}\nkiosks={args.kiosks}\n"
          f"batch_events={args.batch_events}\nserve_processes={args.processes}\nserve_threads={args.threads}",
          flush=True)
    directory = args.data_dir.resolve() if args.data_dir else Path(tempfile.mkdtemp(prefix="cloud-scale-"))
    try:
        now = loaded(bindir, directory, args)
        if not args.load_only:
            measure(bindir, directory, args, now)
    finally:
        if args.data_dir is None and not args.keep:
            shutil.rmtree(directory, ignore_errors=True)
        elif args.data_dir is None:
            print(f"# kept the cluster in {directory}: measure again with --data-dir {directory}", file=sys.stderr)
    print(f"load_average_1m_after={os.getloadavg()[0]:.2f}")
    return 0


def loaded(bindir: Path, directory: Path, args: argparse.Namespace) -> datetime:
    """The cluster in `directory` loaded at the asked size (loading it first if it has none); the `now` its ledger
    times are relative to."""
    marker = directory / MARKER
    if marker.exists():
        done = json.loads(marker.read_text())
        if (done["members"], done["ledger_rows"]) != (args.members, args.ledger_rows):
            raise SystemExit(f"{directory} holds {done['members']} members and {done['ledger_rows']} ledger rows, "
                             f"not {args.members} and {args.ledger_rows}: give those sizes or another --data-dir")
        print(f"# reusing the cluster loaded in {directory} ({done['bulk_load_s']} s)", file=sys.stderr)
        return datetime.fromisoformat(done["now"])
    if (directory / "data").exists():
        raise SystemExit(f"{directory} has a cluster whose load did not finish (no {MARKER}): remove the directory "
                         "and run again")
    server = PostgresServer(bindir, durable=True, directory=directory, settings=LOAD_SETTINGS)
    server.start()
    now = datetime.now(timezone.utc)
    try:
        import psycopg

        with psycopg.connect(server.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
        with CloudStore(server.url(DATABASE)):
            pass  # migrated: the tables the bulk load fills
        started = time.perf_counter()
        bulk_load(server.url(DATABASE), args.members, args.ledger_rows, now)
        took = round(time.perf_counter() - started)
        print(f"bulk_load_s={took}\nload_average_1m_after_load={os.getloadavg()[0]:.2f}", flush=True)
    finally:
        server.stop()
    marker.write_text(json.dumps({"members": args.members, "ledger_rows": args.ledger_rows, "now": now.isoformat(),
                                  "bulk_load_s": took}))
    return now


def measure(bindir: Path, directory: Path, args: argparse.Namespace, now: datetime) -> None:
    server = PostgresServer(bindir, durable=True, directory=directory, settings=SERVE_SETTINGS)
    server.start()
    try:
        url = server.url(DATABASE)
        if "ingest" in args.only:
            rate = ingest(url, args.kiosks, args.batches, args.batch_events, args.processes, args.threads)
            print(f"ingest_events_per_s={rate:.0f}\nload_average_1m_ingest={os.getloadavg()[0]:.2f}", flush=True)
            rate = ingest(url, args.kiosks, args.batches, args.batch_events, args.processes, args.threads, wire=True)
            print(f"ingest_wire_events_per_s={rate:.0f}", flush=True)
            if not args.no_sqlite:
                with tempfile.TemporaryDirectory() as tmp:
                    rate = ingest(str(Path(tmp) / "cloud.sqlite"), args.kiosks, args.batches, args.batch_events,
                                  args.processes, args.threads)
                print(f"sqlite_ingest_events_per_s={rate:.0f}", flush=True)
        measure_reads(url, args, now, server.data)
    finally:
        server.stop()


def measure_reads(url: str, args: argparse.Namespace, now: datetime, data: Path) -> None:
    import hashlib

    from cloud import analytics, members

    rng = random.Random(12)
    refs = [hashlib.sha256(f"card{rng.randrange(args.members)}".encode()).hexdigest() for _ in range(args.lookups)]
    with CloudStore(url) as store:
        if "lookup" in args.only:
            measure_lookup(store, url, refs, args, data)
        if "search" in args.only:
            queries = search_queries(rng, args.members) + refs[:20]
            members.search(store.db, queries[0])
            samples = []
            for _ in range(args.searches):
                for query in queries:
                    samples += timed_ms(lambda: members.search(store.db, query), 1)
            print(f"console_search_p50_ms={statistics.median(samples):.2f}\n"
                  f"console_search_p99_ms={percentile(samples, 0.99):.2f}", flush=True)
        if "segments" in args.only:
            started = time.perf_counter()
            run = analytics.recompute(store.db, now)
            print(f"segments_recompute_s={time.perf_counter() - started:.2f}\nsegments_members={run.members}\n"
                  f"top_share_percent={run.top_share_percent}", flush=True)
        if "report" in args.only:
            measure_report(store, args, now)


def measure_lookup(store: CloudStore, url: str, refs: list[str], args: argparse.Namespace, data: Path) -> None:
    device = store.register(store.create_token("branch-000"), name="lookup-bench")
    prewarm(url)
    found = iter(refs)
    db_samples = timed_ms(lambda: store.lookup(card_ref=next(found)), len(refs))
    print(f"member_lookup_db_p50_ms={statistics.median(db_samples):.2f}\n"
          f"member_lookup_db_p99_ms={percentile(db_samples, 0.99):.2f}", flush=True)
    serve = Serve(url, 1, args.threads)
    try:
        with CloudClient(serve.urls[0], device_id=device.device_id, device_key=device.device_key) as client:
            client.lookup(card_ref=refs[0])  # the process's first request compiles its statements
            found = iter(refs)
            cpu = time.process_time()
            http_samples = timed_ms(lambda: client.lookup(card_ref=next(found)), len(refs))
            http_cpu = (time.process_time() - cpu) * 1000 / len(refs)
        with WireClient(serve.urls[0], device) as wire:
            wire.lookup(refs[0])  # its connection to the server, and the server's to the database, made first
            found = iter(refs)
            server_pids, database_pids = [serve.procs[0].pid], postgres_pids(data)
            server_before, database_before = cpu_seconds(server_pids), cpu_seconds(database_pids)
            cpu = time.process_time()
            wire_samples = timed_ms(lambda: wire.lookup(next(found)), len(refs))
            wire_cpu = (time.process_time() - cpu) * 1000 / len(refs)
            server_cpu = cpu_spent_ms(server_before, cpu_seconds(server_pids)) / len(refs)
            database_cpu = cpu_spent_ms(database_before, cpu_seconds(database_pids)) / len(refs)
    finally:
        serve.close()
    # This process's CPU per call: the client's own cost (the servers are other processes), which a busy
    # machine inflates far less than the wall-clock figures.
    print(f"member_lookup_client_cpu_ms={http_cpu:.3f}\nmember_lookup_wire_cpu_ms={wire_cpu:.3f}\n"
          f"member_lookup_server_cpu_ms={server_cpu:.3f}\nmember_lookup_database_cpu_ms={database_cpu:.3f}",
          flush=True)
    print(f"member_lookup_p50_ms={statistics.median(http_samples):.2f}\n"
          f"member_lookup_p99_ms={percentile(http_samples, 0.99):.2f}\n"
          f"member_lookup_wire_p50_ms={statistics.median(wire_samples):.2f}\n"
          f"member_lookup_wire_p99_ms={percentile(wire_samples, 0.99):.2f}", flush=True)


class WireClient:
    """The look-up's signed request on one kept-alive http.client connection: the cloud's share of a look-up
    (its server, its database, loopback), without the kiosk client's own work (signing aside)."""

    def __init__(self, url: str, device: Device) -> None:
        import http.client
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        self.device = device
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)

    def lookup(self, card_ref: str) -> None:
        path = f"/v1/members/lookup?card_ref={card_ref}"
        headers = protocol.signed_headers(self.device.device_id, self.device.device_key,
                                          datetime.now(timezone.utc), "GET", path, b"")
        self.connection.request("GET", path, headers=headers)
        reply = self.connection.getresponse()
        reply.read()
        if reply.status != 200:
            raise SystemExit(f"the look-up over the wire answered {reply.status}")

    def send_batch(self, payloads: list[str]) -> BatchReply:
        """The batch posted and signed as the kiosk's CloudClient.send_batch does, answered in its shape."""
        path, body = f"/v1/devices/{self.device.device_id}/events", protocol.encode_batch(payloads)
        headers = protocol.signed_headers(self.device.device_id, self.device.device_key,
                                          datetime.now(timezone.utc), "POST", path, body)
        self.connection.request("POST", path, body=body, headers={**headers, "Content-Type": "application/json"})
        reply = self.connection.getresponse()
        answer = reply.read()
        if reply.status != 200:
            raise SystemExit(f"a batch over the wire answered {reply.status}: {answer[:200]!r}")
        document = json.loads(answer)
        return BatchReply(document["results"], None, document)

    def __enter__(self) -> WireClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.connection.close()


def measure_report(store: CloudStore, args: argparse.Namespace, now: datetime) -> None:
    """The whole weekly report, then its tier half alone (one pass of the ledger for every week; the rest is the
    ledger's grouped figures)."""
    from cloud import reports, tier_sql
    from cloud.db.schema import members

    started = time.perf_counter()
    with store.db.read() as conn:
        report = reports.weekly(conn, now, args.report_weeks, None)
    print(f"weekly_report_s={time.perf_counter() - started:.2f}\nweekly_report_weeks={args.report_weeks}\n"
          f"weekly_report_rows={len(report.rows)}\n"
          f"load_average_1m_report={os.getloadavg()[0]:.2f}", flush=True)
    moments = [min(protocol.parse_time(w.end) - timedelta(microseconds=1), now)
               for w in reports.weeks_until(now, args.report_weeks)]
    started = time.perf_counter()
    with store.db.read() as conn:  # the benchmark's branches have no config: the default rules, one group
        conn.execute(tier_sql.tier_changes(moments, tier_sql.branch_rules(None), members.c.branch.isnot(None))).all()
    print(f"weekly_report_tiers_s={time.perf_counter() - started:.2f}\n"
          f"load_average_1m_reads={os.getloadavg()[0]:.2f}", flush=True)

if __name__ == "__main__":
    sys.exit(main())
