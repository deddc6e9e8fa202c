"""The message tables (defined with the cloud's others in cloud/db/schema.py, created by its Alembic revision
0003) under the short names the message modules use, the queue's states, and an insert that skips
duplicates.

Times are ISO 8601 UTC strings of fixed width (kiosk.protocol.format_time), as in the rest of the cloud's
database, so they compare as text in SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cloud.db.schema import message_consent_log as consent_log
from cloud.db.schema import message_contacts as contacts
from cloud.db.schema import message_gateways as gateway_state
from cloud.db.schema import message_inbound as inbound
from cloud.db.schema import message_links as links
from cloud.db.schema import messages

__all__ = ["consent_log", "contacts", "gateway_state", "inbound", "links", "messages", "insert_ignoring_duplicates"]

# Queue states; "sending" marks a batch handed to the gateway, resent with the same reference if the drain
# crashed (Kavenegar's localid makes that resend a no-op at the provider). "unconfirmed": sent, but the
# provider never reported delivery within the settings' delivery_report_hours (never resent).
QUEUED, SENDING, SENT, DELIVERED, FAILED, UNCONFIRMED = "queued", "sending", "sent", "delivered", "failed", "unconfirmed"
STATES = (QUEUED, SENDING, SENT, DELIVERED, FAILED, UNCONFIRMED)


def insert_ignoring_duplicates(conn: Connection, table: sa.Table, rows: list[dict], key: str) -> int:
    """Insert rows, skipping any whose unique `key` is taken; how many were new."""
    if not rows:
        return 0
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    # RETURNING counts the new rows on both dialects (psycopg's executemany rowcount is -1).
    statement = insert(table).on_conflict_do_nothing(index_elements=[key]).returning(*table.primary_key.columns)
    return len(conn.execute(statement, rows).all())
