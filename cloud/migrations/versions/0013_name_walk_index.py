"""The console's name search at a chain's scale: the ordered name index carries what the search filters on.

A common word (a surname one member in thirty holds) matches tens of thousands of members; the trigram index
finds them all and reads most of the members table to sort them, for a page of fifty. Walking the name index in
order finds that page after a few thousand entries instead, and with the folded name and the branch in the
index (INCLUDE, PostgreSQL only) the walk reads no table page (cloud/members.py). SQLite keeps the plain index.

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_members_name_member_id", "members")
        op.create_index("ix_members_name_member_id", "members", ["name", "member_id"],
                        postgresql_include=["name_folded", "branch"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_members_name_member_id", "members")
        op.create_index("ix_members_name_member_id", "members", ["name", "member_id"])
