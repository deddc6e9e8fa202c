"""Coupons and purchase credit across branches (issue 11): what the kiosks' events say, and a till's claim.

Kiosks send a coupon's issue (the redeem event whose reason names it, kiosk.rules.coupon_reasons.coupon_reason), its use
and give-back (coupon_used, coupon_released) and every move of the purchase credit (credit_moved) through
their outbox; ingest applies them here (and a till's hold on credit: cloud/credit_holds.py). A till about
to use a coupon claims it first (:func:`claim`): one conditional UPDATE, so of two branches asking at once exactly one gets it, on SQLite and PostgreSQL alike.
Two tills that both used one coupon (one of them offline) are both kept: the coupon row keeps the first use,
coupon_conflicts the later ones, which the console lists (:func:`used_twice`).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, Text, bindparam, or_, select, update

from cloud import credit_holds
from cloud.db import Database
from cloud.db.schema import coupon_conflicts, coupons, credit_balances
from kiosk import protocol
from kiosk.rules import coupon_reasons


class CouponRefused(Exception):
    """A claim the cloud cannot grant; ``code`` is the till's reason code (docs/protocol.md)."""

    def __init__(self, code: str, message: str, status: int, **extra: Any) -> None:
        super().__init__(message)
        self.code, self.status, self.extra = code, status, extra


def coupon_issued(conn: Connection, db: Database, device: Any, event: dict[str, Any]) -> None:
    """A redeem event that issued a coupon: the coupon, unused, known chain-wide from now on."""
    found = coupon_reasons.coupon_in_reason(event.get("reason"))
    if found is None:
        return
    reward_id, code = found
    conn.execute(db.insert(coupons).values(
        code=code, member_id=event["member_id"], reward_id=reward_id, device_id=device.device_id,
        branch=device.branch, issued_at=protocol.format_time(protocol.parse_time(event["created_at"])),
    ).on_conflict_do_nothing())


def apply(conn: Connection, db: Database, device: Any, event: dict[str, Any]) -> None:
    """One wallet event (protocol.WALLET_KINDS) just stored."""
    kind, at = event["kind"], protocol.format_time(protocol.parse_time(event["created_at"]))
    if kind == "credit_moved":
        upsert = db.insert(credit_balances).values(member_id=event["member_id"], credit_rial=event["amount_rial"],
                                                   moves=1)
        conn.execute(upsert.on_conflict_do_update(index_elements=[credit_balances.c.member_id], set_={
            "credit_rial": credit_balances.c.credit_rial + upsert.excluded.credit_rial,
            "moves": credit_balances.c.moves + 1}))
        if event["move"] == "spend" and event.get("use_key"):  # the commit a till held credit for is here
            credit_holds.end(conn, device.device_id, event["use_key"], "settled")
    elif kind == "credit_released":
        credit_holds.end(conn, device.device_id, event["use_key"], "released")
    elif kind == "coupon_used":
        # Already claimed by this very commit (the usual case), or used offline: the first use stays.
        first = conn.execute(update(coupons).where(coupons.c.code == event["code"], coupons.c.used_at.is_(None))
                             .values(used_at=at, used_device=device.device_id, used_branch=device.branch,
                                     used_key=event["use_key"])).rowcount
        row = conn.execute(select(coupons.c.used_device, coupons.c.used_key)
                           .where(coupons.c.code == event["code"])).first()
        if not first and row is not None and tuple(row) != (device.device_id, event["use_key"]):
            conn.execute(db.insert(coupon_conflicts).values(  # a second till used it: kept for the console
                code=event["code"], device_id=device.device_id, use_key=event["use_key"], branch=device.branch,
                used_at=at).on_conflict_do_nothing())
    else:  # coupon_released: only the commit that used it can give it back
        _release(conn, device, event["code"], event["use_key"])


