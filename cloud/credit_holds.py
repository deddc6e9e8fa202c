"""A till's hold on a member's chain credit before it commits (issue 11): of two branches spending the last of
one member's purchase credit at the same moment, exactly one gets it.

The hold is one conditional UPDATE of credit_balances (held_rial grows only while credit_rial - held_rial
covers it), so it is atomic on SQLite (one writer) and PostgreSQL (the row lock makes the second UPDATE
re-check the first one's result) alike. Credit the asking kiosk earned but has not sent yet counts for it:
the kiosk lists those outbox events, and the ones the cloud has not stored are added to what it may hold.
The commit's spend event (credit_moved with the hold's use_key) settles the hold; a credit_released event
gives it back (the local commit failed); a hold older than HOLD_TTL stops counting (the till never
committed). A hold for the same device and key again is the same hold.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Sequence

from sqlalchemy import Connection, select, update

from cloud.db import Database
from cloud.db.schema import credit_balances, credit_holds, events
from kiosk import protocol

HOLD_TTL = timedelta(minutes=10)  # far longer than a quote lives (kiosk QUOTE_TTL_S), so a real commit settles it
MAX_UNSENT = 100


class CreditRefused(Exception):
    """A hold the cloud cannot grant; ``code`` is the till's reason code (docs/protocol.md)."""

    def __init__(self, code: str, message: str, status: int, **extra: Any) -> None:
        super().__init__(message)
        self.code, self.status, self.extra = code, status, extra


def parse_request(body: Any) -> tuple[str, int, str, list[tuple[str, int, str | None]]]:
    """(member_id, amount_rial, use_key, unsent [(event_id, amount_rial, use_key or None)]) of a hold request;
    ValueError naming the bad field otherwise."""
    if not isinstance(body, dict) or set(body) - {"member_id", "amount_rial", "use_key", "unsent"}:
        raise ValueError('send JSON {"member_id", "amount_rial", "use_key", "unsent": [[event_id, rial], ...]}')
    member_id, amount, key, unsent = (body.get(k) for k in ("member_id", "amount_rial", "use_key", "unsent"))
    if protocol.text_problem("member_id", member_id) is not None or not member_id:
        raise ValueError("member_id must be the member's id")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= 10**13:
        raise ValueError("amount_rial must be a whole number of rial greater than 0")
    if not protocol.is_receipt_id(key):
        raise ValueError("use_key must be the till's idempotency key: 1-64 letters, digits, '.', '_', ':' or '-'")
    unsent = [] if unsent is None else unsent
    if not isinstance(unsent, list) or len(unsent) > MAX_UNSENT or not all(
            isinstance(u, list) and len(u) == 3 and isinstance(u[0], str) and 0 < len(u[0]) <= 64
            and isinstance(u[1], int) and not isinstance(u[1], bool)
            and (u[2] is None or protocol.is_receipt_id(u[2])) for u in unsent):
        raise ValueError(f"unsent must be a list of at most {MAX_UNSENT} [event_id, amount_rial, use_key or null]")
    return member_id, amount, key, [(u[0], u[1], u[2]) for u in unsent]


def _expire(conn: Connection, member_id: str, now: str) -> None:
    """Holds of this member older than HOLD_TTL stop counting (each one once, even with two callers at once)."""
    rows = conn.execute(update(credit_holds).where(
        credit_holds.c.member_id == member_id, credit_holds.c.state == "held", credit_holds.c.expires_at <= now)
        .values(state="expired").returning(credit_holds.c.amount_rial)).scalars().all()
    if rows:
        conn.execute(update(credit_balances).where(credit_balances.c.member_id == member_id)
                     .values(held_rial=credit_balances.c.held_rial - sum(rows)))


def _unsent_extra(conn: Connection, device_id: str, unsent: list[tuple[str, int, str | None]]) -> int:
    """Rial of the device's unsent credit moves that the cloud counts nowhere yet: not stored as events, and
    not a till spend whose hold is still held (held_rial has it already)."""
    if not unsent:
        return 0
    stored = set(conn.execute(select(events.c.event_id)
                              .where(events.c.event_id.in_([u[0] for u in unsent]))).scalars())
    keys = [u[2] for u in unsent if u[2] is not None]
    held = set(conn.execute(select(credit_holds.c.use_key).where(
        credit_holds.c.device_id == device_id, credit_holds.c.use_key.in_(keys),
        credit_holds.c.state == "held")).scalars()) if keys else set()
    return sum(rial for event_id, rial, key in unsent if event_id not in stored and key not in held)


