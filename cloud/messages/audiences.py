"""Who a campaign is for, besides an RFM segment: the members of a tier, or a list of phone numbers.

A member's tier is the one the kiosks of the member's branch would show: that branch's cloud config (the
kiosks' own kiosk.rules over the points earned in the tier window), or the default rules for a branch
without a config, as the console's member page does (cloud/members.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cloud.messages import tables as t
from cloud.messages.inbound import BadInbound, mobile_e164
from cloud.names import ascii_digits
from kiosk import protocol
from kiosk.rules import Entry, LoyaltyRules, tier_for, window_points
from kiosk.rules.cloud_config import rules_from_cloud

_CREDITS = sa.text("SELECT member_id, event_id, kind, points, payload, created_at FROM events"
                   " WHERE kind IN ('earn', 'bonus') AND points > 0")
_CONFIGS = sa.text("SELECT branch, body FROM configs")


def _rules_by_branch(conn: sa.Connection) -> dict[str, LoyaltyRules]:
    # set_config validated every body (the console and `kiosk-cloud config set` refuse what kiosks would).
    return {branch: rules_from_cloud(json.loads(body)) for branch, body in conn.execute(_CONFIGS)}


def tier_names(engine: Engine) -> list[str]:
    """Every tier name the branch configs (or, without any, the default rules) define, lowest first."""
    with engine.connect() as conn:
        all_rules = list(_rules_by_branch(conn).values()) or [LoyaltyRules()]
    names: list[str] = []
    for rules in all_rules:
        names += [tier.name for tier in rules.tiers if tier.name not in names]
    return names


def member_tiers(engine: Engine, now: datetime) -> dict[str, str]:
    """Every contact's tier name, by the rules of the contact's branch."""
    with engine.connect() as conn:
        by_branch = _rules_by_branch(conn)
        branches = dict(conn.execute(sa.select(t.contacts.c.member_id, t.contacts.c.branch)).all())
        credits: dict[str, list[Entry]] = {}
        for member_id, event_id, kind, points, payload, created_at in conn.execute(_CREDITS):
            if member_id in branches:
                credits.setdefault(member_id, []).append(Entry(
                    event_id, kind, points, json.loads(payload).get("amount") or 0, protocol.parse_time(created_at)))
    default = LoyaltyRules()
    tiers = {}
    for member_id, branch in branches.items():
        rules = by_branch.get(branch or "", default)
        tiers[member_id] = tier_for(window_points(credits.get(member_id, []), now, rules), rules).name
    return tiers


def parse_phones(raw: Iterable[str]) -> tuple[list[str], list[str]]:
    """(E.164 numbers, entries that are not mobile numbers) from a typed list; Persian digits are fine."""
    good, bad = [], []
    for item in raw:
        item = item.strip()
        if not item:
            continue
        try:
            phone = mobile_e164(ascii_digits(item))
        except BadInbound:
            bad.append(item)
            continue
        if phone not in good:
            good.append(phone)
    return good, bad


def members_by_phone(engine: Engine, phones: Iterable[str]) -> dict[str, str]:
    """phone -> member id of the contacts that have these numbers (numbers of no member are left out)."""
    wanted = list(phones)
    if not wanted:
        return {}
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(t.contacts.c.phone_e164, t.contacts.c.member_id)
                                 .where(t.contacts.c.phone_e164.in_(wanted))).all())
