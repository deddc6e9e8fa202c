"""What the campaign results and weekly reports count: the campaigns applied to each purchase, the cashback it
gave, and an index that keeps a report's weeks a range read of the ledger (cloud/reports.py).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_campaigns",
        sa.Column("event_id", sa.Text, primary_key=True),
        sa.Column("campaign_id", sa.Text, primary_key=True),
        sa.Column("branch", sa.Text, nullable=False),
        sa.Column("member_id", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("points", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_event_campaigns_campaign", "event_campaigns", ["campaign_id", "branch"])
    op.create_table(
        "cashback_entries",
        sa.Column("event_id", sa.Text, primary_key=True),
        sa.Column("branch", sa.Text, nullable=False),
        sa.Column("member_id", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_cashback_entries_branch_created_at", "cashback_entries", ["branch", "created_at"])
    op.create_index("ix_events_branch_created_at", "events", ["branch", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_events_branch_created_at", "events")
    op.drop_table("cashback_entries")
    op.drop_table("event_campaigns")
