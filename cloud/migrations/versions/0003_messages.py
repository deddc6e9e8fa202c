"""Messages to members: contacts, the message queue, gateway state, consent log, inbound texts, status links.

Until this revision the message tables lived only in a SQLite file beside the cloud's (created by
metadata.create_all); now they are part of the cloud database on either engine.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Serial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "message_contacts",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("phone_e164", sa.String(20), nullable=False),
        sa.Column("first_name", sa.String(100), nullable=False, server_default=""),
        sa.Column("language", sa.String(16)),
        sa.Column("calendar", sa.String(10)),
        sa.Column("birth_g_month", sa.SmallInteger), sa.Column("birth_g_day", sa.SmallInteger),
        sa.Column("birth_j_month", sa.SmallInteger), sa.Column("birth_j_day", sa.SmallInteger),
        sa.Column("enrolled_at", sa.String(32)),
        sa.Column("marketing_consent", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("consent_changed_at", sa.String(32)),
        sa.Column("source", sa.String(10), nullable=False, server_default="kiosk"),
        sa.Column("branch", sa.String(64)),
    )
    op.create_index("ix_message_contacts_phone_e164", "message_contacts", ["phone_e164"], unique=True)
    op.create_index("ix_message_contacts_birth_g", "message_contacts", ["birth_g_month", "birth_g_day"])
    op.create_index("ix_message_contacts_birth_j", "message_contacts", ["birth_j_month", "birth_j_day"])
    op.create_table(
        "messages",
        sa.Column("message_id", Serial, primary_key=True, autoincrement=True),
        sa.Column("member_id", sa.String(64)),
        sa.Column("phone_e164", sa.String(20), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("dedupe_key", sa.String(64)),
        sa.Column("state", sa.String(12), nullable=False, server_default="queued"),
        sa.Column("reason", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("segments", sa.Integer, nullable=False, server_default="1"),
        sa.Column("not_before", sa.String(32), nullable=False),
        sa.Column("time_zone", sa.String(64)),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("claimed_at", sa.String(32)),
        sa.Column("sent_at", sa.String(32)),
        sa.Column("done_at", sa.String(32)),
        sa.Column("gateway", sa.String(32)),
        sa.Column("provider_id", sa.String(64)),
        sa.UniqueConstraint("dedupe_key", name="uq_messages_dedupe_key"),
    )
    op.create_index("ix_messages_member_id", "messages", ["member_id"])
    op.create_index("ix_messages_provider_id", "messages", ["provider_id"])
    op.create_index("ix_messages_due", "messages", ["state", "not_before", "message_id"])
    op.create_table(
        "message_gateways",
        sa.Column("gateway", sa.String(32), primary_key=True),
        sa.Column("paused_until", sa.String(32)),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("last_slot", sa.String(32)),
    )
    op.create_table(
        "message_consent_log",
        sa.Column("entry_id", Serial, primary_key=True, autoincrement=True),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("phone_e164", sa.String(20), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
    )
    op.create_index("ix_message_consent_log_member_id", "message_consent_log", ["member_id"])
    op.create_table(
        "message_inbound",
        sa.Column("inbound_id", Serial, primary_key=True, autoincrement=True),
        sa.Column("provider_id", sa.String(64)),
        sa.Column("phone_e164", sa.String(20), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("received_at", sa.String(32), nullable=False),
        sa.UniqueConstraint("provider_id", name="uq_message_inbound_provider_id"),
    )
    op.create_table(
        "message_links",
        sa.Column("code", sa.String(16), primary_key=True),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_message_links_member_id", "message_links", ["member_id"])


def downgrade() -> None:
    for table in ("message_links", "message_inbound", "message_consent_log", "message_gateways", "messages",
                  "message_contacts"):
        op.drop_table(table)
