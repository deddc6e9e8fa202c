"""Rows per table for the status pages (the console's overview, GET /v1/status), cheap at a chain's size.

count(*) reads every row: at 20,000,000 ledger events that is seconds at each load of the overview. A table that
PostgreSQL itself estimates (pg_class.reltuples, which autovacuum and ANALYZE keep) at `exact_below` rows or more
is given as that estimate, rounded to three significant digits (it is a guess: 20,000,980 for 20,000,000 rows
would claim a precision it has not), and named in `estimated`, so the page can mark it; smaller tables, and
every table on SQLite (a pilot's size), are counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Table, func, select, text

from cloud.db import Database

EXACT_BELOW = 100_000
SIGNIFICANT_DIGITS = 3


@dataclass(frozen=True)
class Counts:
    rows: dict[str, int]
    estimated: frozenset[str]

    def __getitem__(self, name: str) -> int:
        return self.rows[name]


def rounded(estimate: float, digits: int = SIGNIFICANT_DIGITS) -> int:
    """An estimate to `digits` significant digits: 20_000_980 -> 20_000_000, 123_456 -> 123_000."""
    whole = int(round(estimate))
    return round(whole, digits - len(str(whole))) if whole else 0


def table_counts(db: Database, tables: Sequence[Table], exact_below: int = EXACT_BELOW) -> Counts:
    rows, estimated = {}, set()
    with db.read() as conn:
        # Each name resolved as the queries resolve it (the search path), not in a schema named here.
        guesses = dict(conn.execute(text(
            "SELECT name, reltuples FROM unnest(CAST(:names AS text[])) AS name "
            "JOIN pg_class ON pg_class.oid = to_regclass(name)"), {"names": [t.name for t in tables]}).all()
        ) if db.dialect == "postgresql" else {}
        for table in tables:
            # -1: never vacuumed nor analysed, no estimate yet.
            guess = guesses.get(table.name, -1)
            if guess >= exact_below:
                rows[table.name] = rounded(guess)
                estimated.add(table.name)
            else:
                rows[table.name] = conn.execute(select(func.count()).select_from(table)).scalar_one()
    return Counts(rows, frozenset(estimated))
