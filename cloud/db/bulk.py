"""Writing many rows at once: PostgreSQL's COPY where it is available, executemany elsewhere.

An analytics run replaces a row per member; at a million members a multi-row INSERT spends most of its
time building statements, while COPY streams the rows. The rows go through the caller's connection,
so they are part of its transaction (all or nothing, like every other write).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Table

CHUNK = 10_000


def insert_rows(conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert `rows` (tuples in `columns` order) into `table` inside `conn`'s transaction; returns the count."""
    if conn.dialect.name == "postgresql":
        return _copy(conn, table, columns, rows)
    count, chunk = 0, []
    for row in rows:
        chunk.append(dict(zip(columns, row)))
        if len(chunk) == CHUNK:
            conn.execute(table.insert(), chunk)
            count, chunk = count + len(chunk), []
    if chunk:
        conn.execute(table.insert(), chunk)
        count += len(chunk)
    return count


def _copy(conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    names = ", ".join(f'"{table.c[name].name}"' for name in columns)
    count = 0
    raw = conn.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count