def _release(conn: Connection, device: Any, code: str, use_key: str) -> None:
    """Give back one use: a later use of the same coupon is dropped; the first use's void makes the earliest
    later use the coupon's use (it did take place), or leaves the coupon unused."""
    mine = (coupon_conflicts.c.code == code, coupon_conflicts.c.device_id == device.device_id,
            coupon_conflicts.c.use_key == use_key)
    if conn.execute(coupon_conflicts.delete().where(*mine)).rowcount:
        return
    freed = conn.execute(update(coupons).where(
        coupons.c.code == code, coupons.c.used_key == use_key, coupons.c.used_device == device.device_id).values(
        used_at=None, used_device=None, used_branch=None, used_key=None)).rowcount
    later = conn.execute(select(coupon_conflicts).where(coupon_conflicts.c.code == code).order_by(
        coupon_conflicts.c.used_at, coupon_conflicts.c.device_id, coupon_conflicts.c.use_key).limit(1)).first()
    if freed and later is not None:
        conn.execute(update(coupons).where(coupons.c.code == code).values(
            used_at=later.used_at, used_device=later.device_id, used_branch=later.branch, used_key=later.use_key))
        conn.execute(coupon_conflicts.delete().where(coupon_conflicts.c.code == code,
                                                     coupon_conflicts.c.device_id == later.device_id,
                                                     coupon_conflicts.c.use_key == later.use_key))


def used_twice(conn: Connection, branches: frozenset[str] | None) -> list[dict[str, Any]]:
    """Coupons a second till used after the first (the console's list), newest second use first; a branch
    manager sees the ones issued or used at their branches."""
    query = (select(coupons.c.code, coupons.c.member_id, coupons.c.reward_id, coupons.c.branch, coupons.c.used_at,
                    coupons.c.used_branch, coupons.c.used_key, coupon_conflicts.c.branch.label("again_branch"),
                    coupon_conflicts.c.used_at.label("again_at"), coupon_conflicts.c.use_key.label("again_key"))
             .join(coupon_conflicts, coupon_conflicts.c.code == coupons.c.code)
             .order_by(coupon_conflicts.c.used_at.desc(), coupons.c.code))
    if branches is not None:
        query = query.where(or_(coupons.c.branch.in_(branches), coupons.c.used_branch.in_(branches),
                                coupon_conflicts.c.branch.in_(branches)))
    return [dict(row._mapping) for row in conn.execute(query.limit(500))]


def _shown(row: Any) -> dict[str, Any]:
    return {"code": row.code, "member_id": row.member_id, "reward_id": row.reward_id, "branch": row.branch,
            "issued_at": row.issued_at, "used_at": row.used_at, "used_branch": row.used_branch}


def find(db: Database, code: str) -> dict[str, Any] | None:
    """The chain's coupon by its code, with where it was used if it was."""
    with db.read() as conn:
        row = conn.execute(select(coupons).where(coupons.c.code == code)).first()
    return None if row is None else _shown(row)


def claim(db: Database, device: Any, code: str, member_id: str | None, use_key: str, now: datetime) -> dict[str, Any]:
    """Mark the coupon used by this device's commit `use_key` (again: the same answer); CouponRefused otherwise."""
    with db.write() as conn:
        row = conn.execute(select(coupons).where(coupons.c.code == code)).first()
        if row is None:
            raise CouponRefused("coupon_unknown", f"the chain has no coupon {code} (not issued, or its kiosk has "
                                                  "not sent it yet)", 404)
        if member_id is not None and row.member_id != member_id:
            raise CouponRefused("coupon_other_member", f"coupon {code} belongs to another member", 409)
        if row.used_at is not None and (row.used_device, row.used_key) != (device.device_id, use_key):
            raise CouponRefused("coupon_used", f"coupon {code} was already used at branch {row.used_branch} at "
                                               f"{row.used_at}", 409, used_at=row.used_at, used_branch=row.used_branch)
        if row.used_at is None:
            stamp = protocol.format_time(now)
            taken = conn.execute(update(coupons).where(coupons.c.code == code, coupons.c.used_at.is_(None)).values(
                used_at=stamp, used_device=device.device_id, used_branch=device.branch, used_key=use_key)).rowcount
            if taken != 1:  # another till's claim committed between our read and this update
                raise CouponRefused("coupon_used", f"coupon {code} was just used at another till", 409)
        row = conn.execute(select(coupons).where(coupons.c.code == code)).first()
    return {**_shown(row), "state": "claimed"}


def unused_statement() -> Select[Any]:
    """The coupons of the member bound as `member_id` that no till has used yet, issued at any branch, newest first
    (the last 50): what the member look-up shows in the wallet, another branch's coupons too."""
    return (select(coupons.c.code, coupons.c.reward_id, coupons.c.branch, coupons.c.issued_at)
            .where(coupons.c.member_id == bindparam("member_id", type_=Text), coupons.c.used_at.is_(None))
            .order_by(coupons.c.issued_at.desc(), coupons.c.code).limit(50))