def _answer(conn: Connection, hold: Any) -> dict[str, Any]:
    row = conn.execute(select(credit_balances.c.credit_rial, credit_balances.c.held_rial)
                       .where(credit_balances.c.member_id == hold.member_id)).first()
    return {"member_id": hold.member_id, "use_key": hold.use_key, "amount_rial": hold.amount_rial,
            "state": hold.state, "expires_at": hold.expires_at, "credit_rial": row[0], "held_rial": row[1]}


def hold(db: Database, device: Any, request: Any, now: datetime) -> dict[str, Any]:
    """Hold `amount_rial` of the member's chain credit for this device's commit `use_key`; CreditRefused when
    the chain (plus what this device has not sent yet) does not cover it. ValueError for a malformed request."""
    member_id, amount, key, unsent = parse_request(request)
    stamp, until = protocol.format_time(now), protocol.format_time(now + HOLD_TTL)
    where = (credit_holds.c.device_id == device.device_id, credit_holds.c.use_key == key)
    with db.write() as conn:
        conn.execute(db.insert(credit_balances).values(member_id=member_id, credit_rial=0, moves=0, held_rial=0)
                     .on_conflict_do_nothing())
        # The member's balance row is locked before anything is read: an ingest that stores this device's
        # unsent credit then either committed first (its events count as stored, not as unsent) or waits
        # for this hold (credit_rial does not have them yet), so unsent credit never counts twice. SQLite
        # has one writer and renders no FOR UPDATE.
        conn.execute(select(credit_balances.c.member_id).where(credit_balances.c.member_id == member_id)
                     .with_for_update())
        _expire(conn, member_id, stamp)
        known = conn.execute(select(credit_holds).where(*where)).first()
        if known is not None and (known.member_id, known.amount_rial) != (member_id, amount):
            raise CreditRefused("replay_mismatch", f"use_key {key} already holds {known.amount_rial} rial for "
                                                   f"member {known.member_id}", 409)
        if known is not None and known.state in ("held", "settled"):
            return _answer(conn, known)  # a retried hold is the same hold
        extra = _unsent_extra(conn, device.device_id, unsent)
        taken = conn.execute(update(credit_balances).where(
            credit_balances.c.member_id == member_id,
            credit_balances.c.credit_rial - credit_balances.c.held_rial + extra >= amount,
        ).values(held_rial=credit_balances.c.held_rial + amount)).rowcount
        if taken != 1:
            credit, held = conn.execute(select(credit_balances.c.credit_rial, credit_balances.c.held_rial)
                                        .where(credit_balances.c.member_id == member_id)).first()
            free = max(0, credit - held + extra)
            raise CreditRefused("credit_short", f"the chain has {free} rial of this member's purchase credit free "
                                                f"now, less than the {amount} rial asked (spent or held at another "
                                                "branch meanwhile)", 409, available_rial=free)
        values = {"member_id": member_id, "amount_rial": amount, "branch": device.branch, "held_at": stamp,
                  "expires_at": until, "state": "held"}
        if known is None:
            conn.execute(credit_holds.insert().values(device_id=device.device_id, use_key=key, **values))
        else:  # released or expired before, held again by the same commit's retry
            conn.execute(update(credit_holds).where(*where).values(**values))
        return _answer(conn, conn.execute(select(credit_holds).where(*where)).first())


def end(conn: Connection, device_id: str, use_key: str, state: str) -> None:
    """The hold of this device's commit stops counting: settled by its spend event, or released."""
    amounts: Sequence[Any] = conn.execute(update(credit_holds).where(
        credit_holds.c.device_id == device_id, credit_holds.c.use_key == use_key, credit_holds.c.state == "held")
        .values(state=state).returning(credit_holds.c.member_id, credit_holds.c.amount_rial)).all()
    for member_id, amount in amounts:
        conn.execute(update(credit_balances).where(credit_balances.c.member_id == member_id)
                     .values(held_rial=credit_balances.c.held_rial - amount))

