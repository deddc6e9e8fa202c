"""Coupons and purchase credit across branches: the chain's coupons with their one use, and credit balances.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "coupons",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("member_id", sa.Text, nullable=False),
        sa.Column("reward_id", sa.Text, nullable=False),
        sa.Column("device_id", sa.Text, nullable=False),
        sa.Column("branch", sa.Text, nullable=False),
        sa.Column("issued_at", sa.Text, nullable=False),
        sa.Column("used_at", sa.Text),
        sa.Column("used_device", sa.Text),
        sa.Column("used_branch", sa.Text),
        sa.Column("used_key", sa.Text),
    )
    op.create_index("ix_coupons_member_id", "coupons", ["member_id"])
    op.create_table(
        "credit_balances",
        sa.Column("member_id", sa.Text, primary_key=True),
        sa.Column("credit_rial", sa.BigInteger, nullable=False),
        sa.Column("moves", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("credit_balances")
    op.drop_table("coupons")
