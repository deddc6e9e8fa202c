"""The cloud's tables as SQLAlchemy Core objects: what every query in cloud/ is written against.

The DDL that creates them lives in the Alembic revisions under cloud/migrations/versions/ (frozen
copies, as migrations must be); tests/cloud/test_cloud_db.py checks that a migrated database matches
this module exactly, so the two cannot drift apart.

Times are ISO 8601 UTC strings from kiosk.protocol.format_time (fixed width, so they sort as text on
both engines). Identifiers chosen by devices (member ids, event ids) are text.
"""

from __future__ import annotations

from sqlalchemy import (BigInteger, Boolean, Column, Index, Integer, MetaData, SmallInteger, String, Table, Text,
                        UniqueConstraint, false)

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
    # Revision 0007: a report's weeks and a campaign's days are a range of one branch's ledger.
    Index("ix_events_branch_created_at", "branch", "created_at"),
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
    # Revision 0012: the profile as enrolled or last edited at a kiosk (member_updated), and that edit's time.
    Column("birthday", Text),
    Column("language", Text),
    Column("profile_at", Text),
    Index("ix_members_phone_e164", "phone_e164"),
    Index("ix_members_branch", "branch"),
    # Revision 0003: "any part of" phone and name searches (trigram GIN on PostgreSQL), and the result order.
    Index("ix_members_phone_trgm", "phone_e164", postgresql_using="gin",
          postgresql_ops={"phone_e164": "gin_trgm_ops"}),
    Index("ix_members_name_trgm", "name_folded", postgresql_using="gin",
          postgresql_ops={"name_folded": "gin_trgm_ops"}),
    # Revision 0013: the search's walk in name order reads only this index (PostgreSQL; cloud/members.py).
    Index("ix_members_name_member_id", "name", "member_id", postgresql_include=["name_folded", "branch"]),
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

# -- messages to members (revision 0003; cloud/messages/, docs/messages.md) -------

message_contacts = Table(
    "message_contacts", metadata,
    Column("member_id", String(64), primary_key=True),
    Column("phone_e164", String(20), nullable=False),
    Column("first_name", String(100), nullable=False, server_default=""),
    Column("language", String(16)),
    Column("calendar", String(10)),  # None: the chain's calendar
    Column("birth_g_month", SmallInteger), Column("birth_g_day", SmallInteger),
    Column("birth_j_month", SmallInteger), Column("birth_j_day", SmallInteger),
    Column("enrolled_at", String(32)),
    Column("marketing_consent", Boolean, nullable=False, server_default=false()),
    Column("consent_changed_at", String(32)),
    Column("source", String(10), nullable=False, server_default="kiosk"),  # kiosk | sms (join keyword)
    Column("branch", String(64)),
    Index("ix_message_contacts_phone_e164", "phone_e164", unique=True),
    Index("ix_message_contacts_birth_g", "birth_g_month", "birth_g_day"),
    Index("ix_message_contacts_birth_j", "birth_j_month", "birth_j_day"),
)

