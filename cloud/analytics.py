"""Who the club's best customers are: RFM segments (kiosk.rules.segments) and A/B/C value classes.

`recompute` scores every member from the cloud's ledger (the events table, all branches) with the
same pure functions a kiosk would use, then classes them by value the Pareto way: sorted by spend in
the RFM window, the members who together bring the first 80 % of spend are A, the next 15 % B, the
rest (and everyone who bought nothing) C. The result replaces `member_segments` in one transaction,
so the console never reads half a run. Run it on demand (console, `kiosk-cloud segments`) or from a
timer (docs/cloud.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from sqlalchemy import delete, func, select

from cloud.db import Database
from cloud.db.schema import events, member_segments, members
from kiosk import protocol
from kiosk.rules.ledger import Entry
from kiosk.rules.segments import RfmRules, rfm

A_SHARE, B_SHARE = 0.80, 0.95
TOP_FRACTION = 0.20


@dataclass(frozen=True)
class Run:
    members: int
    top_count: int
    top_share_percent: float
    computed_at: str


@dataclass(frozen=True)
class Scored:
    member_id: str
    recency_days: int | None
    frequency: int
    monetary: int
    scores: tuple[int, int, int]
    segment: str


def value_classes(spend: dict[str, int]) -> dict[str, str]:
    """A/B/C per member id by cumulative share of total spend (pure; ties keep id order)."""
    total = sum(spend.values())
    classes: dict[str, str] = {}
    running = 0
    for member_id, amount in sorted(spend.items(), key=lambda item: (-item[1], item[0])):
        if amount <= 0 or total == 0:
            classes[member_id] = "C"
            continue
        share_before = running / total
        running += amount
        classes[member_id] = "A" if share_before < A_SHARE else "B" if share_before < B_SHARE else "C"
    return classes


def top_customers(spend: dict[str, int], fraction: float = TOP_FRACTION) -> tuple[list[str], float]:
    """The top `fraction` of members by spend and the share of all spend they bring (0..1)."""
    buyers = sorted((m for m, s in spend.items() if s > 0), key=lambda m: (-spend[m], m))
    if not buyers:
        return [], 0.0
    count = max(1, math.ceil(len(spend) * fraction))
    top = buyers[:count]
    return top, sum(spend[m] for m in top) / sum(spend.values())


def score_members(db: Database, now: datetime, rules: RfmRules) -> list[Scored]:
    """Every member the cloud knows (enrolled, or with purchases), scored from the whole chain's ledger."""
    with db.read() as conn:
        enrolled = {row.member_id: row.enrolled_at for row in conn.execute(
            select(members.c.member_id, members.c.enrolled_at))}
        rows = conn.execute(
            select(events.c.member_id, events.c.event_id, events.c.kind, events.c.points, events.c.amount,
                   events.c.created_at)
            .where(events.c.kind == "earn").order_by(events.c.member_id)
        )
        purchases = {member_id: [Entry(r.event_id, r.kind, r.points, r.amount, protocol.parse_time(r.created_at))
                                 for r in group]
                     for member_id, group in groupby(rows, key=lambda r: r.member_id)}
    scored = []
    for member_id in sorted(enrolled.keys() | purchases.keys()):
        since = enrolled.get(member_id)
        result = rfm(purchases.get(member_id, []), now, rules,
                     enrolled_at=protocol.parse_time(since) if since else None)
        scored.append(Scored(member_id, result.values.recency_days, result.values.frequency,
                             result.values.monetary,
                             (result.scores.recency, result.scores.frequency, result.scores.monetary),
                             result.segment))
    return scored


def recompute(db: Database, now: datetime, rules: RfmRules | None = None) -> Run:
    rules = rules or RfmRules()
    scored = score_members(db, now, rules)
    spend = {s.member_id: s.monetary for s in scored}
    classes = value_classes(spend)
    top, share = top_customers(spend)
    computed_at = protocol.format_time(now)
    with db.write() as conn:
        conn.execute(delete(member_segments))
        if scored:
            conn.execute(member_segments.insert(), [
                {"member_id": s.member_id, "recency_days": s.recency_days, "frequency": s.frequency,
                 "monetary": s.monetary, "r_score": s.scores[0], "f_score": s.scores[1], "m_score": s.scores[2],
                 "segment": s.segment, "value_class": classes[s.member_id], "computed_at": computed_at}
                for s in scored
            ])
    return Run(len(scored), len(top), round(share * 100, 1), computed_at)


@dataclass(frozen=True)
class Overview:
    computed_at: str | None
    segments: list[tuple[str, int]]
    classes: list[tuple[str, int, int]]  # class, members, spend
    top: list[dict]
    top_share_percent: float
    members: int


def overview(db: Database, branches: frozenset[str] | None = None) -> Overview:
    """The last run, limited to members of `branches` (None: the whole chain)."""
    scope = select(members.c.member_id).where(members.c.branch.in_(sorted(branches))) if branches is not None \
        else None
    ms = member_segments

    def limited(query):  # noqa: ANN001, ANN202 - a Select
        return query if scope is None else query.where(ms.c.member_id.in_(scope))

    with db.read() as conn:
        computed_at = conn.execute(limited(select(func.max(ms.c.computed_at)))).scalar()
        segments = [(r[0], r[1]) for r in conn.execute(
            limited(select(ms.c.segment, func.count()).group_by(ms.c.segment)).order_by(func.count().desc()))]
        classes = [(r[0], r[1], int(r[2] or 0)) for r in conn.execute(
            limited(select(ms.c.value_class, func.count(), func.sum(ms.c.monetary)).group_by(ms.c.value_class))
            .order_by(ms.c.value_class))]
        total_members = sum(n for _, n in segments)
        count = max(1, math.ceil(total_members * TOP_FRACTION)) if total_members else 0
        top = [dict(r._mapping) for r in conn.execute(
            limited(select(ms.c.member_id, members.c.name, members.c.phone_e164, members.c.branch, ms.c.monetary,
                           ms.c.frequency, ms.c.recency_days, ms.c.segment, ms.c.value_class)
                    .select_from(ms.outerjoin(members, members.c.member_id == ms.c.member_id))
                    .where(ms.c.monetary > 0))
            .order_by(ms.c.monetary.desc(), ms.c.member_id).limit(count))]
    total_spend = sum(spend for _, _, spend in classes)
    share = sum(t["monetary"] for t in top) / total_spend * 100 if total_spend else 0.0
    return Overview(computed_at, segments, classes, top, round(share, 1), total_members)
