"""The only place that touches SQLite: members, cards, the append-only ledger, the outbox.

One writer thread owns the write connection, so every change is serialised
without lock juggling; each change (ledger row, balance row, outbox row) is one
transaction. Reads use a per-thread read-only connection: WAL lets them run
beside the writer, which keeps a balance look-up off the writer's queue.
"""
from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
import uuid
from concurrent.futures import Future
from dataclasses import asdict, fields
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence, TypeVar

import sqlite_utils

from kiosk.errors import (
    CardAlreadyBound,
    DuplicateMember,
    InsufficientPoints,
    StorageFull,
    StoreError,
    UnknownMember,
)
from kiosk.private_files import create_private
from kiosk.store.migrations import MIGRATIONS
from kiosk.clock import iso, utcnow
from kiosk.rules.ledger import CREDIT_KINDS, LedgerKind
from kiosk.store.draws_games import DrawsGamesMixin
from kiosk.store.member_ledger import LEDGER_MARK_SQL, MemberLedgers
from kiosk.store.engagement import EngagementMixin
from kiosk.store.outbox import OutboxMixin
from kiosk.store.rewards import RewardsMixin
from kiosk.store.reversals import ReversalsMixin
from kiosk.store.spending import COUPONS_HELD_JSON, SpendingMixin
from kiosk.store.staff_records import StaffRecordsMixin
from kiosk.store.records import (Balance, Bonus, Card, LedgerRow, Member, MemberSnapshot, NewCard, Recorded,
                                 member_row, new_event_id)
from kiosk.protocol import CLOUD_CORRECTION_REASON

log = logging.getLogger(__name__)
T = TypeVar("T")

LEDGER_KINDS = tuple(LedgerKind)
# LedgerRow's fields in order, so a row is built from a tuple (a dict per row made a long ledger slow to read).
LEDGER_COLUMNS = ", ".join(f.name for f in fields(LedgerRow))
CARD_STATES = ("active", "blocked", "lost")


def _translate(exc: sqlite3.Error, path: Path) -> StoreError:
    text = str(exc)
    if "disk is full" in text or "database or disk is full" in text:
        return StorageFull(f"the disk holding {path} is full; nothing was written. Free some space and try again")
    if "readonly" in text or "read-only" in text:
        return StoreError(f"the database {path} is read-only; check the permissions of its folder")
    return StoreError(f"database error on {path}: {text}")


