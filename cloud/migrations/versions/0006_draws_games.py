"""Draws with a committed seed, instant-win games, budgets and the grants leased to kiosks (issue 14).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "draws",
        sa.Column("draw_id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("names", sa.Text, nullable=False, server_default="{}"),
        sa.Column("prizes", sa.Text, nullable=False),
        sa.Column("price_points", sa.Integer, nullable=False),
        sa.Column("free_per_purchase", sa.Integer, nullable=False, server_default="0"),
        sa.Column("free_per_survey", sa.Integer, nullable=False, server_default="0"),
        sa.Column("starts_at", sa.Text, nullable=False),
        sa.Column("ends_at", sa.Text, nullable=False),
        sa.Column("seed", sa.Text, nullable=False),
        sa.Column("seed_hash", sa.Text, nullable=False),
        sa.Column("run_at", sa.Text),
        sa.Column("winners", sa.Text),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
    )
    op.create_table(
        "budgets",
        sa.Column("budget_id", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("daily_limit", sa.Integer),
        sa.Column("total_limit", sa.Integer),
        sa.Column("per_kiosk", sa.Integer, nullable=False),
        sa.Column("lease_minutes", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
    )
    op.create_table(
        "budget_grants",
        sa.Column("grant_id", sa.Text, primary_key=True),
        sa.Column("budget_id", sa.Text, nullable=False),
        sa.Column("device_id", sa.Text, nullable=False),
        sa.Column("units", sa.Integer, nullable=False),
        sa.Column("used", sa.Integer, nullable=False, server_default="0"),
        sa.Column("day", sa.Text, nullable=False),
        sa.Column("granted_at", sa.Text, nullable=False),
        sa.Column("expires_at", sa.Text, nullable=False),
        sa.Column("closed_at", sa.Text),
    )
    op.create_index("ix_budget_grants_budget_day", "budget_grants", ["budget_id", "day"])
    op.create_index("ix_budget_grants_device", "budget_grants", ["device_id"])
    op.create_table(
        "games",
        sa.Column("game_id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("names", sa.Text, nullable=False, server_default="{}"),
        sa.Column("cost_points", sa.Integer, nullable=False),
        sa.Column("odds", sa.Text, nullable=False),
        sa.Column("budget_id", sa.Text, nullable=False),
        sa.Column("active", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("games", "budget_grants", "budgets", "draws"):
        op.drop_table(table)
