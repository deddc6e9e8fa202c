"""The cloud's tables as SQLAlchemy Core objects: what every query in cloud/ is written against.

The DDL that creates them lives in the Alembic revisions under cloud/migrations/versions/ (frozen
copies, as migrations must be); tests/cloud/test_cloud_db.py checks that a migrated database matches
this module exactly, so the two cannot drift apart.

Times are ISO 8601 UTC strings from kiosk.protocol.format_time (fixed width, so they sort as text on
both engines). Identifiers chosen by devices (member ids, event ids) are text.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, Table, Text, UniqueConstraint

metadata = MetaData()

# An auto-numbered 64-bit key on PostgreSQL that is SQLite's rowid alias there.
Serial = BigInteger().with_variant(Integer(), "sqlite")

tokens = Table(
    "tokens", metadata,
    Column("token_hash", Text, primary_key=True),
    Column("branch", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("expires_at", Text, nullable=False),
    Column("used_at", Text),
    Column("device_id", Text),
)

devices = Table(
    "devices", metadata,
    Column("device_id", Text, primary_key=True),
    Column("branch", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("name", Text, nullable=False, server_default=""),
    Column("registered_at", Text, nullable=False),
    Column("last_seen_at", Text),
    Column("events_count", BigInteger, nullable=False, server_default="0"),
)

# Every event a device sent, once (event_id is the dedupe key); seq keeps arrival order.
events = Table(
    "events", metadata,
    Column("seq", Serial, primary_key=True, autoincrement=True),
    Column("event_id", Text, nullable=False),
    Column("device_id", Text, nullable=False),
    Column("branch", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("member_id", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("received_at", Text, nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False, server_default="0"),
    Column("digest", Text, nullable=False),
    Column("payload", Text, nullable=False),
    UniqueConstraint("event_id", name="uq_events_event_id"),
    Index("ix_events_member_id", "member_id"),
    Index("ix_events_device_id", "device_id"),
)

members = Table(
    "members", metadata,
    Column("member_id", Text, primary_key=True),
    Column("phone_e164", Text),
    Column("name", Text),
    # The name with Arabic ي/ك folded to Persian ی/ک and lower-cased: what a console search matches.
    Column("name_folded", Text, nullable=False, server_default=""),
    Column("enrolled_at", Text),
    Column("device_id", Text),
    Column("branch", Text),
    Index("ix_members_phone_e164", "phone_e164"),
    Index("ix_members_branch", "branch"),
)

cards = Table(
    "cards", metadata,
    Column("card_ref", Text, primary_key=True),
    Column("member_id", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("changed_at", Text, nullable=False),
    Index("ix_cards_member_id", "member_id"),
)

balances = Table(
    "balances", metadata,
    Column("member_id", Text, primary_key=True),
    Column("points", BigInteger, nullable=False),
    Column("events", BigInteger, nullable=False),
)

configs = Table(
    "configs", metadata,
    Column("branch", Text, primary_key=True),
    Column("body", Text, nullable=False),
    Column("etag", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
)

otp_codes = Table(
    "otp_codes", metadata,
    Column("code_id", Serial, primary_key=True, autoincrement=True),
    Column("device_id", Text, nullable=False),
    Column("phone", Text, nullable=False),
    Column("purpose", Text, nullable=False),
    Column("salt", Text, nullable=False),
    Column("code_hash", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("expires_at", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("state", Text, nullable=False, server_default="pending"),
    Index("ix_otp_codes_phone_created_at", "phone", "created_at"),
)

sms_outbox = Table(
    "sms_outbox", metadata,
    Column("message_id", Serial, primary_key=True, autoincrement=True),
    Column("phone", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("sent_at", Text),
)

# -- the console (revision 0002) ----------------------------------------------------------

# Values every cloud process must share, e.g. the key that signs console session cookies.
settings = Table(
    "settings", metadata,
    Column("name", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

users = Table(
    "users", metadata,
    Column("user_id", Serial, primary_key=True, autoincrement=True),
    Column("username", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("role", Text, nullable=False),
    # Branch names a branch manager may see, comma-separated; empty for the chain-wide roles.
    Column("branches", Text, nullable=False, server_default=""),
    Column("disabled", Integer, nullable=False, server_default="0"),
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until", Text),
    # Bumped by a password change or disable: every session cookie issued before is void.
    Column("session_epoch", Integer, nullable=False, server_default="0"),
    Column("created_at", Text, nullable=False),
    UniqueConstraint("username", name="uq_users_username"),
)

audit_log = Table(
    "audit_log", metadata,
    Column("audit_id", Serial, primary_key=True, autoincrement=True),
    Column("at", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("target", Text, nullable=False),
    Column("before", Text),
    Column("after", Text),
)

# The last analytics run, one row per member (cloud/analytics.py writes it, the console reads it).
member_segments = Table(
    "member_segments", metadata,
    Column("member_id", Text, primary_key=True),
    Column("recency_days", Integer),
    Column("frequency", Integer, nullable=False),
    Column("monetary", BigInteger, nullable=False),
    Column("r_score", Integer, nullable=False),
    Column("f_score", Integer, nullable=False),
    Column("m_score", Integer, nullable=False),
    Column("segment", Text, nullable=False),
    Column("value_class", Text, nullable=False),
    Column("computed_at", Text, nullable=False),
    Index("ix_member_segments_segment", "segment"),
)

# Draws (issue 14): the seed stays secret until the draw is run; its SHA-256 is published from creation.
draws = Table(
    "draws", metadata,
    Column("draw_id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("names", Text, nullable=False, server_default="{}"),
    Column("prizes", Text, nullable=False),
    Column("price_points", Integer, nullable=False),
    Column("free_per_purchase", Integer, nullable=False, server_default="0"),
    Column("free_per_survey", Integer, nullable=False, server_default="0"),
    Column("starts_at", Text, nullable=False),
    Column("ends_at", Text, nullable=False),
    Column("seed", Text, nullable=False),
    Column("seed_hash", Text, nullable=False),
    Column("run_at", Text),
    Column("winners", Text),
    Column("created_by", Text, nullable=False),
    Column("created_at", Text, nullable=False),
)

# A budget shared by every kiosk (kind game_prizes today), spent through grants leased to each kiosk.
budgets = Table(
    "budgets", metadata,
    Column("budget_id", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("daily_limit", Integer),
    Column("total_limit", Integer),
    Column("per_kiosk", Integer, nullable=False),
    Column("lease_minutes", Integer, nullable=False),
    Column("created_at", Text, nullable=False),
)

budget_grants = Table(
    "budget_grants", metadata,
    Column("grant_id", Text, primary_key=True),
    Column("budget_id", Text, nullable=False),
    Column("device_id", Text, nullable=False),
    Column("units", Integer, nullable=False),
    Column("used", Integer, nullable=False, server_default="0"),
    Column("day", Text, nullable=False),
    Column("granted_at", Text, nullable=False),
    Column("expires_at", Text, nullable=False),
    Column("closed_at", Text),
    Index("ix_budget_grants_budget_day", "budget_id", "day"),
    Index("ix_budget_grants_device", "device_id"),
)

games = Table(
    "games", metadata,
    Column("game_id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("names", Text, nullable=False, server_default="{}"),
    Column("cost_points", Integer, nullable=False),
    Column("odds", Text, nullable=False),
    Column("budget_id", Text, nullable=False),
    Column("active", Integer, nullable=False, server_default="1"),
    Column("created_at", Text, nullable=False),
)
