"""The tier a branch's kiosks would show each member, in SQL: the points earned chain-wide in the tier window
(kiosk.rules.ledger.window_points: earn and bonus entries, (at - window, at]) mapped onto the branch config's
tier thresholds (kiosk.rules.tier_for: the highest tier reached). One grouped query however many members.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, case, func, literal, select
from sqlalchemy.sql.elements import ColumnElement

from cloud.db.schema import events, members
from kiosk import protocol
from kiosk.rules.cloud_config import rules_from_cloud
from kiosk.rules.config import LoyaltyRules


def branch_rules(config_body: str | None) -> LoyaltyRules:
    """The loyalty rules of a branch config (the defaults when the branch has none yet, as cloud.members does)."""
    return rules_from_cloud(json.loads(config_body)) if config_body else LoyaltyRules()


def tier_of(points: ColumnElement, rules: LoyaltyRules) -> ColumnElement:
    """CASE over the thresholds, highest first: the first tier whose min_points the points reach."""
    ordered = sorted(rules.tiers, key=lambda t: t.min_points, reverse=True)
    return case(*[(points >= tier.min_points, literal(tier.name)) for tier in ordered[:-1]],
                else_=literal(ordered[-1].name))


def member_tiers(at: datetime, rules: LoyaltyRules, member_filter: ColumnElement) -> Select:
    """(member_id, branch, tier) at `at` of the members `member_filter` picks who had enrolled by then."""
    until = protocol.format_time(at)
    since = protocol.format_time(at - timedelta(days=rules.tier_window_days))
    window = (select(events.c.member_id, func.sum(events.c.points).label("points"))
              .where(events.c.kind.in_(("earn", "bonus")), events.c.points > 0,
                     events.c.created_at > since, events.c.created_at <= until)
              .group_by(events.c.member_id).subquery("window"))
    points = func.coalesce(window.c.points, 0)
    return (select(members.c.member_id, members.c.branch, tier_of(points, rules).label("tier"))
            .select_from(members.outerjoin(window, window.c.member_id == members.c.member_id))
            .where(and_(member_filter, members.c.enrolled_at <= until)))
