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
    (
        3,
        """
        -- Purchase credit (rial), a wallet beside the points: cashback in, till spending out.
        ALTER TABLE balances ADD COLUMN credit_rial INTEGER NOT NULL DEFAULT 0 CHECK (credit_rial >= 0);
        CREATE TABLE credit_ledger (
            event_id TEXT PRIMARY KEY,
            member_id TEXT NOT NULL REFERENCES members(id),
            kind TEXT NOT NULL CHECK (kind IN ('cashback', 'spend', 'reversal')),
            amount_rial INTEGER NOT NULL,
            receipt_id TEXT,
            reason TEXT NOT NULL DEFAULT '',
            device_id TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX credit_ledger_member ON credit_ledger(member_id, created_at);
        CREATE TRIGGER credit_ledger_is_append_only_update BEFORE UPDATE ON credit_ledger
            BEGIN SELECT RAISE(ABORT, 'the credit ledger is append-only'); END;
        CREATE TRIGGER credit_ledger_is_append_only_delete BEFORE DELETE ON credit_ledger
            BEGIN SELECT RAISE(ABORT, 'the credit ledger is append-only'); END;
        -- Which campaigns applied to a purchase, with what they added (the earn row holds the total).
        CREATE TABLE purchase_campaigns (
            event_id TEXT NOT NULL REFERENCES ledger(event_id),
            member_id TEXT NOT NULL REFERENCES members(id),
            campaign_id TEXT NOT NULL,
            points INTEGER NOT NULL,
            PRIMARY KEY (event_id, campaign_id)
        );
        CREATE INDEX purchase_campaigns_member ON purchase_campaigns(member_id, campaign_id);
        -- Reward names per language (JSON); NULL = the one name for every language.
        ALTER TABLE rewards ADD COLUMN names TEXT;
        ALTER TABLE rewards ADD COLUMN min_tier TEXT;
        ALTER TABLE rewards ADD COLUMN starts_on TEXT;
        ALTER TABLE rewards ADD COLUMN ends_on TEXT;
        -- The till commit that used a coupon (used_at says when).
        ALTER TABLE coupons ADD COLUMN used_by TEXT;
        CREATE INDEX coupons_member ON coupons(member_id, used_at);
        -- Till spending: a committed quote, found again by its idempotency key.
        CREATE TABLE till_commits (
            idempotency_key TEXT PRIMARY KEY,
            quote_id TEXT NOT NULL,
            member_id TEXT NOT NULL REFERENCES members(id),
            bill_rial INTEGER NOT NULL,
            points INTEGER NOT NULL,
            points_rial INTEGER NOT NULL,
            credit_rial INTEGER NOT NULL,
            discount_rial INTEGER NOT NULL,
            coupon TEXT,
            to_pay_rial INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            voided_at TEXT
        );
        -- Refunds of earned purchases: what each reversed, so refunds never exceed the purchase.
        CREATE TABLE refunds (
            refund_id TEXT PRIMARY KEY,
            receipt_id TEXT NOT NULL,
            member_id TEXT NOT NULL REFERENCES members(id),
            amount_rial INTEGER NOT NULL,
            points INTEGER NOT NULL,
            credit_rial INTEGER NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX refunds_receipt ON refunds(receipt_id);
        """,
    ),
    (
        4,
        """
        -- Who approved a till commit above the staff_approval_rial: a staff id (their card) or "pin".
        ALTER TABLE till_commits ADD COLUMN approved_by TEXT;
        """,
    ),
    (
        5,
        """
        -- Survey answers (issue 14): one per member and survey; answer_id is the page's idempotency key, so a
        -- resend after a crash finds its answer instead of paying again. The reward is an ordinary ledger row.
        CREATE TABLE survey_answers (
            answer_id TEXT PRIMARY KEY,
            member_id TEXT NOT NULL REFERENCES members(id),
            survey_id TEXT NOT NULL,
            answers TEXT NOT NULL,
            reward_event_id TEXT REFERENCES ledger(event_id),
            reward_points INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            UNIQUE (member_id, survey_id)
        );
        -- Complaints filed at this kiosk, by their idempotency key; the cloud holds their state and answer.
        CREATE TABLE complaints (
            request_key TEXT PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            member_id TEXT,
            phone TEXT NOT NULL,
            subject TEXT NOT NULL,
            text TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        """,
    ),
    (
        6,
        """
        -- Draws (issue 14): the cloud's draws with the hash of their seed, entries bought here, wins to tell.
        CREATE TABLE draws (
            id TEXT PRIMARY KEY,
            body TEXT NOT NULL
        );
        CREATE TABLE draw_entries (
            entry_id TEXT PRIMARY KEY,
            draw_id TEXT NOT NULL,
            member_id TEXT NOT NULL REFERENCES members(id),
            entries INTEGER NOT NULL CHECK (entries > 0),
            points INTEGER NOT NULL,
            source TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX draw_entries_member ON draw_entries(member_id, draw_id);
        CREATE TABLE draw_wins (
            draw_id TEXT NOT NULL,
            member_id TEXT NOT NULL,
            rank INTEGER NOT NULL,
            prize TEXT NOT NULL,
            told_at TEXT,
            PRIMARY KEY (draw_id, member_id)
        );
        -- Instant-win games and the budget grants the cloud leased to this kiosk.
        CREATE TABLE games (
            id TEXT PRIMARY KEY,
            body TEXT NOT NULL
        );
        CREATE TABLE grants (
            grant_id TEXT PRIMARY KEY,
            budget_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            units INTEGER NOT NULL CHECK (units >= 0),
            used INTEGER NOT NULL DEFAULT 0,
            expires_at TEXT NOT NULL,
            closed_at TEXT,
            CHECK (used <= units)
        );
        CREATE TABLE game_plays (
            play_id TEXT PRIMARY KEY,
            game_id TEXT NOT NULL,
            member_id TEXT NOT NULL REFERENCES members(id),
            event_id TEXT NOT NULL REFERENCES ledger(event_id),
            grant_id TEXT REFERENCES grants(grant_id),
            reward_id TEXT,
            coupon TEXT,
            created_at TEXT NOT NULL
        );
        """,
    ),
    (
        7,
        """
        -- Claims the cloud refused after the fact (issue 14, kiosk.rules.reversals): a draw entry that reached it
        -- after the draw ran, a survey rewarded at two branches. One row per ref, with the adjust that undid it.
        CREATE TABLE engagement_reversals (
            ref TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            member_id TEXT NOT NULL REFERENCES members(id),
            event_id TEXT REFERENCES ledger(event_id),
            points INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            acked_at TEXT
        );
        -- A purchase earns one play of a game (kiosk.rules.games); finding the unused ones reads plays by event.
        CREATE INDEX game_plays_event ON game_plays(event_id, game_id);
        """,
    ),
    (
        8,
        """
        -- Coupons and purchase credit across branches (issue 11). A coupon issued at another branch and used
        -- at this kiosk's till, claimed in the cloud first: what the commit used, so a void can give it back.
        CREATE TABLE chain_coupons (
            code TEXT PRIMARY KEY,
            member_id TEXT NOT NULL REFERENCES members(id),
            reward_id TEXT NOT NULL,
            branch TEXT NOT NULL DEFAULT '',
            issued_at TEXT NOT NULL,
            used_at TEXT,
            used_by TEXT
        );
        -- The wallet gains a 'correction' kind: the chain's credit copied here (an import, a reconcile), which
        -- is never sent back (the cloud already counts it). SQLite cannot alter a CHECK: the table is rebuilt.
        CREATE TABLE credit_ledger_v8 (
            event_id TEXT PRIMARY KEY,
            member_id TEXT NOT NULL REFERENCES members(id),
            kind TEXT NOT NULL CHECK (kind IN ('cashback', 'spend', 'reversal', 'correction')),
            amount_rial INTEGER NOT NULL,
            receipt_id TEXT,
            reason TEXT NOT NULL DEFAULT '',
            device_id TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        INSERT INTO credit_ledger_v8 SELECT event_id, member_id, kind, amount_rial, receipt_id, reason, device_id,
            created_at FROM credit_ledger;
        DROP TABLE credit_ledger;
        ALTER TABLE credit_ledger_v8 RENAME TO credit_ledger;
        CREATE INDEX credit_ledger_member ON credit_ledger(member_id, created_at);
        CREATE TRIGGER credit_ledger_is_append_only_update BEFORE UPDATE ON credit_ledger
            BEGIN SELECT RAISE(ABORT, 'the credit ledger is append-only'); END;
        CREATE TRIGGER credit_ledger_is_append_only_delete BEFORE DELETE ON credit_ledger
            BEGIN SELECT RAISE(ABORT, 'the credit ledger is append-only'); END;
        """,
    ),
    (
        9,
        """
        -- A member's profile follows the chain (issue 11): when the profile held here was made (this kiosk's
        -- own edit, or the chain's edit it took from a reconcile); NULL is "as enrolled" (created_at). The
        -- newer of this and the cloud's profile_at wins, so a stale answer never undoes an edit not yet sent.
        ALTER TABLE members ADD COLUMN profile_at TEXT;
        UPDATE members SET profile_at = (
            SELECT MAX(json_extract(o.payload, '$.created_at')) FROM outbox o
            WHERE json_extract(o.payload, '$.kind') = 'member_updated'
            AND json_extract(o.payload, '$.member.id') = members.id);
        """,
    ),
)
