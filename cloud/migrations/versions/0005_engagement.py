"""Engagement (issue 14): surveys and their answers, complaints with their history and look-up log.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Serial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("survey_id", sa.Text, primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
    )
    op.create_table(
        "survey_answers",
        sa.Column("event_id", sa.Text, primary_key=True),
        sa.Column("survey_id", sa.Text, nullable=False),
        sa.Column("member_id", sa.Text, nullable=False),
        sa.Column("branch", sa.Text, nullable=False),
        sa.Column("device_id", sa.Text, nullable=False),
        sa.Column("answers", sa.Text, nullable=False),
        sa.Column("answered_at", sa.Text, nullable=False),
        sa.Column("counted", sa.Integer, nullable=False),
    )
    op.create_index("ix_survey_answers_survey", "survey_answers", ["survey_id", "branch"])
    op.create_index("ix_survey_answers_member", "survey_answers", ["member_id", "survey_id"])
    op.create_table(
        "complaints",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("event_id", sa.Text, nullable=False),
        sa.Column("branch", sa.Text, nullable=False),
        sa.Column("device_id", sa.Text, nullable=False),
        sa.Column("member_id", sa.Text),
        sa.Column("phone_e164", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("language", sa.Text),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
        sa.Column("texted", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_complaints_branch_state", "complaints", ["branch", "state"])
    op.create_table(
        "complaint_history",
        sa.Column("history_id", Serial, primary_key=True, autoincrement=True),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_complaint_history_code", "complaint_history", ["code"])
    op.create_table(
        "complaint_lookups",
        sa.Column("lookup_id", Serial, primary_key=True, autoincrement=True),
        sa.Column("device_id", sa.Text, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
    )
    op.create_index("ix_complaint_lookups_device_at", "complaint_lookups", ["device_id", "at"])


def downgrade() -> None:
    for table in ("complaint_lookups", "complaint_history", "complaints", "survey_answers", "surveys"):
        op.drop_table(table)
