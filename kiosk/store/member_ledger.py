"""A member's ledger kept between reads, so a long ledger is not read back and converted at every tap and quote
(benchmarks/till.py: reading and converting 2,000 rows was most of a quote, and their garbage its slow tail).

Never a time-based cache (a stale balance at the till is money): every read asks the database, in the member's
own row read, how many ledger rows the member has and the largest rowid among them, and uses what is kept only
when it adds up to exactly that. The ledger is append-only (its triggers refuse UPDATE and DELETE) and SQLite
has one writer at a time, so the member's rows written since are those with a larger rowid: one small read
adds them. Anything else (a row dated before the newest kept one, a count that does not add up) reads the
whole ledger again. Other processes' writes (kioskctl) are seen the same way.
"""
from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, fields

from kiosk.rules.ledger import UniqueEntries
from kiosk.store.records import LedgerRow

# What the member's own row read adds (see Store.member_snapshot): the figures the kept ledger must match.
LEDGER_MARK_SQL = ("(SELECT COUNT(*) FROM ledger l WHERE l.member_id = m.id) AS l_rows, "
                   "(SELECT COALESCE(MAX(l.rowid), 0) FROM ledger l WHERE l.member_id = m.id) AS l_last")
_COLUMNS = ", ".join(f.name for f in fields(LedgerRow))
_ALL = f"SELECT rowid, {_COLUMNS} FROM ledger WHERE member_id = ? ORDER BY created_at DESC, rowid DESC"
_SINCE = (f"SELECT rowid, {_COLUMNS} FROM ledger WHERE member_id = ? AND rowid > ? "
          "ORDER BY created_at DESC, rowid DESC")
# Rows kept over all members: a few MB on a Pi, and a busy day's members with ordinary ledgers all fit.
KEPT_ROWS = 20_000

Query = Callable[[str, tuple], list[sqlite3.Row]]


@dataclass(frozen=True)
class KeptLedger:
    rows: int
    last_rowid: int
    history: tuple[LedgerRow, ...]  # newest first, as Store.history
    entries: UniqueEntries  # the same rows as the rules' entries (event ids are the ledger's primary key)


class MemberLedgers:
    """The last ledgers read, least recently used dropped first beyond KEPT_ROWS rows; safe across threads."""

    def __init__(self, kept_rows: int = KEPT_ROWS) -> None:
        self._kept: OrderedDict[str, KeptLedger] = OrderedDict()
        self._rows = 0
        self._limit = kept_rows
        self._lock = threading.Lock()

    def read(self, query: Query, member_id: str, rows: int, last_rowid: int) -> KeptLedger:
        """The member's ledger as the database has it now: `rows` and `last_rowid` are what the member's row
        read found (LEDGER_MARK_SQL)."""
        with self._lock:
            kept = self._kept.get(member_id)
        if kept is not None and (kept.rows, kept.last_rowid) == (rows, last_rowid):
            self._keep(member_id, kept)
            return kept
        if kept is not None and kept.rows < rows and kept.last_rowid < last_rowid:
            grown = _grown(kept, query(_SINCE, (member_id, kept.last_rowid)), rows, last_rowid)
            if grown is not None:
                self._keep(member_id, grown)
                return grown
        found = query(_ALL, (member_id,))
        history = tuple(LedgerRow(*r[1:]) for r in found)
        fresh = KeptLedger(len(history), max((r[0] for r in found), default=0), history,
                           UniqueEntries(r.entry() for r in history))
        self._keep(member_id, fresh)
        return fresh

    def _keep(self, member_id: str, kept: KeptLedger) -> None:
        with self._lock:
            old = self._kept.pop(member_id, None)
            self._rows -= old.rows if old is not None else 0
            if kept.rows > self._limit:
                return  # a ledger this long is read whole each time rather than pushing every other one out
            self._kept[member_id] = kept
            self._rows += kept.rows
            while self._rows > self._limit:
                _, dropped = self._kept.popitem(last=False)
                self._rows -= dropped.rows


def _grown(kept: KeptLedger, found: list[sqlite3.Row], rows: int, last_rowid: int) -> KeptLedger | None:
    """`kept` with the rows written since, when they are exactly what the database counted and all newer than
    the newest kept row (they go on top); None when the whole ledger must be read again."""
    if not found or kept.rows + len(found) != rows or max(r[0] for r in found) != last_rowid:
        return None
    new = tuple(LedgerRow(*r[1:]) for r in found)
    if kept.history and new[-1].created_at < kept.history[0].created_at:
        return None  # dated before a kept row (an import, a clock set back): its place is not on top
    return KeptLedger(rows, last_rowid, (*new, *kept.history), UniqueEntries((*(r.entry() for r in new), *kept.entries)))