class Store(OutboxMixin, RewardsMixin, SpendingMixin, EngagementMixin, DrawsGamesMixin, StaffRecordsMixin,
            ReversalsMixin):
    """The kiosk's SQLite database. Use as a context manager or call :meth:`close`."""

    def __init__(self, path: Path | str, *, device_id: str, clock: Callable[[], datetime] = utcnow,
                 on_read: Callable[[str], None] | None = None,
                 migrations: tuple[tuple[int, str], ...] = MIGRATIONS) -> None:
        self.path = Path(path)
        # The schema this software knows; tests pass a prefix (a database as an older kiosk
        # left it) or one more failing step (to prove a failed upgrade is rolled back).
        self._migrations = migrations
        self.device_id = device_id
        self._clock = clock
        self._on_read = on_read  # sees the SQL of every read (benchmarks/tap_reads.py counts a tap's reads)
        self._jobs: queue.Queue[tuple[Callable[[sqlite_utils.Database], Any], Future] | None] = queue.Queue()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = False
        self._listeners: list[Callable[[], None]] = []
        self._ledgers = MemberLedgers()  # members' ledgers as last read, checked against the database each read
        started: Future = Future()
        self._writer = threading.Thread(target=self._run_writer, args=(started,), name="store-writer", daemon=True)
        self._writer.start()
        started.result()  # re-raises an open or migration failure in the caller
        self.heartbeat = self._clock()

    # --- connection handling -------------------------------------------------

    def _connect(self, readonly: bool) -> sqlite3.Connection:
        try:
            if not readonly:
                create_private(self.path)  # shoppers' names and phones: 0600 whatever the umask
            uri = f"file:{self.path}?mode={'ro' if readonly else 'rwc'}"
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=10)
            conn.execute("PRAGMA busy_timeout = 10000")
            conn.execute("PRAGMA foreign_keys = ON")
            if not readonly:
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if mode.lower() != "wal":
                    raise StoreError(f"could not switch {self.path} to WAL mode (got {mode})")
                # FULL: a committed earn survives a power cut, which the shop was promised.
                conn.execute("PRAGMA synchronous = FULL")
            else:
                conn.execute("PRAGMA query_only = ON")
            return conn
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(
                f"cannot open the database {self.path}: {exc}. Check that the data directory exists, "
                "is writable by the kiosk user and is not a directory or another kind of file"
            ) from None

    def _run_writer(self, started: Future) -> None:
        conn: sqlite3.Connection | None = None
        try:
            conn = self._connect(readonly=False)
            db = sqlite_utils.Database(conn)
            self._migrate(db)
        except BaseException as exc:  # hand it to the constructor
            if conn is not None:
                conn.close()  # a failed open must not leave the file open behind the caller
            started.set_exception(exc if isinstance(exc, StoreError) else _translate(exc, self.path))
            return
        started.set_result(None)
        try:
            while True:
                job = self._jobs.get()
                if job is None:
                    break
                fn, fut = job
                if not fut.set_running_or_notify_cancel():
                    continue
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    try:
                        result = fn(db)
                    except BaseException:
                        # SQLite has already rolled back on SQLITE_FULL and friends; a second
                        # ROLLBACK would replace "disk is full" with "no transaction is active".
                        if conn.in_transaction:
                            conn.execute("ROLLBACK")
                        raise
                    conn.execute("COMMIT")
                    fut.set_result(result)
                    for listener in list(self._listeners):
                        listener()
                except sqlite3.Error as exc:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    fut.set_exception(_translate(exc, self.path))
                except BaseException as exc:
                    fut.set_exception(exc)
                self.heartbeat = self._clock()
        finally:
            conn.close()

    def _migrate(self, db: sqlite_utils.Database) -> None:
        conn = db.conn
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
        current = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
        known = self._migrations[-1][0] if self._migrations else 0
        if current > known:
            raise StoreError(
                f"the database {self.path} has schema version {current}, newer than this software knows ({known}); "
                "upgrade the kiosk software instead of downgrading it"
            )
        for version, sql in self._migrations:
            if version <= current:
                continue
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _statements(sql):
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version VALUES (?, ?)", (version, iso(self._clock())))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            log.info("applied database migration %d", version)

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every committed write (e.g. to wake the sync worker); keep it quick."""
        self._listeners.append(listener)

    def write(self, fn: Callable[[sqlite_utils.Database], T], timeout: float | None = 30) -> T:
        """Run ``fn(db)`` in one transaction on the writer thread and return its result."""
        if self._closed:
            raise StoreError("the store is closed")
        fut: Future = Future()
        self._jobs.put((fn, fut))
        return fut.result(timeout)

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect(readonly=True)
            conn.row_factory = sqlite3.Row
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        if self._closed:
            raise StoreError("the store is closed")
        if self._on_read is not None:
            self._on_read(sql)
        try:
            return self._reader().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from None

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._jobs.put(None)
        self._writer.join(timeout=10)
        with self._readers_lock:
            for conn in self._readers:
                try:
                    conn.close()
                except sqlite3.ProgrammingError:  # closed by another thread's exit already
                    pass
            self._readers.clear()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- members and cards -----------------------------------------------------

    def add_member(
        self,
        phone: str,
        first_name: str,
        last_name: str = "",
        *,
        birthday: str | None = None,
        consent_version: str | None = None,
        referred_by: str | None = None,
        language: str | None = None,
        member_id: str | None = None,
        bonuses: Sequence[Bonus] = (),
        card: NewCard | None = None,
    ) -> Member:
        """Enrol a member keyed by an E.164 phone number (normalise it before calling).

        The member, its ``bonuses`` (to it or, for a referral, to another member) and its first ``card`` are
        one transaction: a failure (a full disk, a taken card) writes none of them, so a retry enrols afresh.
        """
        now = iso(self._clock())
        member = Member(
            id=member_id or new_event_id(),
            phone=phone,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            birthday=birthday,
            consent_at=now if consent_version else None,
            consent_version=consent_version,
            referral_code=uuid.uuid4().hex[:8].upper(),
            referred_by=referred_by,
            language=language,
            device_id=self.device_id,
            created_at=now,
        )

        def tx(db: sqlite_utils.Database) -> Member:
            if db.execute("SELECT 1 FROM members WHERE phone = ?", [phone]).fetchone():
                raise DuplicateMember(f"a member with phone {phone} already exists")
            db["members"].insert(member_row(member))
            db["balances"].insert({"member_id": member.id, "points": 0, "earned_total": 0, "spent_rial": 0, "updated_at": now})
            self._enqueue(db, "member_enrolled", {"member": asdict(member)}, now)
            self._pay_bonuses(db, member.id, bonuses, now)
            if card is not None:
                self._insert_card(db, Card(card.card_ref, member.id, card.tech, card.label, "active", now))
            return member

        return self.write(tx)

    def _pay_bonuses(self, db: sqlite_utils.Database, member_id: str, bonuses: Sequence[Bonus], now: str) -> None:
        """Append ``bonuses`` inside a write; one whose event id is known already is not paid twice."""
        for bonus in bonuses:
            row = self._row(bonus.member_id or member_id, LedgerKind.BONUS, bonus.points, reason=bonus.reason,
                            event_id=bonus.event_id, now=now)
            if self._known(db, row.event_id, None) is None:
                self._append(db, row)

    def member(self, member_id: str) -> Member:
        rows = self.query("SELECT * FROM members WHERE id = ?", (member_id,))
        if not rows:
            raise UnknownMember(f"no member with id {member_id}")
        return Member(**dict(rows[0]))

    def member_snapshot(self, member_id: str) -> MemberSnapshot:
        """The member, their balance, their unused coupons and their whole ledger (newest first) in two reads:
        what a tap needs (the coupons ride on the member's row as JSON so the screen stays at four reads)."""
        rows = self.query(
            "SELECT m.*, b.points AS b_points, b.earned_total AS b_earned_total, b.spent_rial AS b_spent_rial, "
            f"b.credit_rial AS b_credit_rial, ({COUPONS_HELD_JSON}) AS b_coupons, {LEDGER_MARK_SQL} "
            "FROM members m JOIN balances b ON b.member_id = m.id WHERE m.id = ?", (member_id,))
        if not rows:
            raise UnknownMember(f"no member with id {member_id}")
        row = dict(rows[0])
        balance = Balance(member_id, row.pop("b_points"), row.pop("b_earned_total"), row.pop("b_spent_rial"),
                          row.pop("b_credit_rial"))
        coupons = tuple(json.loads(row.pop("b_coupons")))
        ledger = self._ledgers.read(self.query, member_id, row.pop("l_rows"), row.pop("l_last"))
        return MemberSnapshot.converted(Member(**row), balance, ledger.history, coupons, ledger.entries)

    def update_profile(self, member_id: str, *, last_name: str, birthday: str | None, language: str | None = None,
                       bonuses: Sequence[Bonus] = ()) -> Member:
        """Complete a profile after joining: the last name, birthday and language (None keeps it), and its bonus,
        in one transaction; the profile goes to the cloud (member_updated), dated for every branch that has it."""
        def tx(db: sqlite_utils.Database) -> None:
            now = iso(self._clock())
            if db.execute("UPDATE members SET last_name = ?, birthday = ?, language = COALESCE(?, language), "
                          "profile_at = ? WHERE id = ?", [last_name, birthday, language, now, member_id]).rowcount == 0:
                raise UnknownMember(f"no member with id {member_id}")
            self._pay_bonuses(db, member_id, bonuses, now)
            row = db.execute("SELECT * FROM members WHERE id = ?", [member_id])
            self._enqueue(db, "member_updated", {"member": dict(zip([d[0] for d in row.description], row.fetchone()))},
                          now)

        self.write(tx)
        return self.member(member_id)

    def member_by_phone(self, phone: str) -> Member | None:
        rows = self.query("SELECT * FROM members WHERE phone = ?", (phone,))
        return Member(**dict(rows[0])) if rows else None

    def member_by_referral_code(self, code: str) -> Member | None:
        rows = self.query("SELECT * FROM members WHERE referral_code = ?", (code.strip().upper(),))
        return Member(**dict(rows[0])) if rows else None

    def bind_card(self, member_id: str, card_ref: str, tech: str, label: str) -> Card:
        now = iso(self._clock())
        card = Card(card_ref=card_ref, member_id=member_id, tech=tech, label=label, state="active", bound_at=now)

        def tx(db: sqlite_utils.Database) -> Card:
            if not db.execute("SELECT 1 FROM members WHERE id = ?", [member_id]).fetchone():
                raise UnknownMember(f"no member with id {member_id}")
            return self._insert_card(db, card)

        return self.write(tx)

    def _insert_card(self, db: sqlite_utils.Database, card: Card) -> Card:
        if db.execute("SELECT 1 FROM cards WHERE card_ref = ?", [card.card_ref]).fetchone():
            raise CardAlreadyBound(f"card {card.label} is already bound to a member")
        db["cards"].insert(asdict(card))
        self._enqueue(db, "card_bound", {"card": asdict(card)}, card.bound_at)
        return card

    def import_member(self, member: Member, card: Card, balance_points: int,
                      *, reason: str = f"{CLOUD_CORRECTION_REASON} imported from the chain",
                      credit_rial: int = 0) -> Card:
        """Copy a member and card the chain already knows, in one transaction.

        Unlike add_member/bind_card nothing about the member or card goes to the outbox:
        the cloud has them already and would take a second enrolment as new. The balance
        arrives as one ``adjust`` (``reason`` must mark it as a cloud correction, which the
        cloud keeps out of the chain balance), so the local ledger still sums to the
        balance. A member already known here keeps its ledger; only the card is added
        (the sync worker's reconcile corrects its balance). The chain's purchase credit arrives the same way,
        as one 'correction' row of the credit ledger (never sent back).
        """
        if balance_points < 0 or credit_rial < 0:
            raise ValueError(f"an imported balance cannot be negative ({balance_points})")
        if not reason.startswith(CLOUD_CORRECTION_REASON):
            raise ValueError(f"an imported balance is a cloud correction; its reason must start with "
                             f"{CLOUD_CORRECTION_REASON!r} or the cloud would count it twice")
        if card.member_id != member.id:
            raise ValueError("the imported card belongs to another member than the imported member")
        if card.state not in CARD_STATES:
            raise ValueError(f"card state {card.state!r} is not one of {', '.join(CARD_STATES)}")
        now = iso(self._clock())
        event_id = new_event_id()  # a re-import after a wiped disk is a new event, not a clash

        def tx(db: sqlite_utils.Database) -> Card:
            known = db.execute("SELECT 1 FROM members WHERE id = ?", [member.id]).fetchone() is not None
            if not known:
                other = db.execute("SELECT id FROM members WHERE phone = ?", [member.phone]).fetchone()
                if other is not None:
                    raise DuplicateMember(
                        f"the chain's member {member.id} has phone {member.phone}, which belongs to member "
                        f"{other[0]} on this kiosk; staff must merge them before the card can be used here")
                db["members"].insert(member_row(member))
                db["balances"].insert({"member_id": member.id, "points": balance_points, "earned_total": 0,
                                       "spent_rial": 0, "updated_at": now})
                if balance_points:
                    row = LedgerRow(event_id=event_id, member_id=member.id, kind=LedgerKind.ADJUST, points=balance_points,
                                    amount=0, reason=reason, receipt_id=None, staff_id=None,
                                    device_id=self.device_id, created_at=now)
                    db["ledger"].insert(asdict(row))
                    self._enqueue(db, LedgerKind.ADJUST, asdict(row), now, event_id=event_id)
                if credit_rial:
                    self._credit(db, member.id, "correction", credit_rial, event_id=new_event_id(), receipt_id=None,
                                 reason=reason, now=now)
            if db.execute("SELECT 1 FROM cards WHERE card_ref = ?", [card.card_ref]).fetchone():
                raise CardAlreadyBound(f"card {card.label} is already bound to a member")
            db["cards"].insert(asdict(card))
            return card

        return self.write(tx)

    def set_card_state(self, card_ref: str, state: str, *, staff_id: str | None = None) -> None:
        if state not in CARD_STATES:
            raise ValueError(f"card state {state!r} is not one of {', '.join(CARD_STATES)}")
        now = iso(self._clock())

        def tx(db: sqlite_utils.Database) -> None:
            cur = db.execute("UPDATE cards SET state = ? WHERE card_ref = ?", [state, card_ref])
            if cur.rowcount == 0:
                raise UnknownMember("no card with that reference")
            (member_id,) = db.execute("SELECT member_id FROM cards WHERE card_ref = ?", [card_ref]).fetchone()
            self._enqueue(db, "card_state", {"card_ref": card_ref, "member_id": member_id, "state": state,
                                             "staff_id": staff_id}, now)

        self.write(tx)

    def card(self, card_ref: str) -> Card | None:
        rows = self.query("SELECT * FROM cards WHERE card_ref = ?", (card_ref,))
        return Card(**dict(rows[0])) if rows else None

    def cards_of(self, member_id: str) -> list[Card]:
        return [Card(**dict(r)) for r in self.query("SELECT * FROM cards WHERE member_id = ? ORDER BY bound_at", (member_id,))]

    # --- the ledger --------------------------------------------------------------

    def record(
        self,
        member_id: str,
        kind: str,
        points: int,
        *,
        amount: int = 0,
        reason: str = "",
        receipt_id: str | None = None,
        staff_id: str | None = None,
        event_id: str | None = None,
        created_at: datetime | None = None,
    ) -> Recorded:
        """Append one ledger event and update the balance in the same transaction.

        Idempotent: an event id (or receipt id) seen before changes nothing and
        returns the original row with ``applied=False``. A debit larger than the
        balance raises :class:`InsufficientPoints` and writes nothing.
        """
        if kind not in LEDGER_KINDS:
            raise ValueError(f"ledger kind {kind!r} is not one of {', '.join(LEDGER_KINDS)}")
        if not isinstance(points, int) or not isinstance(amount, int):
            raise TypeError("points and amount are integers (rial, points); no floats in money")
        row = LedgerRow(
            event_id=event_id or new_event_id(),
            member_id=member_id,
            kind=kind,
            points=points,
            amount=amount,
            reason=reason,
            receipt_id=receipt_id,
            staff_id=staff_id,
            device_id=self.device_id,
            created_at=iso(created_at or self._clock()),
        )

        def tx(db: sqlite_utils.Database) -> Recorded:
            return self._known(db, row.event_id, receipt_id) or Recorded(row, True, self._append(db, row))

        return self.write(tx)

    def _known(self, db: sqlite_utils.Database, event_id: str, receipt_id: str | None) -> Recorded | None:
        """The ledger row already recorded under this event id (or receipt id), as a repeat; None if new."""
        existing = db.execute(
            "SELECT * FROM ledger WHERE event_id = ? OR (? IS NOT NULL AND receipt_id = ?)",
            [event_id, receipt_id, receipt_id],
        ).fetchone()
        if existing is None:
            return None
        cols = [d[0] for d in db.execute("SELECT * FROM ledger LIMIT 0").description]
        old = LedgerRow(**{k: v for k, v in zip(cols, existing) if k != "cloud_state"})
        bal = db.execute("SELECT points FROM balances WHERE member_id = ?", [old.member_id]).fetchone()[0]
        return Recorded(old, False, bal)

    def _append(self, db: sqlite_utils.Database, row: LedgerRow, wire: dict[str, Any] | None = None) -> int:
        """Insert a new ledger row, move the balance and queue it for the cloud (inside a write); the new balance.

        `wire` adds to the outbox payload only (a purchase's applied campaigns and cashback), not to the row."""
        bal_row = db.execute("SELECT points FROM balances WHERE member_id = ?", [row.member_id]).fetchone()
        if bal_row is None:
            raise UnknownMember(f"no member with id {row.member_id}")
        new_balance = bal_row[0] + row.points
        if new_balance < 0:
            raise InsufficientPoints(needed=-row.points, available=bal_row[0])
        db["ledger"].insert(asdict(row))
        db.execute(
            "UPDATE balances SET points = ?, earned_total = earned_total + ?, spent_rial = spent_rial + ?, "
            "updated_at = ? WHERE member_id = ?",
            [new_balance, max(row.points, 0) if row.kind in CREDIT_KINDS else 0,
             row.amount if row.kind == LedgerKind.EARN else 0, row.created_at, row.member_id],
        )
        self._enqueue(db, row.kind, {**asdict(row), **(wire or {})}, row.created_at, event_id=row.event_id)
        return new_balance

    def balance(self, member_id: str) -> Balance:
        rows = self.query("SELECT member_id, points, earned_total, spent_rial, credit_rial FROM balances "
                          "WHERE member_id = ?", (member_id,))
        if not rows:
            raise UnknownMember(f"no member with id {member_id}")
        return Balance(**dict(rows[0]))

    def history(self, member_id: str, limit: int | None = None) -> list[LedgerRow]:
        """Ledger rows of a member, newest first."""
        sql = f"SELECT {LEDGER_COLUMNS} FROM ledger WHERE member_id = ? ORDER BY created_at DESC, rowid DESC"
        params: tuple = (member_id,)
        if limit is not None:
            sql += " LIMIT ?"
            params = (member_id, limit)
        return [LedgerRow(*r) for r in self.query(sql, params)]

    def history_since(self, member_id: str, since: datetime) -> list[LedgerRow]:
        """Ledger rows of a member created at or after ``since``, oldest first (for rolling windows)."""
        rows = self.query(
            "SELECT * FROM ledger WHERE member_id = ? AND created_at >= ? ORDER BY created_at, rowid",
            (member_id, iso(since)),
        )
        return [LedgerRow(**{k: r[k] for k in r.keys() if k != "cloud_state"}) for r in rows]

    def verify(self) -> list[tuple[str, int, int]]:
        """Recompute every balance from the ledger; return (member, stored, recomputed) mismatches."""
        rows = self.query(
            """
            SELECT m.id AS member_id, COALESCE(b.points, -1) AS stored, COALESCE(SUM(l.points), 0) AS derived
            FROM members m
            LEFT JOIN balances b ON b.member_id = m.id
            LEFT JOIN ledger l ON l.member_id = m.id
            GROUP BY m.id
            HAVING stored != derived
            """
        )
        credit = self.query(
            """
            SELECT b.member_id AS member_id, b.credit_rial AS stored, COALESCE(SUM(c.amount_rial), 0) AS derived
            FROM balances b LEFT JOIN credit_ledger c ON c.member_id = b.member_id
            GROUP BY b.member_id
            HAVING stored != derived
            """
        )
        return ([(r["member_id"], r["stored"], r["derived"]) for r in rows]
                + [(f"{r['member_id']} (purchase credit, rial)", r["stored"], r["derived"]) for r in credit])

    def counts(self) -> dict[str, int]:
        return {
            table: self.query(f"SELECT COUNT(*) FROM {table}")[0][0]
            for table in ("members", "cards", "ledger", "outbox")
        }

    def ledger_by_receipt(self, receipt_id: str) -> LedgerRow | None:
        rows = self.query("SELECT * FROM ledger WHERE receipt_id = ?", (receipt_id,))
        return LedgerRow(**{k: rows[0][k] for k in rows[0].keys() if k != "cloud_state"}) if rows else None

    def members_enrolled_since(self, since: datetime) -> int:
        return self.query("SELECT COUNT(*) FROM members WHERE created_at >= ?", (iso(since),))[0][0]


def _statements(sql: str) -> Iterator[str]:
    """Split a migration script; triggers contain ';' so split on complete statements."""
    buf = ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                yield buf.strip()
            buf = ""
    if buf.strip():
        yield buf.strip()
