"""Opening the cloud's database: a SQLite file (embedded default) or a PostgreSQL URL.

`Database` holds nothing but the SQLAlchemy engine (a connection pool): every fact lives in the
database, so any number of cloud processes can serve the same PostgreSQL at once.

- `read()` yields a connection for reading. On SQLite it is a transaction rolled back at the end (one snapshot
  for all its statements). On PostgreSQL each statement runs on its own (autocommit): under the default READ
  COMMITTED every statement of a transaction takes its own snapshot anyway, so a read transaction would only
  add a BEGIN and a ROLLBACK round trip to each read, two of a tap's look-up's four.
- `write()` yields a connection inside a transaction committed at the end (rolled back on any
  exception): a batch is applied all or nothing. On SQLite a write takes the lock at BEGIN
  (`BEGIN IMMEDIATE`), so two writers never interleave and none fails half-way on a busy lock.
- `insert(table)` is the dialect's INSERT with `on_conflict_do_nothing/do_update`, which both
  engines support with the same API.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event, text
from sqlalchemy.pool import NullPool
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from cloud.errors import CloudError

DATABASE_ENV = "KIOSK_CLOUD_DATABASE"


class DatabaseUnavailable(CloudError):
    """The database cannot be reached (or went away mid-request); nothing was written."""


def database_url(database: str | os.PathLike[str]) -> str:
    """A SQLAlchemy URL for a PostgreSQL URL or a SQLite file path (`postgres://` accepted too)."""
    text = os.fspath(database)
    if text.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + text.split("://", 1)[1]
    if text.startswith(("postgresql+psycopg://", "sqlite://")):
        return text
    if "://" in text or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:/", text):
        # Also "postgresql:/host/db", a URL whose "//" a path library folded: never a file to create.
        raise CloudError(f"unsupported database {text!r}: give a SQLite file path or a postgresql:// URL")
    return f"sqlite:///{Path(text).resolve()}"


class Database:
    def __init__(self, database: str | os.PathLike[str], *, pool_size: int = 8) -> None:
        url = make_url(database_url(database))
        self.url = url
        if url.get_backend_name() == "sqlite":
            self.path: Path | None = Path(url.database or "")
            _create_private_file(self.path)
            # No pool on a file: a connection per transaction (cheap for SQLite), so a store nobody closed
            # (a CLI run, a test, the message jobs beside it) holds no file open between transactions.
            self.engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                                        poolclass=NullPool)
            _sqlite_transactions(self.engine)
        else:
            self.path = None
            # No pre-ping: it costs every transaction a round trip (a kiosk's look-up is a few of them). A pooled
            # connection PostgreSQL closed (restart, failover) fails its request with DatabaseUnavailable (503,
            # the kiosk resends) and SQLAlchemy then discards every connection of the pool made before it.
            self.engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)})"

    @contextmanager
    def read(self, settings: Mapping[str, str] | None = None) -> Iterator[Connection]:
        """`settings`: PostgreSQL server settings for this read only (a batch job's memory), put back to the
        server's own when it ends, so the pooled connection serves the next request as configured. SQLite has
        none to set."""
        with self._connection() as conn:
            if self.dialect != "postgresql":
                yield conn
                return
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            for name, value in (settings or {}).items():
                conn.execute(text("SELECT set_config(:name, :value, false)"), {"name": name, "value": value})
            try:
                yield conn
            finally:
                for name in settings or {}:
                    conn.execute(text("SELECT set_config(name, reset_val, false) FROM pg_settings WHERE name = :name"),
                                 {"name": name})

    def ping(self) -> None:
        """Reach the database (DatabaseUnavailable when it cannot be), reading no table."""
        with self.read() as conn:
            conn.execute(text("SELECT 1")).scalar_one()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self._connection() as conn:
            conn = conn.execution_options(cloud_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """A pooled connection; a database that cannot be reached, or is lost mid-way, is DatabaseUnavailable."""
        try:
            conn = self.engine.connect()
        except DBAPIError as exc:
            raise DatabaseUnavailable(f"cannot reach the database {self}: {exc.orig}") from exc
        try:
            yield conn
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise DatabaseUnavailable(f"lost the database {self} mid-transaction: {exc.orig}") from exc
            raise
        finally:
            conn.close()

    def insert(self, table: Table) -> Any:
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

    def close(self) -> None:
        self.engine.dispose()


def _create_private_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # The database holds device keys and password hashes: nobody but the service user may read it.
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def _sqlite_transactions(engine: Engine) -> None:
    """Let SQLAlchemy, not the sqlite3 module, decide where transactions begin (DDL included)."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("cloud_write") else "BEGIN")
