"""The status pages' row counts: counted while a table is small, PostgreSQL's own estimate (marked) once it is not."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from cloud.status_counts import rounded
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
            conn.execute(text("UPDATE pg_class SET reltuples = 20000980 WHERE relname = 'events'"))
        counts = store.counts(exact_below=1000)
    # The estimate, rounded, not a count; the members, never analysed, have no estimate past the threshold: counted.
    assert counts["events"] == 20_000_000 and counts.estimated == frozenset({"events"})
    assert counts["members"] == 3


@pytest.mark.parametrize(("estimate", "shown"), [(20_000_980.0, 20_000_000), (1_234_567.8, 1_230_000),
                                                 (123_456.0, 123_000), (99_950.0, 100_000), (987.0, 987),
                                                 (0.4, 0), (0.0, 0)])
def test_an_estimate_is_shown_to_three_significant_digits_so_it_claims_no_precision_it_has_not(estimate, shown):
    assert rounded(estimate) == shown
