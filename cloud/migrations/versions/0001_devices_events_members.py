"""The device protocol's tables: tokens, devices, events, members, cards, balances, configs, OTP, SMS outbox.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Serial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "tokens",
        sa.Column("token_hash", sa.Text, primary_key=True),
        sa.Column("branch", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("expires_at", sa.Text, nullable=False),
        sa.Column("used_at", sa.Text),
        sa.Column("device_id", sa.Text),
    )
    op.create_table(
        "devices",
        sa.Column("device_id", sa.Text, primary_key=True),
        sa.Column("branch", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("registered_at", sa.Text, nullable=False),
        sa.Column("last_seen_at", sa.Text),
        sa.Column("events_count", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "events",
        sa.Column("seq", Serial, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.Text, nullable=False),
        sa.Column("device_id", sa.Text, nullable=False),
        sa.Column("branch", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("member_id", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("received_at", sa.Text, nullable=False),
        sa.Column("points", sa.BigInteger, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("digest", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.UniqueConstraint("event_id", name="uq_events_event_id"),
    )
    op.create_index("ix_events_member_id", "events", ["member_id"])
    op.create_index("ix_events_device_id", "events", ["device_id"])
    op.create_table(
        "members",
        sa.Column("member_id", sa.Text, primary_key=True),
        sa.Column("phone_e164", sa.Text),
        sa.Column("name", sa.Text),
        sa.Column("name_folded", sa.Text, nullable=False, server_default=""),
        sa.Column("enrolled_at", sa.Text),
        sa.Column("device_id", sa.Text),
        sa.Column("branch", sa.Text),
    )
    op.create_index("ix_members_phone_e164", "members", ["phone_e164"])
    op.create_index("ix_members_branch", "members", ["branch"])
    op.create_table(
        "cards",
        sa.Column("card_ref", sa.Text, primary_key=True),
        sa.Column("member_id", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("changed_at", sa.Text, nullable=False),
    )
    op.create_index("ix_cards_member_id", "cards", ["member_id"])
    op.create_table(
        "balances",
        sa.Column("member_id", sa.Text, primary_key=True),
        sa.Column("points", sa.BigInteger, nullable=False),
        sa.Column("events", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "configs",
        sa.Column("branch", sa.Text, primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("etag", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
    )
    op.create_table(
        "otp_codes",
        sa.Column("code_id", Serial, primary_key=True, autoincrement=True),
        sa.Column("device_id", sa.Text, nullable=False),
        sa.Column("phone", sa.Text, nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("salt", sa.Text, nullable=False),
        sa.Column("code_hash", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("expires_at", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("state", sa.Text, nullable=False, server_default="pending"),
    )
    op.create_index("ix_otp_codes_phone_created_at", "otp_codes", ["phone", "created_at"])
    op.create_table(
        "sms_outbox",
        sa.Column("message_id", Serial, primary_key=True, autoincrement=True),
        sa.Column("phone", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("sent_at", sa.Text),
    )


def downgrade() -> None:
    for table in ("sms_outbox", "otp_codes", "configs", "balances", "cards", "members", "events", "devices",
                  "tokens"):
        op.drop_table(table)
