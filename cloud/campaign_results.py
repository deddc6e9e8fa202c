"""How each campaign did, per branch and in total, summed in SQL.

A campaign lives in a branch's config (cloud/campaigns.py), parsed here with the kiosks' own rules; the same id in
several branch configs is one campaign run at each of them. For each branch:
- reached: the members at home there (enrolled by the campaign's end) whom its targets pick: the member list,
  the RFM segments of the last segment run and the tier the branch's kiosks showed at its end (or now);
- took part: members with a purchase the campaign applied to (the earn events' "campaigns", cloud/purchase_effects.py),
  those purchases and the points the campaign added to them;
- of the reached members: who bought at the branch during the campaign, their redemptions there, and their spend
  there during the campaign against an equal period just before it.
Days are the chain's days (cloud/reports.CHAIN_ZONE): a campaign ending on the 22nd ends at midnight there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import Connection, Select, and_, case, distinct, func, select
from sqlalchemy.sql.elements import ColumnElement

from cloud.db.schema import configs, event_campaigns, events, member_segments, members
from cloud.reports import CHAIN_ZONE
from cloud.tier_sql import branch_rules, member_tiers
from kiosk import protocol
from kiosk.errors import KioskError
from kiosk.rules.campaigns import Campaign, campaigns_from_mapping

FIGURES = ("reached", "took_part", "applied_purchases", "points_given", "buyers", "redemptions", "spend_during",
           "spend_before")


@dataclass(frozen=True)
class Listed:
    campaign_id: str
    name: str
    starts_on: date
    ends_on: date
    branches: tuple[str, ...]


@dataclass
class Row:
    branch: str | None  # None: the campaign's branches together
    starts_on: date
    ends_on: date
    figures: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIGURES, 0))


def _branch_campaigns(conn: Connection, branches: frozenset[str] | None) -> dict[str, tuple[Campaign, ...]]:
    query = select(configs.c.branch, configs.c.body).order_by(configs.c.branch)
    if branches is not None:
        query = query.where(configs.c.branch.in_(sorted(branches)))
    found = {}
    for branch, body in conn.execute(query):
        try:
            found[branch] = campaigns_from_mapping(json.loads(body).get("campaigns", []), branch_rules(body))
        except (KioskError, ValueError):
            continue  # the kiosks refuse this config too (they keep their last good one): it ran nothing
    return found


def listing(conn: Connection, branches: frozenset[str] | None) -> list[Listed]:
    """Every campaign in the configs of `branches` (None: all), newest start first."""
    by_id: dict[str, list[tuple[str, Campaign]]] = {}
    for branch, campaigns in _branch_campaigns(conn, branches).items():
        for campaign in campaigns:
            by_id.setdefault(campaign.campaign_id, []).append((branch, campaign))
    listed = [Listed(cid, runs[0][1].name, min(c.starts_on for _, c in runs), max(c.ends_on for _, c in runs),
                     tuple(b for b, _ in runs)) for cid, runs in by_id.items()]
    return sorted(listed, key=lambda c: (c.starts_on, c.campaign_id), reverse=True)


def _moment(day: date) -> datetime:
    return datetime.combine(day, time(), CHAIN_ZONE)


def results(conn: Connection, campaign_id: str, now: datetime,
            branches: frozenset[str] | None) -> tuple[Listed, list[Row]] | None:
    """The campaign's rows: one per branch that runs it (of `branches`), then the total; None if no such campaign."""
    runs = [(b, c) for b, cs in _branch_campaigns(conn, branches).items() for c in cs if c.campaign_id == campaign_id]
    if not runs:
        return None
    rows = [_branch_row(conn, branch, campaign, now) for branch, campaign in runs]
    total = Row(None, min(r.starts_on for r in rows), max(r.ends_on for r in rows))
    for row in rows:
        for name in FIGURES:
            total.figures[name] += row.figures[name]
    # A member may take part at two branches: once in the total (reached, buyers: each member has one home branch).
    total.figures["took_part"] = conn.execute(
        select(func.count(distinct(event_campaigns.c.member_id)))
        .where(event_campaigns.c.campaign_id == campaign_id,
               event_campaigns.c.branch.in_([b for b, _ in runs]))).scalar_one()
    listed = Listed(campaign_id, runs[0][1].name, total.starts_on, total.ends_on, tuple(b for b, _ in runs))
    return listed, [*rows, total]


def reached_members(conn: Connection, branch: str, campaign: Campaign, now: datetime) -> Select:
    """A condition on members.c.member_id: the members of `branch` the campaign's targets reach."""
    end = min(_moment(campaign.ends_on + timedelta(days=1)) - timedelta(microseconds=1), now)
    scope = select(members.c.member_id).where(members.c.branch == branch,
                                              members.c.enrolled_at <= protocol.format_time(end))
    if campaign.target_members:
        scope = scope.where(members.c.member_id.in_(sorted(campaign.target_members)))
    if campaign.target_segments:
        scope = scope.where(members.c.member_id.in_(
            select(member_segments.c.member_id).where(member_segments.c.segment.in_(sorted(campaign.target_segments)))))
    if campaign.target_tiers:
        body = conn.execute(select(configs.c.body).where(configs.c.branch == branch)).scalar()
        tiers = member_tiers(end, branch_rules(body), members.c.branch == branch).subquery("tiers")
        scope = scope.where(members.c.member_id.in_(
            select(tiers.c.member_id).where(tiers.c.tier.in_(sorted(campaign.target_tiers)))))
    return scope


def _branch_row(conn: Connection, branch: str, campaign: Campaign, now: datetime) -> Row:
    row = Row(branch, campaign.starts_on, campaign.ends_on)
    start, end = _moment(campaign.starts_on), _moment(campaign.ends_on + timedelta(days=1))
    during = (protocol.format_time(start), protocol.format_time(end))
    before = (protocol.format_time(start - (end - start)), during[0])
    reached = reached_members(conn, branch, campaign, now).subquery("reached")
    row.figures["reached"] = conn.execute(select(func.count()).select_from(reached)).scalar_one()
    applied = conn.execute(select(func.count(distinct(event_campaigns.c.member_id)), func.count(),
                                  func.coalesce(func.sum(event_campaigns.c.points), 0))
                           .where(event_campaigns.c.campaign_id == campaign.campaign_id,
                                  event_campaigns.c.branch == branch)).one()
    row.figures.update(took_part=applied[0], applied_purchases=applied[1], points_given=int(applied[2]))
    mine = and_(events.c.branch == branch, events.c.member_id.in_(select(reached.c.member_id)))

    def span(lo_hi: tuple[str, str]) -> ColumnElement:
        return and_(events.c.created_at >= lo_hi[0], events.c.created_at < lo_hi[1])

    earn, redeem = events.c.kind == "earn", events.c.kind == "redeem"
    figures = conn.execute(select(
        func.count(distinct(case((and_(earn, span(during)), events.c.member_id)))),
        func.count(case((and_(redeem, span(during)), 1))),
        func.coalesce(func.sum(case((and_(earn, span(during)), events.c.amount), else_=0)), 0),
        func.coalesce(func.sum(case((and_(earn, span(before)), events.c.amount), else_=0)), 0),
    ).where(mine, events.c.created_at >= before[0], events.c.created_at < during[1])).one()
    row.figures.update(buyers=figures[0], redemptions=figures[1], spend_during=int(figures[2]),
                       spend_before=int(figures[3]))
    return row
