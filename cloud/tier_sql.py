"""The tier a branch's kiosks would show each member, in SQL: the points earned chain-wide in the tier window
(kiosk.rules.ledger.window_points: earn and bonus entries, (at - window, at]) mapped onto the branch config's
tier thresholds (kiosk.rules.tier_for: the highest tier reached). One grouped query however many members.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import Integer, Select, Text, and_, case, cast, func, literal, null, select, union_all
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


def bucket(column: ColumnElement, bounds: list[str]) -> ColumnElement:
    """How many of the ascending `bounds` are <= `column`, as a balanced tree of CASEs: about log2(len) text
    comparisons a row, where a flat CASE over a year's weeks makes up to 52 (both engines; PostgreSQL's
    width_bucket would do the same, SQLite has none)."""
    def tree(lo: int, hi: int) -> ColumnElement:  # the answer lies in lo..hi
        if lo == hi:
            return literal(lo)
        mid = (lo + hi) // 2  # column < bounds[mid] means at most mid bounds are <= column
        return case((column < bounds[mid], tree(lo, mid)), else_=tree(mid + 1, hi))
    return tree(0, len(bounds))


def tier_changes(moments: list[datetime], rules: LoyaltyRules, member_filter: ColumnElement) -> Select:
    """(week, branch, tier, before, members) over the ascending `moments`, in one pass of the ledger: `members`
    of `branch` went from tier `before` to `tier` at moment `week` (`before` None: they start being counted;
    `tier` None never happens, a member stays counted). Summed week by week, these are member_tiers(moments[week],
    ...) counted by branch and tier.

    Each credit in the window of some moment adds its points from the first moment at or after it and takes them
    off at the first moment whose window has left it behind: a member's running sum of those deltas is their
    window points, until their next delta. Enrolment is a delta of 0 carrying the home branch and the first
    moment the member counts at (the ledger rows carry neither), so a member without credits counts too, in the
    lowest tier. Only the rows where a member's tier changes are grouped: a few a member, not one a week."""
    text = [protocol.format_time(m) for m in moments]
    after = [protocol.format_time(m + timedelta(microseconds=1)) for m in moments]  # t <= m  <=>  t < m + 1 µs
    since = [m - timedelta(days=rules.tier_window_days) for m in moments]
    left = [protocol.format_time(s + timedelta(microseconds=1)) for s in since]
    credit = and_(events.c.kind.in_(("earn", "bonus")), events.c.points > 0,
                  events.c.created_at > protocol.format_time(since[0]), events.c.created_at <= text[-1])
    joined = bucket(members.c.enrolled_at, after)
    none_text, none_int = cast(null(), Text), cast(null(), Integer)
    deltas = union_all(
        select(members.c.member_id, joined.label("week"), literal(0).label("delta"), members.c.branch,
               joined.label("joined")).where(member_filter, members.c.enrolled_at <= text[-1]),
        select(events.c.member_id, bucket(events.c.created_at, after), events.c.points, none_text, none_int)
        .where(credit),
        select(events.c.member_id, bucket(events.c.created_at, left), -events.c.points, none_text, none_int)
        .where(credit, events.c.created_at <= protocol.format_time(since[-1]))).subquery("deltas")
    member = {"partition_by": deltas.c.member_id}
    # RANGE frame (the default): the rows of one week all see the sum to the end of that week.
    running = select(deltas.c.member_id, deltas.c.week,
                     func.sum(deltas.c.delta).over(**member, order_by=deltas.c.week).label("points"),
                     func.max(deltas.c.branch).over(**member).label("branch"),
                     func.max(deltas.c.joined).over(**member).label("joined")).subquery("running")
    tier = case((running.c.week >= running.c.joined, tier_of(running.c.points, rules)), else_=null())
    held = (select(running.c.member_id, running.c.week, running.c.branch, tier.label("tier"))
            .where(running.c.branch.isnot(None)).subquery("held"))  # None: a member another rule group counts
    before = func.lag(held.c.tier).over(partition_by=held.c.member_id, order_by=held.c.week).label("before")
    steps = select(held.c.week, held.c.branch, held.c.tier, before).subquery("steps")
    return (select(steps.c.week, steps.c.branch, steps.c.tier, steps.c.before, func.count().label("members"))
            .where(steps.c.tier.is_distinct_from(steps.c.before))
            .group_by(steps.c.week, steps.c.branch, steps.c.tier, steps.c.before))
