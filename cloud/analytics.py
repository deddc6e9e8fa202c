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
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from cloud import audit
from cloud.db import Database
from cloud.db.bulk import insert_rows
from cloud.db.schema import events, member_segments, members
from kiosk import protocol
from kiosk.rules.segments import RfmRules, RfmValues, rfm_scores, segment_for

A_SHARE, B_SHARE = 0.80, 0.95
TOP_FRACTION = 0.20
SEGMENT_COLUMNS = ("member_id", "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score", "segment",
                   "value_class", "computed_at")


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


# The run's aggregate holds every member at once (about 320 bytes each). Under a server's usual work_mem it does not
# fit, and PostgreSQL walks the ledger in member order through the member index instead, a random read per event:
# most of a 142 s run at 1,000,000 members and 20,000,000 events (benchmarks/cloud_scale.py). Parallel workers
# would each hold every member too (a member's purchases are spread over the whole table) and then merge them, so
# the run asks for one process with the memory instead of three without it.
RUN_SETTINGS = {"work_mem": "512MB", "max_parallel_workers_per_gather": "0"}


def score_members(db: Database, now: datetime, rules: RfmRules) -> list[Scored]:
    """Every member the cloud knows (enrolled, or with purchases), scored from the whole chain's ledger.

    The ledger is summed per member in the database (last purchase, count and spend in the window, first
    purchase) and joined to the members in one statement, one pass over the events however long the ledger; the
    scores and segment then come from the kiosk's own pure functions over those figures, as
    `kiosk.rules.segments.rfm` would give them.
    """
    until = protocol.format_time(now)
    window = events.c.created_at > protocol.format_time(now - timedelta(days=rules.window_days))
    purchases = (select(events.c.member_id, func.max(events.c.created_at).label("last"),
                        func.min(events.c.created_at).label("first"),
                        func.count().filter(window).label("frequency"),
                        func.coalesce(func.sum(events.c.amount).filter(window), 0).label("monetary"))
                 .where(events.c.kind == "earn", events.c.created_at <= until).group_by(events.c.member_id)
                 .subquery("purchases"))
    either_id = func.coalesce(members.c.member_id, purchases.c.member_id)
    figures = (select(either_id, purchases.c.last, purchases.c.frequency, purchases.c.monetary,
                      func.coalesce(members.c.enrolled_at, purchases.c.first))
               .select_from(members.join(purchases, purchases.c.member_id == members.c.member_id, full=True))
               .order_by(either_id))
    with db.read(RUN_SETTINGS) as conn:
        rows = conn.execute(figures).all()
    scored = []
    for member_id, last, frequency, monetary, since in rows:
        values = (RfmValues((now - protocol.parse_time(last)).days, frequency, int(monetary))
                  if last is not None else RfmValues(None, 0, 0))
        scores = rfm_scores(values, rules)
        age = (now - protocol.parse_time(since)).days if since else 0
        scored.append(Scored(member_id, values.recency_days, values.frequency, values.monetary,
                             (scores.recency, scores.frequency, scores.monetary), segment_for(scores, age, rules)))
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
        insert_rows(conn, member_segments, SEGMENT_COLUMNS, (
            (s.member_id, s.recency_days, s.frequency, s.monetary, *s.scores, s.segment, classes[s.member_id],
             computed_at) for s in scored))
    return Run(len(scored), len(top), round(share * 100, 1), computed_at)


def recompute_audited(db: Database, now: datetime, actor: str) -> Run:
    """A recompute that leaves its trace in the audit log: the console's button and the scheduled job."""
    run = recompute(db, now)
    with db.write() as conn:
        audit.record(conn, at=protocol.format_time(now), actor=actor, action="segments.recompute",
                     target="member_segments", after={"members": run.members, "top": run.top_count})
    return run


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
