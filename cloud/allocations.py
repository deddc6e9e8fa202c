"""Budgets shared by the chain's kiosks, enforced by grants (leases) of a few units per kiosk.

Generic over a budget's kind: the instant-win game's prizes use kind ``game_prizes``, a campaign's
chain-wide ``budget_points`` kind ``campaign_points`` (cloud/campaign_budgets.py), on the same tables and
the same exchange. The arithmetic is
kiosk.rules.budgets (an open grant counts in full, a closed one only for what was used); this module is
the SQL. A grant expires at the end of the day it was granted on, in the budget's time zone (the chain's,
Asia/Tehran unless set), or sooner, after lease_minutes: a day's prizes always come from that day's grants,
the daily limit holds offline too, and the day turns at the shops' midnight, not at UTC's.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy import Connection, func, select, update

from cloud.db.schema import budget_grants, budgets
from cloud.errors import BadConfig
from kiosk import protocol
from kiosk.rules.budgets import BUDGET_KINDS, grantable


DEFAULT_ZONE = "Asia/Tehran"


def time_zones() -> list[str]:
    """The zones a budget's day may follow: the IANA names zoneinfo knows, less the server's own `localtime`
    (a chain's day must not change with the machine serving it)."""
    return sorted(available_timezones() - {"localtime"})


def local_day(now: datetime, zone: str) -> tuple[date, datetime]:
    """The budget's day at `now` in `zone`, and the instant that day ends (the next local midnight)."""
    here = now.astimezone(ZoneInfo(zone))
    day = here.date()
    return day, datetime.combine(day + timedelta(days=1), datetime.min.time(), ZoneInfo(zone))


def create_budget(conn: Connection, *, budget_id: str, kind: str, daily_limit: int | None, total_limit: int | None,
                  per_kiosk: int, lease_minutes: int, now: datetime, time_zone: str = DEFAULT_ZONE) -> None:
    if time_zone not in time_zones():
        raise BadConfig(f"time zone {time_zone!r} is unknown; choose an IANA zone like Asia/Tehran or Asia/Dubai")
    if kind not in BUDGET_KINDS:
        raise BadConfig(f"budget kind {kind!r} is not one of {sorted(BUDGET_KINDS)}")
    for name, value in (("daily limit", daily_limit), ("total limit", total_limit)):
        if value is not None and value < 0:
            raise BadConfig(f"the {name} cannot be negative")
    most = 10**9 if kind == "campaign_points" else 1000  # points come in hundreds a purchase; prizes one by one
    if not 1 <= per_kiosk <= most or not 1 <= lease_minutes <= 24 * 60:
        raise BadConfig(f"a kiosk holds 1..{most} units at a time, leased for 1..1440 minutes")
    conn.execute(budgets.insert().values(budget_id=budget_id, kind=kind, daily_limit=daily_limit,
                                         total_limit=total_limit, per_kiosk=per_kiosk, lease_minutes=lease_minutes,
                                         created_at=protocol.format_time(now), time_zone=time_zone))


def _committed(conn: Connection, budget_id: str, day: str | None = None) -> int:
    """Units the budget's grants take (of one day): open grants in full, closed ones for what they used."""
    query = select(budget_grants.c.units, budget_grants.c.used, budget_grants.c.closed_at) \
        .where(budget_grants.c.budget_id == budget_id)
    if day is not None:
        query = query.where(budget_grants.c.day == day)
    return sum(used if closed else units for units, used, closed in conn.execute(query))


def report_use(conn: Connection, device_id: str, reports: Iterable[dict[str, Any]], now: datetime) -> None:
    """A kiosk's use of its grants: `used` only grows; `release` closes the grant (the rest goes back)."""
    stamp = protocol.format_time(now)
    for report in reports:
        row = conn.execute(select(budget_grants.c.units, budget_grants.c.used, budget_grants.c.closed_at)
                           .where(budget_grants.c.grant_id == report["grant_id"],
                                  budget_grants.c.device_id == device_id).with_for_update()).first()
        if row is None:
            continue  # not this device's grant: ignored, never an oracle of other kiosks' grants
        used = min(max(row.used, report["used"]), row.units)
        values: dict[str, Any] = {"used": used}
        if report.get("release") and row.closed_at is None:
            values["closed_at"] = stamp
        conn.execute(update(budget_grants).where(budget_grants.c.grant_id == report["grant_id"]).values(**values))


def top_up(conn: Connection, device_id: str, budget_id: str, now: datetime) -> None:
    """Grant the kiosk what it lacks of the budget's per-kiosk allocation, within the day's and the total."""
    budget = conn.execute(select(budgets).where(budgets.c.budget_id == budget_id).with_for_update()).mappings().first()
    if budget is None:
        return
    day, end_of_day = local_day(now, budget["time_zone"])
    held = sum(units - used for units, used in conn.execute(
        select(budget_grants.c.units, budget_grants.c.used).where(
            budget_grants.c.budget_id == budget_id, budget_grants.c.device_id == device_id,
            budget_grants.c.closed_at.is_(None), budget_grants.c.expires_at > protocol.format_time(now))))
    units = grantable(want=budget["per_kiosk"], held=held, daily_limit=budget["daily_limit"],
                      total_limit=budget["total_limit"], committed_today=_committed(conn, budget_id, day.isoformat()),
                      committed_total=_committed(conn, budget_id))
    if units <= 0:
        return
    expires = min(now + timedelta(minutes=budget["lease_minutes"]), end_of_day)
    conn.execute(budget_grants.insert().values(
        grant_id=str(uuid.uuid4()), budget_id=budget_id, device_id=device_id, units=units, used=0,
        day=day.isoformat(), granted_at=protocol.format_time(now),
        expires_at=protocol.format_time(expires)))


def device_grants(conn: Connection, device_id: str, kinds: dict[str, str], reported: set[str]) -> list[dict[str, Any]]:
    """The device's open grants, and the `reported` ones whatever their state (so the kiosk sees them closed)."""
    rows = conn.execute(select(budget_grants).where(
        budget_grants.c.device_id == device_id,
        budget_grants.c.closed_at.is_(None) | budget_grants.c.grant_id.in_(sorted(reported)))
        .order_by(budget_grants.c.granted_at)).mappings()
    return [{"grant_id": r["grant_id"], "budget_id": r["budget_id"], "kind": kinds.get(r["budget_id"], ""),
             "units": r["units"], "expires_at": r["expires_at"], "closed": r["closed_at"] is not None}
            for r in rows]


def usage(conn: Connection, budget_id: str, now: datetime) -> dict[str, int]:
    """What the console shows: units committed today and in total, and units reported used."""
    used = conn.execute(select(func.coalesce(func.sum(budget_grants.c.used), 0))
                        .where(budget_grants.c.budget_id == budget_id)).scalar_one()
    zone = conn.execute(select(budgets.c.time_zone).where(budgets.c.budget_id == budget_id)).scalar() or DEFAULT_ZONE
    return {"today": _committed(conn, budget_id, local_day(now, zone)[0].isoformat()),
            "total": _committed(conn, budget_id), "used": int(used)}
