"""Greetings that need the chain's loyalty rules over the cloud's ledger: a tier reached, points expiring.

The rules are each branch's cloud config (kiosk.rules.cloud_config, the same the kiosks apply); a contact
whose branch has no config gets neither message, since the cloud would only be guessing its rules. The
ledger is every ledger event the kiosks sent; each member's figures come from kiosk.rules (window_points,
tier_for, expiring_points), never recomputed here.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cloud.messages import tables as t
from cloud.messages.queue import MessageQueue, Outgoing
from cloud.messages.rules import MARKETING, dedupe_key
from cloud.messages.settings import LANGUAGES, MessageSettings
from cloud.messages.values import link_maker, render_for
from kiosk import protocol
from kiosk.rules import Entry, LoyaltyRules, expiring_points, tier_for, window_points
from kiosk.rules.cloud_config import rules_from_cloud

# The cloud store's tables (cloud/store.py).
_LEDGER = sa.text("SELECT member_id, event_id, kind, points, payload, created_at FROM events"
                  " WHERE kind IN ('earn', 'bonus', 'redeem', 'expire', 'adjust')")
_CONFIGS = sa.text("SELECT branch, body FROM configs")
_POINTS = sa.text("SELECT member_id, points FROM balances")


def _branch_rules(conn: sa.Connection) -> dict[str, LoyaltyRules]:
    rules = {}
    for branch, body in conn.execute(_CONFIGS):
        # set_config validated it (kiosk-cloud config set refuses what kiosks would refuse).
        rules[branch] = rules_from_cloud(protocol.validate_config(json.loads(body)))
    return rules


def run_ledger_greetings(engine: Engine, queue: MessageQueue, settings: MessageSettings,
                         now: datetime) -> tuple[int, int]:
    """Queue tier-reached and points-expiring texts; (tier, expiring) counts queued."""
    if not settings.tier_greeting and not settings.expiry_warning_days:
        return 0, 0
    with engine.begin() as conn:
        rules_by_branch = _branch_rules(conn)
        contacts = {r.member_id: r for r in conn.execute(
            sa.select(t.contacts).where(t.contacts.c.marketing_consent.is_(True),
                                        t.contacts.c.branch.in_(list(rules_by_branch)))).all()}
        ledgers: dict[str, list[Entry]] = {}
        for member_id, event_id, kind, points, payload, created_at in conn.execute(_LEDGER):
            if member_id in contacts:
                ledgers.setdefault(member_id, []).append(Entry(
                    event_id, kind, points or 0, json.loads(payload).get("amount") or 0, protocol.parse_time(created_at)))
        balances = dict(conn.execute(_POINTS).all())
        links = link_maker(conn, settings, now)
        tiers, expiring = [], []
        for member_id, entries in ledgers.items():
            contact, rules = contacts[member_id], rules_by_branch[contacts[member_id].branch]
            language = contact.language if contact.language in LANGUAGES else settings.default_language

            def text(kind: str, points: int, extra: dict | None = None) -> str:
                return render_for(settings.text(kind, language), settings, member_id=member_id,
                                  first_name=contact.first_name, points=points, language=language, links=links,
                                  extra=extra)

            tier = tier_for(window_points(entries, now, rules), rules)
            if settings.tier_greeting and tier != rules.tiers[0]:
                tiers.append(Outgoing(contact.phone_e164, text("tier", balances.get(member_id, 0),
                                                              {"tier": settings.tier_name(tier.name, language)}),
                                      "tier", MARKETING, member_id, dedupe_key("tier", member_id, tier.name),
                                      contact.branch))
            if settings.expiry_warning_days:
                soon = expiring_points(entries, now + timedelta(days=settings.expiry_warning_days), rules)
                due = soon - expiring_points(entries, now, rules)
                if due > 0:
                    expiring.append(Outgoing(contact.phone_e164, text("expiring", due), "expiring", MARKETING,
                                             member_id, dedupe_key("expiring", member_id, f"{now:%Y-%m}"),
                                             contact.branch))
        return queue.enqueue(tiers, conn=conn), queue.enqueue(expiring, conn=conn)
