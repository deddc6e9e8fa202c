"""A member's ledger kept between reads (kiosk/store/member_ledger.py) is always the ledger the database has:
after writes here, writes by another process on the same file, rows dated before the newest kept one and
evictions, every snapshot's history and entries equal a fresh read of the whole ledger."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.store import Store
from kiosk.store.member_ledger import LEDGER_MARK_SQL, MemberLedgers
from kiosk.errors import InsufficientPoints

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PHONES = ("+989120000001", "+989120000002", "+989120000003")

writes = st.tuples(st.sampled_from(["here", "other", "read"]), st.integers(0, len(PHONES) - 1),
                   st.sampled_from(["earn", "bonus", "adjust", "redeem"]), st.integers(1, 500),
                   st.sampled_from([0, 0, 0, 1, 30, 400]))  # days back: most rows are now, some back-dated


def fresh(store: Store, member_id: str) -> tuple:
    return tuple(store.history(member_id))


def mark(store: Store, member_id: str) -> tuple[int, int]:
    row = store.query(f"SELECT {LEDGER_MARK_SQL} FROM members m WHERE m.id = ?", (member_id,))[0]
    return row["l_rows"], row["l_last"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(writes, min_size=1, max_size=30))
def test_every_snapshot_has_the_ledger_the_database_has_whoever_wrote_it_and_whenever_it_is_dated(
        tmp_path_factory, steps):
    path = Path(tmp_path_factory.mktemp("kept")) / "kiosk.db"
    with Store(path, device_id="here", clock=lambda: NOW) as here, \
            Store(path, device_id="other", clock=lambda: NOW) as other:  # another process on the same file
        members = [here.add_member(phone, "M").id for phone in PHONES]
        for op, who, kind, points, back in steps:
            member_id = members[who]
            if op != "read":
                store = here if op == "here" else other
                signed = -points if kind == "redeem" or (kind == "adjust" and points % 2) else points
                try:
                    store.record(member_id, kind, signed, created_at=NOW - timedelta(days=back))
                except InsufficientPoints:
                    pass
            snapshot = here.member_snapshot(member_id)
            assert snapshot.history == fresh(here, member_id)
            assert snapshot.entries == tuple(r.entry() for r in snapshot.history)
            assert snapshot.balance.points == sum(r.points for r in snapshot.history)


def test_ledgers_beyond_the_kept_rows_are_dropped_oldest_first_and_read_again_whole(tmp_path):
    with Store(tmp_path / "kiosk.db", device_id="k", clock=lambda: NOW) as store:
        a, b = (store.add_member(phone, "M").id for phone in PHONES[:2])
        for _ in range(3):
            store.record(a, "earn", 10)
            store.record(b, "earn", 10)
        reads: list[str] = []
        kept = MemberLedgers(kept_rows=4)

        def query(sql: str, params: tuple) -> list:
            reads.append(sql)
            return store.query(sql, params)

        first = kept.read(query, a, *mark(store, a))
        assert kept.read(query, a, *mark(store, a)) is first and len(reads) == 1  # unchanged: no read at all
        kept.read(query, b, *mark(store, b))  # 3 + 3 rows > 4: a is dropped
        assert kept.read(query, a, *mark(store, a)).history == fresh(store, a) and len(reads) == 3
        store.record(a, "bonus", 5)
        grown = kept.read(query, a, *mark(store, a))
        assert grown.history == fresh(store, a) and "rowid > ?" in reads[-1]  # only the new row was read
        store.record(a, "bonus", 5, created_at=NOW - timedelta(days=3))  # dated before the kept rows
        assert kept.read(query, a, *mark(store, a)).history == fresh(store, a) and "rowid >" not in reads[-1]


def test_a_ledger_longer_than_all_the_kept_rows_is_read_whole_each_time_and_kept_nowhere(tmp_path):
    with Store(tmp_path / "kiosk.db", device_id="k", clock=lambda: NOW) as store:
        a = store.add_member(PHONES[0], "M").id
        for _ in range(5):
            store.record(a, "earn", 10)
        reads: list[str] = []
        kept = MemberLedgers(kept_rows=4)
        for _ in range(2):
            assert kept.read(lambda sql, p: reads.append(sql) or store.query(sql, p), a,
                             *mark(store, a)).history == fresh(store, a)
        assert len(reads) == 2
