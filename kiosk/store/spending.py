"""The purchase-credit wallet, campaign records, coupons at the till, till commits and refunds.

A mixin of :class:`kiosk.store.database.Store`: every method is one transaction on the
writer (or one read), so a purchase, its campaigns and its cashback land together, and a
till commit debits points and credit and uses its coupon together or not at all. Nothing
is edited: a void or a refund is a new ledger row (and a new credit-ledger row).
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Sequence

import sqlite_utils

from kiosk.clock import iso, parse_iso
from kiosk.errors import BudgetSpent, SpendRefused, UnknownMember
from kiosk.rules.budgets import Grant, left_of
from kiosk.rules.coupon_reasons import coupon_in_reason
from kiosk.rules.ledger import LedgerKind
from kiosk.store.records import LedgerRow, Recorded, new_event_id


# The member's unused coupons, newest first, with their reward's names, as one JSON value of the member's row:
# this kiosk's own, and the ones other branches issued that the chain says are unused (chain_coupons), named by
# the reward's id when this branch does not sell it.
COUPONS_HELD_JSON = (
    "SELECT json_group_array(json_object('code', code, 'reward_id', reward_id, 'created_at', created_at, "
    "'name', name, 'names', names)) FROM (SELECT c.code, c.reward_id, c.created_at, r.name, r.names FROM coupons c "
    "JOIN rewards r ON r.id = c.reward_id WHERE c.member_id = m.id AND c.used_at IS NULL UNION ALL "
    "SELECT x.code, x.reward_id, x.issued_at, COALESCE(r.name, x.reward_id), r.names FROM chain_coupons x "
    "LEFT JOIN rewards r ON r.id = x.reward_id WHERE x.member_id = m.id AND x.used_at IS NULL "
    "ORDER BY 3 DESC)")
# chain_coupons.used_by of a coupon the chain no longer lists as unused (used at another branch).
USED_ELSEWHERE = "chain:elsewhere"


def derived_id(*parts: str) -> str:
    """An event id fixed by what it records, so a retried write is the same event."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, ":".join(parts)))


