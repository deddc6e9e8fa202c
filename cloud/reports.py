"""The weekly report: per branch and chain-wide, per week of the chain's calendar, what the club did.

Weeks run Saturday to Friday in the chain's time zone (the Iranian week). Their boundaries are computed here
with zoneinfo, so a zone's clock changes fall where they should, and handed to the database as UTC texts: every
figure is then one grouped query over the report's range of the ledger (a CASE puts each row in its week),
never a Python loop over purchases. Tier counts are the tiers the branch's kiosks would show at each week's end
(cloud/tier_sql.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, case, distinct, func, literal, select
from sqlalchemy.sql.elements import ColumnElement

from cloud.db.schema import cashback_entries, configs, events, members
from cloud.tier_sql import branch_rules, tier_changes
from kiosk import protocol

CHAIN_ZONE = ZoneInfo("Asia/Tehran")
SATURDAY = 5  # date.weekday()
MAX_WEEKS = 52
FIGURES = ("new_members", "active_members", "purchases", "amount", "points_earned", "points_spent", "cashback",
           "redemptions")


@dataclass(frozen=True)
class Week:
    starts_on: date  # the Saturday, in the chain's zone
    start: str  # UTC text, included
    end: str  # UTC text, excluded


@dataclass
class WeekRow:
    week: Week
    branch: str | None  # None: every branch of the report together
    figures: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIGURES, 0))
    tiers: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    weeks: list[Week]
    branches: list[str]
    tier_names: list[str]
    rows: list[WeekRow]  # week by week (oldest first): the branches in name order, then the total


def weeks_until(now: datetime, count: int, zone: ZoneInfo = CHAIN_ZONE) -> list[Week]:
    """The `count` weeks ending with the one `now` falls in (it is still running), oldest first."""
    if not 1 <= count <= MAX_WEEKS:
        raise ValueError(f"weeks = {count}: give 1 to {MAX_WEEKS}")
    today = now.astimezone(zone).date()
    current = today - timedelta(days=(today.weekday() - SATURDAY) % 7)
    starts = [current - timedelta(weeks=n) for n in range(count - 1, -1, -1)]

    def utc(day: date) -> str:
        return protocol.format_time(datetime.combine(day, time(), zone))

    return [Week(s, utc(s), utc(s + timedelta(days=7))) for s in starts]


def week_of(column: ColumnElement, weeks: list[Week]) -> ColumnElement:
    """The index of the week a UTC text column falls in (the caller keeps rows inside the report's range)."""
    return case(*[(column >= w.start, literal(i)) for i, w in reversed(list(enumerate(weeks)))], else_=literal(-1))


def weekly(conn: Connection, now: datetime, count: int, branches: frozenset[str] | None) -> Report:
    """The report over the last `count` weeks for `branches` (None: every branch)."""
    weeks = weeks_until(now, count)
    first, last = weeks[0].start, weeks[-1].end
    known = sorted(_distinct(conn, members.c.branch) | _distinct(conn, events.c.branch))
    names = [b for b in known if branches is None or b in branches]
    rows = {(i, b): WeekRow(w, b) for i, w in enumerate(weeks) for b in [*names, None]}
    if not names:
        return Report(weeks, [], [], [])

    def fill(results: Iterable, branch_wide: bool) -> None:
        for row in results:
            mapping = row._mapping
            target = rows.get((mapping["week"], mapping["branch"] if branch_wide else None))
            if target is not None:
                target.figures.update({k: int(v or 0) for k, v in mapping.items() if k in FIGURES})

    in_range = and_(events.c.created_at >= first, events.c.created_at < last, events.c.branch.in_(names))
    week = week_of(events.c.created_at, weeks).label("week")
    ledger = [func.count(distinct(case((events.c.kind == "earn", events.c.member_id)))).label("active_members"),
              func.count(case((events.c.kind == "earn", 1))).label("purchases"),
              func.sum(case((events.c.kind == "earn", events.c.amount), else_=0)).label("amount"),
              func.sum(case((and_(events.c.kind.in_(("earn", "bonus")), events.c.points > 0), events.c.points),
                            else_=0)).label("points_earned"),
              func.sum(case((events.c.kind == "redeem", -events.c.points), else_=0)).label("points_spent"),
              func.count(case((events.c.kind == "redeem", 1))).label("redemptions")]
    # Per branch, then all together: a member who bought at two branches is active once in the total.
    fill(conn.execute(select(week, events.c.branch, *ledger).where(in_range).group_by(week, events.c.branch)), True)
    fill(conn.execute(select(week, *ledger).where(in_range).group_by(week)), False)

    joined = week_of(members.c.enrolled_at, weeks).label("week")
    enrolled = (select(joined, members.c.branch, func.count().label("new_members"))
                .where(members.c.enrolled_at >= first, members.c.enrolled_at < last, members.c.branch.in_(names))
                .group_by(joined, members.c.branch))
    credit = week_of(cashback_entries.c.created_at, weeks).label("week")
    cashback = (select(credit, cashback_entries.c.branch, func.sum(cashback_entries.c.amount).label("cashback"))
                .where(cashback_entries.c.created_at >= first, cashback_entries.c.created_at < last,
                       cashback_entries.c.branch.in_(names))
                .group_by(credit, cashback_entries.c.branch))
    for query, name in ((enrolled, "new_members"), (cashback, "cashback")):
        for row in conn.execute(query):
            rows[(row.week, row.branch)].figures[name] += int(row[2] or 0)
            rows[(row.week, None)].figures[name] += int(row[2] or 0)

    tier_names = _tier_counts(conn, weeks, names, rows, now)
    ordered = [rows[(i, b)] for i in range(len(weeks)) for b in [*names, None]]
    return Report(weeks, names, tier_names, ordered)


def _distinct(conn: Connection, column: ColumnElement) -> set[str]:
    """The column's values, one index probe each (a recursive "next value after" walk of the index it leads):
    SELECT DISTINCT reads every row, on PostgreSQL a whole scan of the ledger for a chain's few hundred branches."""
    walk = select(func.min(column).label("value")).cte("walk", recursive=True)
    walk = walk.union_all(select(select(func.min(column)).where(column > walk.c.value).scalar_subquery())
                          .where(walk.c.value.isnot(None)))
    return {v for (v,) in conn.execute(select(walk.c.value).where(walk.c.value.isnot(None))) if v}


def _tier_counts(conn: Connection, weeks: list[Week], names: list[str], rows: dict, now: datetime) -> list[str]:
    """Members by tier at each week's end (or now, for the running week), per home branch; the tier names in
    threshold order. Branches with the same tier rules share one pass of the ledger for all the weeks (a query per
    week summed the ledger 52 times for a year: 180 s a week at a million members)."""
    bodies = dict(conn.execute(select(configs.c.branch, configs.c.body).where(configs.c.branch.in_(names))).all())
    groups: dict[tuple, tuple] = {}
    for branch in names:
        rules = branch_rules(bodies.get(branch))
        key = (rules.tier_window_days, tuple((t.name, t.min_points) for t in rules.tiers))
        groups.setdefault(key, (rules, []))[1].append(branch)
    lowest: dict[str, int] = {}  # a tier's lowest threshold at any branch orders the columns
    for rules, group in groups.values():
        for tier in rules.tiers:
            lowest[tier.name] = min(lowest.get(tier.name, tier.min_points), tier.min_points)
        moments = [min(protocol.parse_time(week.end) - timedelta(microseconds=1), now) for week in weeks]
        held: dict[tuple[str, str], int] = {}  # (branch, tier): members, as of the week being summed
        changes: dict[int, list] = {}
        for week, branch, tier, before, count in conn.execute(
                tier_changes(moments, rules, members.c.branch.in_(group))):
            changes.setdefault(int(week), []).append((branch, tier, before, int(count)))
        for i in range(len(weeks)):
            for branch, tier, before, count in changes.get(i, ()):
                held[(branch, tier)] = held.get((branch, tier), 0) + count
                if before is not None:
                    held[(branch, before)] -= count
            for (branch, tier), count in held.items():
                if count:
                    for key in ((i, branch), (i, None)):
                        rows[key].tiers[tier] = rows[key].tiers.get(tier, 0) + count
    return sorted(lowest, key=lambda name: (lowest[name], name))
