"""Console search at a chain's scale: trigram indexes for "any part of the phone or name", an ordered name index.

The console matches a phone or a name anywhere inside it (LIKE '%…%'), which a b-tree cannot serve; on
PostgreSQL pg_trgm's GIN indexes do (the extension ships with Debian's postgresql and is trusted, so the
database owner may create it). SQLite gets plain indexes of the same names, so one schema module
describes both engines; the search there stays a scan, fine at a pilot's size.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in (("ix_members_phone_trgm", "phone_e164"), ("ix_members_name_trgm", "name_folded")):
        op.create_index(name, "members", [column], **(
            {"postgresql_using": "gin", "postgresql_ops": {column: "gin_trgm_ops"}} if postgres else {}))
    op.create_index("ix_members_name_member_id", "members", ["name", "member_id"])


def downgrade() -> None:
    for name in ("ix_members_name_member_id", "ix_members_name_trgm", "ix_members_phone_trgm"):
        op.drop_index(name, "members")
