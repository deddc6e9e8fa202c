from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from kiosk.errors import CardAlreadyBound, DuplicateMember, InsufficientPoints, StoreError
from kiosk.store.migrations import MIGRATIONS
from kiosk.store import Store, iso
from tests.support.branches import Branches


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "kiosk.db", device_id="dev-1") as s:
        yield s


@pytest.fixture
def member(store):
    return store.add_member("+989121234567", "Sara", "Ahmadi")


def raw(path, sql, params=()):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def test_a_new_database_is_in_wal_mode_with_every_migration_applied(store):
    assert raw(store.path, "PRAGMA journal_mode")[0][0] == "wal"
    versions = [v for (v,) in raw(store.path, "SELECT version FROM schema_version ORDER BY version")]
    assert versions == [v for v, _ in MIGRATIONS]
    tables = {t for (t,) in raw(store.path, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"members", "cards", "ledger", "balances", "rewards", "coupons", "outbox"} <= tables


def test_reopening_a_database_does_not_reapply_migrations(tmp_path):
    with Store(tmp_path / "k.db", device_id="d") as s:
        s.add_member("+989121234567", "A")
    with Store(tmp_path / "k.db", device_id="d") as s:
        assert s.counts()["members"] == 1
    assert raw(tmp_path / "k.db", "SELECT COUNT(*) FROM schema_version")[0][0] == len(MIGRATIONS)


def test_a_database_from_newer_software_is_refused_with_advice(tmp_path):
    with Store(tmp_path / "k.db", device_id="d"):
        pass
    conn = sqlite3.connect(tmp_path / "k.db")
    conn.execute("INSERT INTO schema_version VALUES (999, 'x')")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer than this software"):
        Store(tmp_path / "k.db", device_id="d")


# What a kiosk on the first schema wrote: a member with a card, an earn, a balance and an
# outbox row still waiting for the cloud. Raw SQL in version 1's columns only, so the rows
# are exactly what an old kiosk left, whatever today's Store code would write.
FIRST_SCHEMA_ROWS = [
    ("INSERT INTO members (id, phone, first_name, last_name, referral_code, device_id, created_at) "
     "VALUES ('m-old', '+989121111111', 'Old', 'Timer', 'OLD00001', 'dev-old', '2025-01-01T10:00:00+00:00')"),
    ("INSERT INTO cards (card_ref, member_id, tech, label, bound_at) "
     "VALUES ('ref-old', 'm-old', 'nfc', '...A1B2', '2025-01-01T10:00:00+00:00')"),
    ("INSERT INTO ledger (event_id, member_id, kind, points, amount, receipt_id, device_id, created_at) "
     "VALUES ('e-old', 'm-old', 'earn', 120, 1200000, 'r-old', 'dev-old', '2025-01-01T10:05:00+00:00')"),
    ("INSERT INTO balances (member_id, points, earned_total, spent_rial, updated_at) "
     "VALUES ('m-old', 120, 120, 1200000, '2025-01-01T10:05:00+00:00')"),
    ("INSERT INTO outbox (event_id, payload, next_attempt_at, created_at) "
     "VALUES ('e-old', '{\"kind\": \"earn\"}', '2025-01-01T10:05:00+00:00', '2025-01-01T10:05:00+00:00')"),
]


def _database_at(path, version):
    """A database left by a kiosk whose software knew schema ``version``, with data in it."""
    with Store(path, device_id="dev-old", migrations=MIGRATIONS[:version]):
        pass
    conn = sqlite3.connect(path)
    try:
        with conn:
            for sql in FIRST_SCHEMA_ROWS:
                conn.execute(sql)
    finally:
        conn.close()


@pytest.mark.parametrize("version", [v for v, _ in MIGRATIONS[:-1]])
def test_a_database_of_every_earlier_schema_with_data_upgrades_keeping_all_of_it(tmp_path, version):
    _database_at(tmp_path / "k.db", version)
    assert raw(tmp_path / "k.db", "SELECT MAX(version) FROM schema_version")[0][0] == version

    with Store(tmp_path / "k.db", device_id="dev-1") as s:
        assert s.member_by_phone("+989121111111").first_name == "Old"
        assert s.card("ref-old").member_id == "m-old"
        assert s.balance("m-old").points == 120
        assert s.ledger_by_receipt("r-old").event_id == "e-old"
        assert [item.event_id for item in s.outbox_batch(10, 1 << 20, datetime.now(timezone.utc))] == ["e-old"]
        assert s.verify() == []
        s.record("m-old", "earn", 30, amount=300_000, receipt_id="r-new")  # the upgraded kiosk writes on
        assert s.balance("m-old").points == 150
    versions = [v for (v,) in raw(tmp_path / "k.db", "SELECT version FROM schema_version ORDER BY version")]
    assert versions == [v for v, _ in MIGRATIONS]


def test_a_failing_migration_is_rolled_back_whole_and_the_data_and_version_are_kept(tmp_path):
    _database_at(tmp_path / "k.db", len(MIGRATIONS))
    latest = MIGRATIONS[-1][0]
    failing = MIGRATIONS + ((latest + 1, """
        CREATE TABLE half_done (x INTEGER);
        ALTER TABLE members ADD COLUMN nickname TEXT;
        INSERT INTO no_such_table VALUES (1);
        """),)

    with pytest.raises(StoreError, match="no_such_table"):
        Store(tmp_path / "k.db", device_id="dev-1", migrations=failing)

    tables = {t for (t,) in raw(tmp_path / "k.db", "SELECT name FROM sqlite_master WHERE type='table'")}
    assert "half_done" not in tables
    assert "nickname" not in {c[1] for c in raw(tmp_path / "k.db", "PRAGMA table_info(members)")}
    assert raw(tmp_path / "k.db", "SELECT MAX(version) FROM schema_version")[0][0] == latest
    with Store(tmp_path / "k.db", device_id="dev-1") as s:  # today's software opens it as before
        assert s.balance("m-old").points == 120


def test_a_database_that_cannot_be_opened_gives_a_clear_error(tmp_path):
    (tmp_path / "k.db").mkdir()  # a directory where the file should be
    with pytest.raises(StoreError, match="cannot open the database"):
        Store(tmp_path / "k.db", device_id="d")


def test_a_file_that_is_not_a_database_gives_a_clear_error(tmp_path):
    (tmp_path / "k.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="k.db"):
        Store(tmp_path / "k.db", device_id="d")


def test_an_earn_updates_ledger_balance_and_outbox_in_one_transaction(store, member):
    result = store.record(member.id, "earn", 120, amount=1_200_000)
    assert result.applied and result.balance == 120
    assert store.balance(member.id).points == 120
    assert store.balance(member.id).spent_rial == 1_200_000
    payloads = [json.loads(p) for (p,) in raw(store.path, "SELECT payload FROM outbox")]
    earn = [p for p in payloads if p["kind"] == "earn"]
    assert earn and earn[0]["event_id"] == result.row.event_id and earn[0]["points"] == 120


def test_the_same_event_id_twice_changes_nothing(store, member):
    first = store.record(member.id, "earn", 50, event_id="e-1")
    again = store.record(member.id, "earn", 50, event_id="e-1")
    assert first.applied and not again.applied
    assert store.balance(member.id).points == 50
    assert len(store.history(member.id)) == 1


def test_the_same_receipt_earns_once(store, member):
    store.record(member.id, "earn", 50, amount=500_000, receipt_id="R-1")
    again = store.record(member.id, "earn", 50, amount=500_000, receipt_id="R-1")
    assert not again.applied and again.balance == 50


def test_a_redemption_larger_than_the_balance_writes_nothing(store, member):
    store.record(member.id, "earn", 40)
    before = store.counts()
    with pytest.raises(InsufficientPoints, match="needs 100 points and the balance is 40"):
        store.record(member.id, "redeem", -100)
    assert store.counts() == before
    assert store.balance(member.id).points == 40


def test_the_ledger_refuses_edits_and_deletes(store, member):
    store.record(member.id, "earn", 10)
    conn = sqlite3.connect(store.path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE ledger SET points = 1000")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM ledger")
    conn.close()


def test_verify_finds_a_balance_that_does_not_match_the_ledger(store, member):
    store.record(member.id, "earn", 10)
    assert store.verify() == []
    conn = sqlite3.connect(store.path)
    conn.execute("UPDATE balances SET points = 999")
    conn.commit()
    conn.close()
    assert store.verify() == [(member.id, 999, 10)]


def test_a_phone_number_enrols_once_and_a_card_binds_once(store, member):
    with pytest.raises(DuplicateMember):
        store.add_member(member.phone, "Someone")
    store.bind_card(member.id, "ref-1", "rfid125", "•••• 1234")
    other = store.add_member("+989351112233", "Ali")
    with pytest.raises(CardAlreadyBound):
        store.bind_card(other.id, "ref-1", "rfid125", "•••• 1234")


def test_the_outbox_hands_out_due_rows_bounded_by_count_and_bytes(store, member):
    for _ in range(5):
        store.record(member.id, "earn", 1)
    now = datetime.now(timezone.utc)
    everything = store.outbox_batch(100, 10**6, now)
    assert len(everything) == 6  # enrolment + five earns
    assert len(store.outbox_batch(2, 10**6, now)) == 2
    one_row_bytes = len(everything[0].payload.encode())
    assert len(store.outbox_batch(100, one_row_bytes, now)) == 1
    store.outbox_retry_later([everything[0].event_id], now + timedelta(minutes=5))
    assert everything[0].event_id not in [i.event_id for i in store.outbox_batch(100, 10**6, now)]
    store.outbox_delivered([i.event_id for i in everything], now)
    assert store.outbox_depth() == 0


def test_timestamps_must_carry_a_timezone():
    with pytest.raises(ValueError):
        iso(datetime(2026, 1, 1))


operations = st.lists(
    st.tuples(st.sampled_from(["earn", "redeem", "adjust", "bonus", "expire"]), st.integers(1, 500),
              st.sampled_from(["a", "b", "c", "d", None])),
    max_size=25,
)


def test_property_the_stored_balance_is_the_ledger_sum_never_negative_and_repeats_are_no_ops(tmp_path_factory):
    refusals, repeats = Branches(), Branches()

    @hsettings(max_examples=40, deadline=None)
    @given(ops=operations)
    def example(ops):
        path = tmp_path_factory.mktemp("prop") / "k.db"
        refused = repeated = False
        with Store(path, device_id="d") as store:
            m = store.add_member("+989121234567", "P")
            recorded: set[str] = set()
            for kind, size, event_id in ops:
                points = size if kind in ("earn", "bonus", "adjust") else -size
                before = store.balance(m.id).points
                try:
                    store.record(m.id, kind, points, event_id=event_id)
                except InsufficientPoints:
                    refused = True
                    assert store.balance(m.id).points == before
                    continue
                balance = store.balance(m.id).points
                if event_id in recorded:
                    repeated = True
                    assert balance == before  # the repeat of an event already recorded changes nothing
                elif event_id is not None:
                    recorded.add(event_id)
                assert balance >= 0
                assert balance == sum(r.points for r in store.history(m.id))
            assert store.verify() == []
            ids = [r.event_id for r in store.history(m.id)]
            assert len(ids) == len(set(ids))
        refusals.took("a debit refused" if refused else "no refusal")
        repeats.took("an event repeated" if repeated else "no repeat")

    example()
    refusals.require(**{"a debit refused": 0.26, "no refusal": 0.23})
    repeats.require(**{"an event repeated": 0.23, "no repeat": 0.26})
