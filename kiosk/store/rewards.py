"""The store's reward catalogue and the coupons members take from it.

A mixin of :class:`kiosk.store.database.Store`, which supplies ``write``, ``query``, ``_enqueue``,
``_clock`` and ``device_id``; a redemption debits the points and issues its coupon in one transaction.
"""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

import sqlite_utils

from kiosk.clock import iso
from kiosk.errors import InsufficientPoints, RewardNotAvailable, UnknownMember
from kiosk.rules.coupon_reasons import coupon_reason
from kiosk.rules.ledger import LedgerKind
from kiosk.store.records import LedgerRow, Recorded, new_event_id


class RewardsMixin:
    def upsert_reward(self, reward_id: str, name: str, cost_points: int, *, active: bool = True,
                      per_member_limit: int | None = None) -> None:
        self.write(lambda db: db["rewards"].upsert(
            {"id": reward_id, "name": name, "cost_points": cost_points, "active": int(active),
             "per_member_limit": per_member_limit}, pk="id"))

    def rewards(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.query("SELECT * FROM rewards WHERE active = 1 ORDER BY cost_points, id")]

    def rewards_for(self, member_id: str) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """The active catalogue and how many of each reward the member holds, in one read."""
        rows = self.query(
            "SELECT r.*, (SELECT COUNT(*) FROM coupons c WHERE c.member_id = ? AND c.reward_id = r.id) AS taken "
            "FROM rewards r WHERE r.active = 1 ORDER BY r.cost_points, r.id", (member_id,))
        rewards = [dict(r) for r in rows]
        taken = {r["id"]: r.pop("taken") for r in rewards}
        return rewards, {k: n for k, n in taken.items() if n}

    def reward(self, reward_id: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM rewards WHERE id = ? AND active = 1", (reward_id,))
        return dict(rows[0]) if rows else None

    def redeem_reward(self, member_id: str, reward_id: str, code: str, *, event_id: str | None = None) -> Recorded:
        """Debit a reward's cost and issue its coupon in one transaction (no coupon without its ledger row).

        The caller checks the catalogue rules first (kiosk.rules.rewards.check_reward); this re-checks what
        another kiosk or thread could have changed meanwhile: the balance and the per-member limit.
        """
        now = iso(self._clock())
        event_id = event_id or new_event_id()

        def tx(db: sqlite_utils.Database) -> Recorded:
            reward = db.execute("SELECT name, cost_points, per_member_limit FROM rewards WHERE id = ? AND active = 1",
                                [reward_id]).fetchone()
            if reward is None:
                raise RewardNotAvailable(reward_id, reward_id, "inactive")
            name, cost, limit = reward
            if limit is not None:
                used = db.execute("SELECT COUNT(*) FROM coupons WHERE member_id = ? AND reward_id = ?",
                                  [member_id, reward_id]).fetchone()[0]
                if used >= limit:
                    raise RewardNotAvailable(reward_id, name, "member_limit", str(limit))
            bal_row = db.execute("SELECT points FROM balances WHERE member_id = ?", [member_id]).fetchone()
            if bal_row is None:
                raise UnknownMember(f"no member with id {member_id}")
            if bal_row[0] < cost:
                raise InsufficientPoints(needed=cost, available=bal_row[0])
            row = LedgerRow(event_id=event_id, member_id=member_id, kind=LedgerKind.REDEEM, points=-cost, amount=0,
                            reason=coupon_reason(reward_id, code), receipt_id=None, staff_id=None,
                            device_id=self.device_id, created_at=now)
            db["ledger"].insert(asdict(row))
            db.execute("UPDATE balances SET points = points - ?, updated_at = ? WHERE member_id = ?",
                       [cost, now, member_id])
            db["coupons"].insert({"code": code, "reward_id": reward_id, "member_id": member_id,
                                  "event_id": event_id, "created_at": now, "used_at": None})
            self._enqueue(db, LedgerKind.REDEEM, {**asdict(row), "coupon": code, "reward_id": reward_id}, now,
                          event_id=event_id)
            return Recorded(row, True, bal_row[0] - cost)

        return self.write(tx)

    def coupons_taken(self, member_id: str) -> dict[str, int]:
        """How many coupons the member holds per reward id (for per-member limits)."""
        rows = self.query("SELECT reward_id, COUNT(*) AS n FROM coupons WHERE member_id = ? GROUP BY reward_id",
                          (member_id,))
        return {r["reward_id"]: r["n"] for r in rows}

