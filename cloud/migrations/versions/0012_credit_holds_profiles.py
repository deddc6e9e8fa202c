"""A till's hold on a member's chain credit before it commits, so two branches cannot both spend the last of it;
the member's birthday and language, edited at any kiosk, for the next branch that imports the member; and a
coupon's later uses by other tills (used offline at its own kiosk meanwhile), for the console.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("credit_balances") as batch:
        batch.add_column(sa.Column("held_rial", sa.BigInteger, nullable=False, server_default="0"))
    op.create_table(
        "credit_holds",
        sa.Column("device_id", sa.Text, primary_key=True),
        sa.Column("use_key", sa.Text, primary_key=True),
        sa.Column("member_id", sa.Text, nullable=False),
        sa.Column("amount_rial", sa.BigInteger, nullable=False),
        sa.Column("branch", sa.Text, nullable=False),
        sa.Column("held_at", sa.Text, nullable=False),
        sa.Column("expires_at", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
    )
    op.create_index("ix_credit_holds_member_state", "credit_holds", ["member_id", "state"])
    op.create_table(
        "coupon_conflicts",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("device_id", sa.Text, primary_key=True),
        sa.Column("use_key", sa.Text, primary_key=True),
        sa.Column("branch", sa.Text, nullable=False),
        sa.Column("used_at", sa.Text, nullable=False),
    )
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("birthday", sa.Text))
        batch.add_column(sa.Column("language", sa.Text))
        batch.add_column(sa.Column("profile_at", sa.Text))


def downgrade() -> None:
    op.drop_table("coupon_conflicts")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("profile_at")
        batch.drop_column("language")
        batch.drop_column("birthday")
    op.drop_table("credit_holds")
    with op.batch_alter_table("credit_balances") as batch:
        batch.drop_column("held_rial")