class SpendingMixin:
    # Provided by Store: the device, its clock, one-transaction writes, reads, and the ledger append.
    device_id: str
    _clock: Any
    write: Any
    query: Any
    _known: Any
    _append: Any

    def _row(self, member_id: str, kind: str, points: int, *, amount: int = 0, reason: str = "",
             receipt_id: str | None = None, event_id: str | None = None, now: str) -> LedgerRow:
        return LedgerRow(event_id=event_id or new_event_id(), member_id=member_id, kind=kind, points=points,
                         amount=amount, reason=reason, receipt_id=receipt_id, staff_id=None,
                         device_id=self.device_id, created_at=now)

    def _credit(self, db: sqlite_utils.Database, member_id: str, kind: str, amount_rial: int, *, event_id: str,
                receipt_id: str | None, reason: str, now: str, use_key: str | None = None) -> int:
        """Move the wallet by ``amount_rial`` (signed) with its credit-ledger row; the new wallet balance."""
        row = db.execute("SELECT credit_rial FROM balances WHERE member_id = ?", [member_id]).fetchone()
        if row is None:
            raise UnknownMember(f"no member with id {member_id}")
        if row[0] + amount_rial < 0:
            raise SpendRefused("quote_changed", f"the member's purchase credit is {row[0]} rial now, "
                                                f"less than the {-amount_rial} rial quoted; ask for a new quote")
        db["credit_ledger"].insert({"event_id": event_id, "member_id": member_id, "kind": kind,
                                    "amount_rial": amount_rial, "receipt_id": receipt_id, "reason": reason,
                                    "device_id": self.device_id, "created_at": now})
        db.execute("UPDATE balances SET credit_rial = credit_rial + ?, updated_at = ? WHERE member_id = ?",
                   [amount_rial, now, member_id])
        if kind != "correction":  # a correction mirrors what the cloud already counts: never sent back
            # use_key (a till spend) names the commit whose cloud credit hold this move settles.
            self._enqueue(db, "credit_moved", {"member_id": member_id, "amount_rial": amount_rial, "move": kind,
                                               "receipt_id": receipt_id, "reason": reason, "use_key": use_key},
                          now, event_id=event_id)
        return row[0] + amount_rial

    def unsent_credit(self, member_id: str, limit: int = 100) -> list[list[Any]]:
        """[event_id, amount_rial, use_key or None] of the member's credit moves still in the outbox (the cloud
        does not count them yet), newest first: what a till's credit hold adds to the chain's figure
        (cloud/credit_holds.py); use_key names a till spend, which the cloud may already count as a hold."""
        rows = self.query("SELECT c.event_id, c.amount_rial, json_extract(o.payload, '$.use_key') AS use_key "
                          "FROM credit_ledger c JOIN outbox o ON o.event_id = c.event_id WHERE c.member_id = ? "
                          "AND o.sent_at IS NULL AND o.rejected_at IS NULL ORDER BY o.rowid DESC LIMIT ?",
                          (member_id, limit))
        return [[r["event_id"], r["amount_rial"], r["use_key"]] for r in rows]

    def release_credit_hold(self, member_id: str, key: str) -> None:
        """Give back the chain credit held for a commit that then failed here (nothing was spent)."""
        now = iso(self._clock())
        self.write(lambda db: self._enqueue(db, "credit_released", {"member_id": member_id, "use_key": key}, now,
                                            event_id=derived_id("credit-released", key, now)))

    def correct_credit(self, member_id: str, amount_rial: int, reason: str) -> int:
        """Move the wallet to the chain's figure (kiosk.sync.reconcile): a 'correction' row; the new balance."""
        now = iso(self._clock())
        return self.write(lambda db: self._credit(db, member_id, "correction", amount_rial, event_id=new_event_id(),
                                                  receipt_id=None, reason=reason, now=now))

    # --- purchases ---------------------------------------------------------------

    def record_purchase(self, member_id: str, amount_rial: int, points: int, *, reason: str,
                        campaigns: Sequence[tuple[str, int]] = (), cashback_rial: int = 0,
                        receipt_id: str | None = None, event_id: str | None = None,
                        grant_spends: Sequence[tuple[str, int]] = ()) -> Recorded:
        """An earn row (points include what the campaigns added), the campaigns that applied and the
        cashback, in one transaction; idempotent by event id or receipt id like :meth:`record`.

        ``grant_spends`` (budget id, points) are taken from this kiosk's grants of those chain-wide campaign
        budgets in the same transaction; BudgetSpent (nothing written) when the grants no longer hold them."""
        at = self._clock()
        now = iso(at)
        row = self._row(member_id, LedgerKind.EARN, points, amount=amount_rial, reason=reason,
                        receipt_id=receipt_id, event_id=event_id, now=now)

        def tx(db: sqlite_utils.Database) -> Recorded:
            known = self._known(db, row.event_id, receipt_id)
            if known is not None:
                return known
            for budget_id, units in grant_spends:
                self._spend_grants(db, budget_id, units, at)
            wire = {key: value for key, value in (("campaigns", [[c, n] for c, n in campaigns]),
                                                  ("cashback", cashback_rial)) if value}
            balance = self._append(db, row, wire)
            for campaign_id, added in campaigns:
                db["purchase_campaigns"].insert({"event_id": row.event_id, "member_id": member_id,
                                                 "campaign_id": campaign_id, "points": added})
            if cashback_rial:
                self._credit(db, member_id, "cashback", cashback_rial, event_id=derived_id("cashback", row.event_id),
                             receipt_id=receipt_id, reason=f"cashback on {amount_rial} rial", now=now)
            return Recorded(row, True, balance, tuple(campaigns), cashback_rial)

        return self.write(tx)

    def _spend_grants(self, db: sqlite_utils.Database, budget_id: str, units: int, at: datetime) -> None:
        rows = db.execute("SELECT grant_id, budget_id, units, used, expires_at, closed_at FROM grants "
                          "WHERE budget_id = ? ORDER BY expires_at, grant_id", [budget_id]).fetchall()
        for grant_id, _budget, held, used, expires_at, closed_at in rows:
            take = 0 if closed_at or at >= parse_iso(expires_at) else min(held - used, units)
            if take > 0:
                db.execute("UPDATE grants SET used = used + ? WHERE grant_id = ?", [take, grant_id])
                units -= take
        if units > 0:
            raise BudgetSpent(f"this kiosk's grants of {budget_id} hold {units} points fewer than planned")

    def grants_left(self, budget_ids: Sequence[str]) -> dict[str, int]:
        """Points (units) this kiosk may still give of each budget, over its open grants, now."""
        now = self._clock()
        rows = self.query("SELECT grant_id, budget_id, units, used, expires_at, closed_at FROM grants "
                          "WHERE closed_at IS NULL")
        grants = [Grant(r[0], r[1], r[2], r[3], parse_iso(r[4])) for r in rows]
        return {b: left_of(grants, b, now) for b in budget_ids}

    def campaigns_taken(self, member_id: str) -> dict[str, int]:
        """How many of the member's purchases each campaign applied to (for per-member limits)."""
        rows = self.query("SELECT campaign_id, COUNT(*) AS n FROM purchase_campaigns WHERE member_id = ? "
                          "GROUP BY campaign_id", (member_id,))
        return {r["campaign_id"]: r["n"] for r in rows}

    def campaigns_given(self) -> dict[str, int]:
        """Points each campaign gave at this kiosk so far (for budgets)."""
        rows = self.query("SELECT campaign_id, SUM(points) AS n FROM purchase_campaigns GROUP BY campaign_id")
        return {r["campaign_id"]: r["n"] for r in rows}

    def purchase_campaigns(self, event_id: str) -> list[tuple[str, int]]:
        rows = self.query("SELECT campaign_id, points FROM purchase_campaigns WHERE event_id = ? "
                          "ORDER BY campaign_id", (event_id,))
        return [(r["campaign_id"], r["points"]) for r in rows]

    # --- rewards from the cloud ------------------------------------------------------

    def replace_rewards(self, rewards: Sequence[dict[str, Any]]) -> None:
        """The cloud's catalogue, in one transaction: listed rewards upserted, every other one deactivated
        (kept, because issued coupons refer to it)."""
        def tx(db: sqlite_utils.Database) -> None:
            for reward in rewards:
                db["rewards"].upsert(reward, pk="id")
            ids = [r["id"] for r in rewards]
            db.execute(f"UPDATE rewards SET active = 0 WHERE id NOT IN ({','.join('?' * len(ids))})", ids)

        self.write(tx)

    # --- coupons -------------------------------------------------------------------

    def coupon(self, code: str) -> dict[str, Any] | None:
        rows = self.query("SELECT c.*, r.name, r.names, r.cost_points FROM coupons c "
                          "JOIN rewards r ON r.id = c.reward_id WHERE c.code = ?", (code,))
        return dict(rows[0]) if rows else None

    # --- till commits ----------------------------------------------------------------

    def commit_spend(self, commit: dict[str, Any], *,
                     chain_coupon: dict[str, Any] | None = None) -> tuple[dict[str, Any], bool]:
        """Apply a till quote once: (the commit row, True), or (the first commit under that key, False).

        ``commit`` has idempotency_key, quote_id, member_id, bill_rial, points, points_rial,
        credit_rial, discount_rial, coupon, to_pay_rial. The coupon must still be the member's and unused,
        and the points and credit still there (SpendRefused otherwise; nothing written). ``chain_coupon`` is
        a coupon of another branch that the cloud let this commit claim (code, member_id, reward_id, branch,
        issued_at); its use is kept in chain_coupons. Either way the use goes to the cloud (coupon_used).
        """
        now = iso(self._clock())
        key, member_id = commit["idempotency_key"], commit["member_id"]

        def tx(db: sqlite_utils.Database) -> tuple[dict[str, Any], bool]:
            known = db.execute("SELECT * FROM till_commits WHERE idempotency_key = ?", [key]).fetchone()
            if known is not None:
                cols = [d[0] for d in db.execute("SELECT * FROM till_commits LIMIT 0").description]
                return dict(zip(cols, known)), False
            code = commit["coupon"]
            if code is not None:
                self._use_coupon(db, code, member_id, key, chain_coupon, now)
            if commit["points"]:
                balance = db.execute("SELECT points FROM balances WHERE member_id = ?", [member_id]).fetchone()[0]
                if balance < commit["points"]:
                    raise SpendRefused("quote_changed", f"the member has {balance} points now, fewer than the "
                                                        f"{commit['points']} quoted; ask for a new quote")
                self._append(db, self._row(
                    member_id, LedgerKind.REDEEM, -commit["points"], reason=f"paid at the till ({key})",
                    event_id=derived_id("till-points", key), now=now))
            if commit["credit_rial"]:
                self._credit(db, member_id, "spend", -commit["credit_rial"], event_id=derived_id("till-credit", key),
                             receipt_id=None, reason=f"paid at the till ({key})", now=now, use_key=key)
            saved = {**commit, "created_at": now, "voided_at": None}
            db["till_commits"].insert(saved)
            return saved, True

        return self.write(tx)

    def _use_coupon(self, db: sqlite_utils.Database, code: str, member_id: str, key: str,
                    chain_coupon: dict[str, Any] | None, now: str) -> None:
        row = db.execute("SELECT member_id, used_at, used_by FROM coupons WHERE code = ?", [code]).fetchone()
        table = "coupons"
        if row is None and chain_coupon is not None:
            table = "chain_coupons"
            row = db.execute("SELECT member_id, used_at, used_by FROM chain_coupons WHERE code = ?", [code]).fetchone()
            if row is None:
                db["chain_coupons"].insert({k: chain_coupon[k] for k in ("code", "member_id", "reward_id", "branch",
                                                                          "issued_at")})
                row = (chain_coupon["member_id"], None, None)
        if row is None or row[0] != member_id:
            raise SpendRefused("coupon_other_member", f"coupon {code} is not this member's")
        if row[1] is not None:
            raise SpendRefused("coupon_used", f"coupon {code} was already used at {row[1]}")
        db.execute(f"UPDATE {table} SET used_at = ?, used_by = ? WHERE code = ?", [now, key, code])
        self._enqueue(db, "coupon_used", {"member_id": member_id, "code": code, "use_key": key}, now,
                      event_id=derived_id("coupon-used", key, code))

    def _release(self, db: sqlite_utils.Database, code: str, member_id: str, key: str, now: str) -> None:
        self._enqueue(db, "coupon_released", {"member_id": member_id, "code": code, "use_key": key}, now,
                      event_id=derived_id("coupon-released", key, code, now))

    def release_coupon_claim(self, code: str, member_id: str, key: str) -> None:
        """Give back in the cloud a coupon claimed for a commit that then failed here (nothing was used)."""
        now = iso(self._clock())
        self.write(lambda db: self._release(db, code, member_id, key, now))

    def coupon_used_elsewhere(self, code: str, used_at: str, branch: str) -> None:
        """The cloud says this kiosk's coupon was used at another branch: it leaves the member's wallet here."""
        self.write(lambda db: db.execute("UPDATE coupons SET used_at = ?, used_by = ? WHERE code = ? AND "
                                         "used_at IS NULL", [used_at, f"chain:{branch}"[:100], code]))

    def hold_chain_coupons(self, member_id: str, unused: Sequence[dict[str, str]]) -> bool:
        """The chain's list of the member's unused coupons (a look-up): the ones other branches issued join the
        member's wallet here; one the chain knows and no longer lists was used elsewhere and leaves it (and
        comes back if a void there gives it back). A coupon whose issue, use or give-back this kiosk has not sent
        yet is left to this kiosk's own ledger: the chain cannot know it yet. True when the wallet changed."""
        now = iso(self._clock())
        pending = ("EXISTS (SELECT 1 FROM outbox o WHERE o.sent_at IS NULL AND o.rejected_at IS NULL AND "
                   "(o.event_id = {issue} OR json_extract(o.payload, '$.code') = {code}))")

        def tx(db: sqlite_utils.Database) -> bool:
            before = db.conn.total_changes
            listed = {c["code"]: c for c in unused}
            own = {r[0] for r in db.execute(f"SELECT code FROM coupons WHERE code IN ({','.join('?' * len(listed))})",
                                            list(listed)).fetchall()} if listed else set()
            for code, coupon in listed.items():
                if code not in own:
                    db.execute("INSERT OR IGNORE INTO chain_coupons (code, member_id, reward_id, branch, issued_at) "
                               "VALUES (?, ?, ?, ?, ?)", [code, member_id, coupon["reward_id"], coupon["branch"],
                                                          coupon["issued_at"]])
                for table in ("coupons", "chain_coupons"):
                    db.execute(f"UPDATE {table} SET used_at = NULL, used_by = NULL WHERE code = ? AND member_id = ? "
                               "AND used_by = ?", [code, member_id, USED_ELSEWHERE])
            gone = db.execute(
                f"SELECT c.code, 'coupons', l.reason FROM coupons c JOIN ledger l ON l.event_id = c.event_id "
                f"WHERE c.member_id = ? AND c.used_at IS NULL AND NOT "
                f"{pending.format(issue='c.event_id', code='c.code')} UNION ALL "
                f"SELECT code, 'chain_coupons', NULL FROM chain_coupons x WHERE member_id = ? AND used_at IS NULL "
                f"AND NOT {pending.format(issue='NULL', code='x.code')}", [member_id, member_id]).fetchall()
            for code, table, reason in gone:
                # Only a coupon the chain registered (its issue names it) can be missing from its list for a reason.
                known = table == "chain_coupons" or (coupon_in_reason(reason) or ("", ""))[1] == code
                if known and code not in listed:
                    db.execute(f"UPDATE {table} SET used_at = ?, used_by = ? WHERE code = ?", [now, USED_ELSEWHERE, code])
            return db.conn.total_changes != before

        return self.write(tx)

    def chain_coupon(self, code: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM chain_coupons WHERE code = ?", (code,))
        return dict(rows[0]) if rows else None

    def till_commit(self, key: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM till_commits WHERE idempotency_key = ?", (key,))
        return dict(rows[0]) if rows else None

    def void_spend(self, key: str) -> dict[str, Any]:
        """Give back what a commit took (points as an adjust row, credit as a reversal, the coupon unused)."""
        now = iso(self._clock())

        def tx(db: sqlite_utils.Database) -> dict[str, Any]:
            known = db.execute("SELECT * FROM till_commits WHERE idempotency_key = ?", [key]).fetchone()
            if known is None:
                raise SpendRefused("unknown_commit", f"no till commit with idempotency key {key}", 404)
            cols = [d[0] for d in db.execute("SELECT * FROM till_commits LIMIT 0").description]
            commit = dict(zip(cols, known))
            if commit["voided_at"] is not None:
                return commit  # a repeated void changes nothing
            member_id = commit["member_id"]
            if commit["points"]:
                self._append(db, self._row(
                    member_id, LedgerKind.ADJUST, commit["points"], reason=f"till commit {key} voided",
                    event_id=derived_id("till-void-points", key), now=now))
            if commit["credit_rial"]:
                self._credit(db, member_id, "reversal", commit["credit_rial"],
                             event_id=derived_id("till-void-credit", key), receipt_id=None,
                             reason=f"till commit {key} voided", now=now)
            if commit["coupon"]:
                freed = sum(db.execute(f"UPDATE {table} SET used_at = NULL, used_by = NULL WHERE code = ? AND "
                                       "used_by = ?", [commit["coupon"], key]).rowcount
                            for table in ("coupons", "chain_coupons"))
                if freed:
                    self._release(db, commit["coupon"], member_id, key, now)
            db.execute("UPDATE till_commits SET voided_at = ? WHERE idempotency_key = ?", [now, key])
            return {**commit, "voided_at": now}

        return self.write(tx)

    # --- refunds ---------------------------------------------------------------------

    def refund(self, receipt_id: str, refund_id: str, amount_rial: int) -> tuple[dict[str, Any], bool]:
        """Reverse the share of an earned purchase that ``amount_rial`` refunds: its points (campaign points
        included) and its cashback, pro rata, floored on the running total so that refunding the whole
        purchase reverses exactly what it earned. (refund row, True), or the first refund under that id."""
        now = iso(self._clock())

        def tx(db: sqlite_utils.Database) -> tuple[dict[str, Any], bool]:
            cols = ("refund_id", "receipt_id", "member_id", "amount_rial", "points", "credit_rial", "created_at")
            known = db.execute(f"SELECT {', '.join(cols)} FROM refunds WHERE refund_id = ?", [refund_id]).fetchone()
            if known is not None:
                old = dict(zip(cols, known))
                if old["receipt_id"] != receipt_id or old["amount_rial"] != amount_rial:
                    raise SpendRefused("replay_mismatch", f"refund {refund_id} was already made for "
                                                          f"{old['amount_rial']} rial of receipt {old['receipt_id']}")
                return old, False
            earn = db.execute("SELECT member_id, points, amount FROM ledger WHERE receipt_id = ? AND kind = ?",
                              [receipt_id, LedgerKind.EARN]).fetchone()
            if earn is None:
                raise SpendRefused("not_earned", f"no purchase with receipt id {receipt_id} was earned here", 404)
            member_id, points, amount = earn
            done_rial, done_points, done_credit = db.execute(
                "SELECT COALESCE(SUM(amount_rial), 0), COALESCE(SUM(points), 0), COALESCE(SUM(credit_rial), 0) "
                "FROM refunds WHERE receipt_id = ?", [receipt_id]).fetchone()
            if done_rial + amount_rial > amount:
                raise SpendRefused("refund_too_large", f"receipt {receipt_id} was {amount} rial and {done_rial} rial "
                                                       f"were refunded already; at most {amount - done_rial} rial "
                                                       f"can be refunded")
            cashback = db.execute("SELECT COALESCE(SUM(amount_rial), 0) FROM credit_ledger WHERE receipt_id = ? "
                                  "AND kind = 'cashback'", [receipt_id]).fetchone()[0]
            back_points = points * (done_rial + amount_rial) // amount - done_points
            back_credit = cashback * (done_rial + amount_rial) // amount - done_credit
            balance = db.execute("SELECT points, credit_rial FROM balances WHERE member_id = ?", [member_id]).fetchone()
            if balance[0] < back_points or balance[1] < back_credit:
                raise SpendRefused("already_spent", f"the member has already spent what this purchase earned "
                                                    f"({balance[0]} of {back_points} points, {balance[1]} of "
                                                    f"{back_credit} rial credit left); refund at the service desk")
            if back_points:
                self._append(db, self._row(
                    member_id, LedgerKind.ADJUST, -back_points, reason=f"refund {refund_id} of receipt {receipt_id}",
                    event_id=derived_id("refund-points", refund_id), now=now))
            if back_credit:
                self._credit(db, member_id, "reversal", -back_credit, event_id=derived_id("refund-credit", refund_id),
                             receipt_id=None, reason=f"refund {refund_id} of receipt {receipt_id}", now=now)
            saved = dict(zip(cols, (refund_id, receipt_id, member_id, amount_rial, back_points, back_credit, now)))
            db["refunds"].insert(saved)
            return saved, True

        return self.write(tx)
