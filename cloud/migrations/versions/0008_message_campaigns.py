"""Campaign sends composed in the console, kept until the jobs runner queues them when due (issue 13).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_campaigns",
        sa.Column("campaign_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("audience", sa.Text, nullable=False),
        sa.Column("texts", sa.Text, nullable=False),
        sa.Column("send_at", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("queued", sa.Integer),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("queued_at", sa.Text),
    )
    op.create_index("ix_message_campaigns_due", "message_campaigns", ["state", "send_at"])


def downgrade() -> None:
    op.drop_table("message_campaigns")
