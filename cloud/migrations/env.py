"""Alembic environment: migrations always run on the connection cloud.db.migrate hands over."""

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("run migrations with `kiosk-cloud migrate` (cloud.db.migrate), not the alembic command")
context.configure(connection=connection, target_metadata=None, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
