"""The member screen as plain data, built once from one snapshot of the member (pure).

What the balance screen, the till's result and a receipt claim show: name, points, credit, tier and
progress, the last few ledger rows, and the reward catalogue as this member sees it today (what they
can take now, and the first few locked ones with what blocks them). No raw identifiers beyond the
card's masked label.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping

from kiosk import rules
from kiosk.clock import parse_iso
from kiosk.rules.rewards import reward_from_row, reward_offers
from kiosk.store.records import Card, LedgerRow, MemberSnapshot

RECENT_ROWS = 5
LOCKED_SHOWN = 3


def entries(rows: Iterable[LedgerRow]) -> list[rules.Entry]:
    return [rules.Entry(r.event_id, r.kind, r.points, r.amount, parse_iso(r.created_at)) for r in rows]


def tier_progress(history: Iterable[LedgerRow], now: datetime, loyalty: rules.LoyaltyRules) -> rules.TierProgress:
    since = now - timedelta(days=loyalty.tier_window_days)
    window = [r for r in history if parse_iso(r.created_at) >= since]
    return rules.tier_progress(rules.window_points(entries(window), now, loyalty), loyalty)


def member_screen(snapshot: MemberSnapshot, *, rewards: list[Mapping[str, Any]], taken: Mapping[str, int],
                  now: datetime, loyalty: rules.LoyaltyRules, card: Card | None = None) -> dict[str, Any]:
    member, balance = snapshot.member, snapshot.balance
    progress = tier_progress(snapshot.history, now, loyalty)
    offers = reward_offers([reward_from_row(r) for r in rewards], balance=balance.points, tier=progress.tier,
                           taken=taken, today=now.date(), rules=loyalty)
    shown = [{"id": o.reward.reward_id, "name": o.reward.name, "cost_points": o.reward.cost_points,
              "blockers": list(o.blockers), "points_short": o.points_short} for o in offers]
    return {
        "member_id": member.id,
        "first_name": member.first_name,
        "points": balance.points,
        "credit_rial": rules.credit_rial(balance.points, loyalty),
        "tier": progress.tier.name,
        "next_tier": progress.next_tier.name if progress.next_tier else None,
        "points_to_next": progress.points_to_next,
        "progress_percent": progress.percent,
        "card_label": card.label if card else None,
        "recent": [
            {"kind": r.kind, "points": r.points, "amount": r.amount, "reason": r.reason, "at": r.created_at}
            for r in snapshot.history[:RECENT_ROWS]
        ],
        "rewards": [o for o in shown if not o["blockers"]],
        # The rest of the catalogue with its blockers, so a locked reward says why before anything is confirmed.
        "locked_rewards": [{**o, "locked": True} for o in shown if o["blockers"]][:LOCKED_SHOWN],
    }