messages = Table(
    "messages", metadata,
    Column("message_id", Serial, primary_key=True, autoincrement=True),
    Column("member_id", String(64)),
    Column("phone_e164", String(20), nullable=False),
    Column("text", Text, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("category", String(16), nullable=False),
    Column("dedupe_key", String(64)),
    Column("state", String(12), nullable=False, server_default="queued"),
    Column("reason", Text),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("segments", Integer, nullable=False, server_default="1"),
    Column("not_before", String(32), nullable=False),
    # The shop's zone whose quiet hours hold it (the member's branch), None: the chain's zone.
    Column("time_zone", String(64)),
    Column("created_at", String(32), nullable=False),
    Column("claimed_at", String(32)),  # when a drain took it (state sending)
    Column("sent_at", String(32)),
    Column("done_at", String(32)),
    Column("gateway", String(32)),
    Column("provider_id", String(64)),
    UniqueConstraint("dedupe_key", name="uq_messages_dedupe_key"),
    Index("ix_messages_member_id", "member_id"),
    Index("ix_messages_provider_id", "provider_id"),
    Index("ix_messages_due", "state", "not_before", "message_id"),
)

message_gateways = Table(
    "message_gateways", metadata,
    Column("gateway", String(32), primary_key=True),
    Column("paused_until", String(32)),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    # The last send slot handed out at the gateway's rate, shared by every drain process (cloud/messages/queue.py).
    Column("last_slot", String(32)),
)

message_consent_log = Table(
    "message_consent_log", metadata,
    Column("entry_id", Serial, primary_key=True, autoincrement=True),
    Column("member_id", String(64), nullable=False),
    Column("phone_e164", String(20), nullable=False),
    Column("action", String(16), nullable=False),  # opted_out | joined
    Column("via", String(16), nullable=False),
    Column("at", String(32), nullable=False),
    Index("ix_message_consent_log_member_id", "member_id"),
)

message_inbound = Table(
    "message_inbound", metadata,
    Column("inbound_id", Serial, primary_key=True, autoincrement=True),
    Column("provider_id", String(64)),  # a provider retrying its callback is one message
    Column("phone_e164", String(20), nullable=False),
    Column("text", Text, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("received_at", String(32), nullable=False),
    UniqueConstraint("provider_id", name="uq_message_inbound_provider_id"),
)

message_links = Table(
    "message_links", metadata,
    Column("code", String(16), primary_key=True),
    Column("member_id", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Index("ix_message_links_member_id", "member_id"),
)

# -- engagement (issue 14): surveys and complaints -------------------------------------------------

# The chain's surveys as the console saved them (the document kiosk.rules.surveys reads); copied into every
# branch config's "surveys" section on save, which is how kiosks get them.
surveys = Table(
    "surveys", metadata,
    Column("survey_id", Text, primary_key=True),
    Column("body", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    Column("updated_by", Text, nullable=False),
)

# One row per survey_answered event; `counted` is 1 for a member's first answer to a survey, 0 for a later one
# (two offline kiosks), so results count each member once.
survey_answers = Table(
    "survey_answers", metadata,
    Column("event_id", Text, primary_key=True),
    Column("survey_id", Text, nullable=False),
    Column("member_id", Text, nullable=False),
    Column("branch", Text, nullable=False),
    Column("device_id", Text, nullable=False),
    Column("answers", Text, nullable=False),
    Column("answered_at", Text, nullable=False),
    Column("counted", Integer, nullable=False),
    Index("ix_survey_answers_survey", "survey_id", "branch"),
    Index("ix_survey_answers_member", "member_id", "survey_id"),
)

complaints = Table(
    "complaints", metadata,
    Column("code", Text, primary_key=True),
    Column("event_id", Text, nullable=False),
    Column("branch", Text, nullable=False),
    Column("device_id", Text, nullable=False),
    Column("member_id", Text),
    Column("phone_e164", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("language", Text),
    Column("state", Text, nullable=False),
    Column("answer", Text, nullable=False, server_default=""),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    Column("texted", Integer, nullable=False, server_default="0"),
    Index("ix_complaints_branch_state", "branch", "state"),
)

# Every change of a complaint, never edited: who, when, the state after it and the answer then.
complaint_history = Table(
    "complaint_history", metadata,
    Column("history_id", Serial, primary_key=True, autoincrement=True),
    Column("code", Text, nullable=False),
    Column("at", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("answer", Text, nullable=False, server_default=""),
    Index("ix_complaint_history_code", "code"),
)

# Each kiosk's recent tracking-code look-ups, for the per-device rate limit (any cloud process may answer).
complaint_lookups = Table(
    "complaint_lookups", metadata,
    Column("lookup_id", Serial, primary_key=True, autoincrement=True),
    Column("device_id", Text, nullable=False),
    Column("at", Text, nullable=False),
    Index("ix_complaint_lookups_device_at", "device_id", "at"),
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
    Column("time_zone", Text, nullable=False, server_default="Asia/Tehran"),  # whose midnight ends a budget's day
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
    Column("earn_over_rial", BigInteger),  # a purchase of at least this earns one free play; NULL = none
)

# Claims refused after the fact (kiosk.rules.reversals): listed to the kiosk that made them until it says it
# applied them (settled_at).
engagement_reversals = Table(
    "engagement_reversals", metadata,
    Column("ref", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("device_id", Text, nullable=False),
    Column("member_id", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("settled_at", Text),
    Index("ix_engagement_reversals_device", "device_id", "settled_at"),
)


# -- campaign results and weekly reports (revision 0007; cloud/campaign_results.py, cloud/reports.py) ------

# The campaigns a kiosk applied to a purchase (the earn event's "campaigns"), with the points each added.
event_campaigns = Table(
    "event_campaigns", metadata,
    Column("event_id", Text, primary_key=True),
    Column("campaign_id", Text, primary_key=True),
    Column("branch", Text, nullable=False),
    Column("member_id", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("points", BigInteger, nullable=False),
    Index("ix_event_campaigns_campaign", "campaign_id", "branch"),
)

# The purchase credit (rial) a purchase gave back as cashback (the earn event's "cashback").
cashback_entries = Table(
    "cashback_entries", metadata,
    Column("event_id", Text, primary_key=True),
    Column("branch", Text, nullable=False),
    Column("member_id", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Index("ix_cashback_entries_branch_created_at", "branch", "created_at"),
)

# Campaign sends composed in the console (issue 13): the audience and texts as written, kept until `jobs run`
# queues them when due ("scheduled" -> "queued" with how many it queued) or a marketer cancels them.
message_campaigns = Table(
    "message_campaigns", metadata,
    Column("campaign_id", Serial, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False, unique=True),
    Column("audience", Text, nullable=False),
    Column("texts", Text, nullable=False),
    Column("send_at", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("queued", Integer),
    Column("created_by", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("queued_at", Text),
    Index("ix_message_campaigns_due", "state", "send_at"),
)

# -- coupons and purchase credit across branches (issue 11, revision 0010) ----------------------------------

# Every coupon a kiosk issued (from the redeem event that names it) and its one use anywhere in the chain:
# a till claims it here (POST /v1/devices/{id}/coupons/{code}/use) before it commits, so two branches cannot
# both take it; used_key is the claiming till's idempotency key, so a retried claim is the same claim.
coupons = Table(
    "coupons", metadata,
    Column("code", Text, primary_key=True),
    Column("member_id", Text, nullable=False),
    Column("reward_id", Text, nullable=False),
    Column("device_id", Text, nullable=False),
    Column("branch", Text, nullable=False),
    Column("issued_at", Text, nullable=False),
    Column("used_at", Text),
    Column("used_device", Text),
    Column("used_branch", Text),
    Column("used_key", Text),
    Index("ix_coupons_member_id", "member_id"),
)

# Each member's chain-wide purchase credit (rial): the sum of the kiosks' credit_moved events.
credit_balances = Table(
    "credit_balances", metadata,
    Column("member_id", Text, primary_key=True),
    Column("credit_rial", BigInteger, nullable=False),
    Column("moves", BigInteger, nullable=False),
    # Rial that tills hold for commits not yet reported (credit_holds, revision 0012): not spendable elsewhere.
    Column("held_rial", BigInteger, nullable=False, server_default="0"),
)

# A coupon used by a second till after its first use (issue 11): the issuing kiosk's tills use its own coupons by its
# own ledger while offline, so another till may have used one meanwhile. The coupon row keeps the first use; each
# later one is kept here for the console ("coupons used twice"); a void of the first promotes the earliest of these.
coupon_conflicts = Table(
    "coupon_conflicts", metadata,
    Column("code", Text, primary_key=True),
    Column("device_id", Text, primary_key=True),
    Column("use_key", Text, primary_key=True),
    Column("branch", Text, nullable=False),
    Column("used_at", Text, nullable=False),
)

# A till's hold on a member's chain credit for one commit (POST /v1/devices/{id}/credit/hold), taken before the
# till commits so two branches cannot both spend the last of it. "held" counts in credit_balances.held_rial until
# the commit's spend event arrives (settled), the kiosk gives it back (released: the local commit failed) or
# it is older than wallet.HOLD_TTL (expired: the till never committed, so the credit is free again).
credit_holds = Table(
    "credit_holds", metadata,
    Column("device_id", Text, primary_key=True),
    Column("use_key", Text, primary_key=True),
    Column("member_id", Text, nullable=False),
    Column("amount_rial", BigInteger, nullable=False),
    Column("branch", Text, nullable=False),
    Column("held_at", Text, nullable=False),
    Column("expires_at", Text, nullable=False),
    Column("state", Text, nullable=False),
    Index("ix_credit_holds_member_state", "member_id", "state"),
)

# Each device's latest heartbeat (kiosk/rules/fleet.py): one row a device, replaced by the next heartbeat.
device_health = Table(
    "device_health", metadata,
    Column("device_id", Text, primary_key=True),
    Column("reported_at", Text, nullable=False),
    Column("software_version", Text, nullable=False),
    Column("outbox_count", BigInteger, nullable=False),
    Column("outbox_oldest_at", Text),  # when the oldest waiting event was made (report time minus its age)
    Column("readers", Text, nullable=False),  # JSON {reader id: state}
)
