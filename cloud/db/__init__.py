"""The cloud's data layer: one module per job, shared by every part of cloud/ (and by #13's SMS work).

- `cloud.db.schema`: the tables (SQLAlchemy Core), what queries are written against.
- `cloud.db.engine`: `Database(path_or_url)`, `read()`/`write()` transactions, `insert()` with upserts.
- `cloud.db.migrate`: Alembic migrations to the newest revision, safe to run from many processes at once.

A new feature adds its tables to schema.py and a new revision under cloud/migrations/versions/
(tests/cloud/test_cloud_db.py fails until both agree).
"""

from cloud.db.engine import DATABASE_ENV, Database, DatabaseUnavailable, database_url
from cloud.db.migrate import current_revision, head_revision, migrate

__all__ = ["DATABASE_ENV", "Database", "DatabaseUnavailable", "current_revision", "database_url",
           "head_revision", "migrate"]
