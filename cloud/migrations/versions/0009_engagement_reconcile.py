"""Engagement after the fact (issue 14): reversals sent down to kiosks, a budget's time zone, plays earned by buying.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "engagement_reversals",
        sa.Column("ref", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("device_id", sa.Text, nullable=False),
        sa.Column("member_id", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("settled_at", sa.Text),
    )
    op.create_index("ix_engagement_reversals_device", "engagement_reversals", ["device_id", "settled_at"])
    with op.batch_alter_table("budgets") as batch:
        batch.add_column(sa.Column("time_zone", sa.Text, nullable=False, server_default="Asia/Tehran"))
    with op.batch_alter_table("games") as batch:
        batch.add_column(sa.Column("earn_over_rial", sa.BigInteger))


def downgrade() -> None:
    with op.batch_alter_table("games") as batch:
        batch.drop_column("earn_over_rial")
    with op.batch_alter_table("budgets") as batch:
        batch.drop_column("time_zone")
    op.drop_index("ix_engagement_reversals_device", "engagement_reversals")
    op.drop_table("engagement_reversals")
