"""Numbered schema migrations, applied in order at start, each in its own transaction.

Append new migrations at the end; never edit one that has shipped.
"""
from __future__ import annotations

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
        CREATE TABLE members (
            id TEXT PRIMARY KEY,
            phone TEXT NOT NULL UNIQUE,
            first_name TEXT NOT NULL,
            last_name TEXT NOT NULL DEFAULT '',
            birthday TEXT,
            consent_at TEXT,
            consent_version TEXT,
            referral_code TEXT UNIQUE,
            referred_by TEXT REFERENCES members(id),
            language TEXT,
            device_id TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE cards (
            card_ref TEXT PRIMARY KEY,
            member_id TEXT NOT NULL REFERENCES members(id),
            tech TEXT NOT NULL,
            label TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'blocked', 'lost')),
            bound_at TEXT NOT NULL
        );
        CREATE INDEX cards_member ON cards(member_id);
        CREATE TABLE ledger (
            event_id TEXT PRIMARY KEY,
            member_id TEXT NOT NULL REFERENCES members(id),
            kind TEXT NOT NULL CHECK (kind IN ('earn', 'redeem', 'adjust', 'expire', 'bonus')),
            points INTEGER NOT NULL,
            amount INTEGER NOT NULL DEFAULT 0,
            reason TEXT NOT NULL DEFAULT '',
            receipt_id TEXT,
            staff_id TEXT,
            device_id TEXT NOT NULL,
            created_at TEXT NOT NULL,
            cloud_state TEXT NOT NULL DEFAULT 'pending'
        );
        CREATE INDEX ledger_member ON ledger(member_id, created_at);
        CREATE UNIQUE INDEX ledger_receipt ON ledger(receipt_id) WHERE receipt_id IS NOT NULL;
        CREATE TRIGGER ledger_is_append_only_update BEFORE UPDATE OF
            event_id, member_id, kind, points, amount, reason, receipt_id, staff_id, device_id, created_at
            ON ledger BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
        CREATE TRIGGER ledger_is_append_only_delete BEFORE DELETE ON ledger
            BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
        CREATE TABLE balances (
            member_id TEXT PRIMARY KEY REFERENCES members(id),
            points INTEGER NOT NULL DEFAULT 0 CHECK (points >= 0),
            earned_total INTEGER NOT NULL DEFAULT 0,
            spent_rial INTEGER NOT NULL DEFAULT 0,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE rewards (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            cost_points INTEGER NOT NULL CHECK (cost_points > 0),
            active INTEGER NOT NULL DEFAULT 1,
            per_member_limit INTEGER
        );
        CREATE TABLE coupons (
            code TEXT PRIMARY KEY,
            reward_id TEXT NOT NULL REFERENCES rewards(id),
            member_id TEXT NOT NULL REFERENCES members(id),
            event_id TEXT NOT NULL REFERENCES ledger(event_id),
            created_at TEXT NOT NULL,
            used_at TEXT
        );
        CREATE TABLE outbox (
            event_id TEXT PRIMARY KEY,
            payload TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            sent_at TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX outbox_due ON outbox(sent_at, next_attempt_at);
        """,
    ),
    (
        2,
        """
        -- An event the cloud refused for good (schema, id reuse) is parked here, not retried.
        ALTER TABLE outbox ADD COLUMN rejected_at TEXT;
        ALTER TABLE outbox ADD COLUMN last_error TEXT;
        -- Serves outbox_batch in creation order without sorting the whole backlog per batch
        -- (with outbox_due the planner sorted every waiting row: 100k rows, 200 times).
        DROP INDEX outbox_due;
        CREATE INDEX outbox_waiting ON outbox(sent_at, rejected_at, created_at);
        """,
    ),
)
