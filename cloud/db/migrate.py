"""Bring a database to the newest schema with Alembic (revisions in cloud/migrations/versions/).

Runs in one write transaction (PostgreSQL and SQLite both have transactional DDL): a migration
that fails leaves the schema as it was. On PostgreSQL an advisory lock makes concurrent starts of
several cloud processes wait for each other; on SQLite `BEGIN IMMEDIATE` does the same. Running it
on an up-to-date database changes nothing.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from cloud.db.engine import Database
from cloud.errors import CloudError

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_LOCK_KEY = 0x6B696F736B  # "kiosk": any fixed 64-bit number unique to this application


def _config(conn: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if conn is not None:
        config.attributes["connection"] = conn
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    with db.read() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(db: Database, revision: str = "head") -> str | None:
    """Upgrade to `revision`; returns the revision the database was at before."""
    with db.write() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        before = MigrationContext.configure(conn).get_current_revision()
        if before is None and inspect(conn).has_table("schema_version"):
            raise CloudError(
                f"{db} was made by the cloud before migrations (it has a schema_version table);"
                " start from a new database file and re-register the kiosks"
            )
        command.upgrade(_config(conn), revision)
    return before
