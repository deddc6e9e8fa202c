"""Each device's latest heartbeat for the fleet page: software version, outbox backlog, readers (issue 12).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "device_health",
        sa.Column("device_id", sa.Text, primary_key=True),
        sa.Column("reported_at", sa.Text, nullable=False),
        sa.Column("software_version", sa.Text, nullable=False),
        sa.Column("outbox_count", sa.BigInteger, nullable=False),
        sa.Column("outbox_oldest_at", sa.Text),
        sa.Column("readers", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("device_health")
