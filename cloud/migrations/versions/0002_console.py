"""The console: shared settings, users with roles, the audit log, the last segment run.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Serial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "settings",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("user_id", Serial, primary_key=True, autoincrement=True),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("branches", sa.Text, nullable=False, server_default=""),
        sa.Column("disabled", sa.Integer, nullable=False, server_default="0"),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", sa.Text),
        sa.Column("session_epoch", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "audit_log",
        sa.Column("audit_id", Serial, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("before", sa.Text),
        sa.Column("after", sa.Text),
    )
    op.create_table(
        "member_segments",
        sa.Column("member_id", sa.Text, primary_key=True),
        sa.Column("recency_days", sa.Integer),
        sa.Column("frequency", sa.Integer, nullable=False),
        sa.Column("monetary", sa.BigInteger, nullable=False),
        sa.Column("r_score", sa.Integer, nullable=False),
        sa.Column("f_score", sa.Integer, nullable=False),
        sa.Column("m_score", sa.Integer, nullable=False),
        sa.Column("segment", sa.Text, nullable=False),
        sa.Column("value_class", sa.Text, nullable=False),
        sa.Column("computed_at", sa.Text, nullable=False),
    )
    op.create_index("ix_member_segments_segment", "member_segments", ["segment"])


def downgrade() -> None:
    for table in ("member_segments", "audit_log", "users", "settings"):
        op.drop_table(table)
