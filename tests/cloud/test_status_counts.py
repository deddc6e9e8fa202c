"""The status pages' row counts: counted while a table is small, PostgreSQL's own estimate (marked) once it is not."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from cloud.store import CloudStore
from kiosk import protocol

NOW = datetime(2026, 5, 6, 12, tzinfo=timezone.utc)


def three_members(store: CloudStore) -> None:
    device = store.device(store.register(store.create_token("tehran-01")).device_id)
    store.ingest(device, [protocol.make_event("member_enrolled", f"m{i}", NOW, phone_e164=f"+98912000000{i}",
                                              name="سارا کریمی") for i in range(3)])


def test_a_small_club_is_counted_exactly_on_either_engine(database):
    with CloudStore(database, clock=lambda: NOW) as store:
        three_members(store)
        counts = store.counts()
    assert (counts["devices"], counts["events"], counts["members"], counts["cards"]) == (1, 3, 3, 0)
    assert counts.estimated == frozenset()


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_past_the_threshold_postgresql_gives_its_estimate_and_says_so_and_a_table_never_analysed_is_counted(database):
    with CloudStore(database, clock=lambda: NOW) as store:
        three_members(store)
        with store.db.read() as conn:
            conn.execute(text("ANALYZE events"))
            conn.execute(text("UPDATE pg_class SET reltuples = 20000000 WHERE relname = 'events'"))
        counts = store.counts(exact_below=1000)
    # The estimate, not a count; the members, never analysed, have no estimate past the threshold: counted.
    assert counts["events"] == 20_000_000 and counts.estimated == frozenset({"events"})
    assert counts["members"] == 3
