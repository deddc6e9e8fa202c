"""The message tables, on one SQLAlchemy MetaData the cloud's Alembic migration can include.

Times are ISO 8601 UTC strings of fixed width (kiosk.protocol.format_time), as in the rest of the cloud's
database, so they compare as text in SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

metadata = sa.MetaData()

# Queue states; "sending" marks a batch handed to the gateway, resent with the same reference if the drain
# crashed (Kavenegar's localid makes that resend a no-op at the provider).
QUEUED, SENDING, SENT, DELIVERED, FAILED = "queued", "sending", "sent", "delivered", "failed"
STATES = (QUEUED, SENDING, SENT, DELIVERED, FAILED)

contacts = sa.Table(
    "message_contacts", metadata,
    sa.Column("member_id", sa.String(64), primary_key=True),
    sa.Column("phone_e164", sa.String(20), nullable=False, index=True, unique=True),
    sa.Column("first_name", sa.String(100), nullable=False, server_default=""),
    sa.Column("language", sa.String(16)),
    sa.Column("calendar", sa.String(10)),  # None: the chain's calendar
    sa.Column("birth_g_month", sa.SmallInteger), sa.Column("birth_g_day", sa.SmallInteger),
    sa.Column("birth_j_month", sa.SmallInteger), sa.Column("birth_j_day", sa.SmallInteger),
    sa.Column("enrolled_at", sa.String(32)),
    sa.Column("marketing_consent", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("consent_changed_at", sa.String(32)),
    sa.Column("source", sa.String(10), nullable=False, server_default="kiosk"),  # kiosk | sms (join keyword)
    sa.Column("branch", sa.String(64)),
    sa.Index("ix_message_contacts_birth_g", "birth_g_month", "birth_g_day"),
    sa.Index("ix_message_contacts_birth_j", "birth_j_month", "birth_j_day"),
)

messages = sa.Table(
    "messages", metadata,
    sa.Column("message_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("member_id", sa.String(64), index=True),
    sa.Column("phone_e164", sa.String(20), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("category", sa.String(16), nullable=False),
    sa.Column("dedupe_key", sa.String(64), unique=True),
    sa.Column("state", sa.String(10), nullable=False, server_default=QUEUED),
    sa.Column("reason", sa.Text),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("segments", sa.Integer, nullable=False, server_default="1"),
    sa.Column("not_before", sa.String(32), nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("claimed_at", sa.String(32)),  # when a drain took it (state sending)
    sa.Column("sent_at", sa.String(32)),
    sa.Column("done_at", sa.String(32)),
    sa.Column("gateway", sa.String(32)),
    sa.Column("provider_id", sa.String(64), index=True),
    sa.Index("ix_messages_due", "state", "not_before", "message_id"),
)

gateway_state = sa.Table(
    "message_gateways", metadata,
    sa.Column("gateway", sa.String(32), primary_key=True),
    sa.Column("paused_until", sa.String(32)),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
)

consent_log = sa.Table(
    "message_consent_log", metadata,
    sa.Column("entry_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("member_id", sa.String(64), nullable=False, index=True),
    sa.Column("phone_e164", sa.String(20), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),  # opted_out | joined
    sa.Column("via", sa.String(16), nullable=False),
    sa.Column("at", sa.String(32), nullable=False),
)

inbound = sa.Table(
    "message_inbound", metadata,
    sa.Column("inbound_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("provider_id", sa.String(64), unique=True),  # a provider retrying its callback is one message
    sa.Column("phone_e164", sa.String(20), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("received_at", sa.String(32), nullable=False),
)


def create_tables(engine: Engine) -> None:
    """Create the message tables if missing (until the cloud's Alembic migration owns them)."""
    metadata.create_all(engine)


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


links = sa.Table(
    "message_links", metadata,
    sa.Column("code", sa.String(16), primary_key=True),
    sa.Column("member_id", sa.String(64), nullable=False, index=True),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("expires_at", sa.String(32), nullable=False),
)
