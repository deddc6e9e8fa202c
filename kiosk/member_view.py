"""The member screen as plain data, built once from one snapshot of the member (pure).

What the balance screen, the till's result and a receipt claim show: name, points, credit (what the
points buy, and the cashback wallet), tier and progress, the last few ledger rows, the points that
expire next, the coupons held until used, the campaigns running for the member, the referral code
with its QR, and the reward catalogue as this member sees it today (what they can take now, and the
first few locked ones with what blocks them), named in the member's language. No raw identifiers
beyond the card's masked label.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, tzinfo
from typing import Any, Callable, Iterable, Mapping, Sequence

from kiosk import rules
from kiosk.clock import parse_iso
from kiosk.qr import qr_data_uri
from kiosk.rules.badges import badges
from kiosk.rules.campaigns import Campaign
from kiosk.rules.names import parse_names, pick_name
from kiosk.rules.rewards import reward_from_row, reward_offers
from kiosk.store.records import Card, LedgerRow, MemberSnapshot

RECENT_ROWS = 5
LOCKED_SHOWN = 3
EXPIRY_SHOWN = 3


def entries(rows: Iterable[LedgerRow]) -> list[rules.Entry]:
    return [rules.Entry(r.event_id, r.kind, r.points, r.amount, parse_iso(r.created_at)) for r in rows]


def tier_progress(snapshot: MemberSnapshot, now: datetime, loyalty: rules.LoyaltyRules) -> rules.TierProgress:
    return rules.tier_progress(rules.window_points(snapshot.entries, now, loyalty), loyalty)


def expiry_list(snapshot: MemberSnapshot, now: datetime, zone: tzinfo,
                loyalty: rules.LoyaltyRules) -> list[dict[str, Any]]:
    """The next few expiry dates ("350 points expire on ۱ دی ۱۴۰۵"), lots of one shop day merged."""
    by_day: dict[str, int] = {}
    for at, points in rules.expiry_schedule(snapshot.entries, now, loyalty):
        day = at.astimezone(zone).date().isoformat()  # the web localises it (Jalali in fa)
        if day not in by_day and len(by_day) == EXPIRY_SHOWN:
            break
        by_day[day] = by_day.get(day, 0) + points
    return [{"points": points, "on": day} for day, points in by_day.items()]


def tier_names(loyalty: rules.LoyaltyRules) -> dict[str, dict[str, str]]:
    """{tier: {language: name}} for the tiers the chain named; the screen words the others itself."""
    return {t.name: dict(t.names) for t in loyalty.tiers if t.names}


def reward_names(row: Mapping[str, Any]) -> dict[str, str]:
    """A reward's names per language from a store row (JSON text, or the one name for every language)."""
    return json.loads(row["names"]) if row.get("names") else parse_names(row["name"], f"reward {row.get('reward_id', row.get('id'))!r}")


def coupon_names(row: Mapping[str, Any], language: str | None) -> str:
    return pick_name(reward_names(row), language)


def member_screen(snapshot: MemberSnapshot, *, rewards: list[Mapping[str, Any]], taken: Mapping[str, int],
                  now: datetime, loyalty: rules.LoyaltyRules, zone: tzinfo, card: Card | None = None,
                  coupons: Sequence[Mapping[str, Any]] = (), campaigns: Sequence[Campaign] = (),
                  referral_qr: Callable[[str], str] | None = None) -> dict[str, Any]:
    """``referral_qr`` makes the referral code's QR data URI (the service passes a kiosk.qr.QrCache)."""
    member, balance = snapshot.member, snapshot.balance
    # Not `referral_qr or ...`: an empty QrCache has no length, so it would read as false and never fill.
    make_qr = referral_qr if referral_qr is not None else (lambda code: qr_data_uri(code, scale=4))
    language = member.language
    progress = tier_progress(snapshot, now, loyalty)
    offers = reward_offers([reward_from_row(r) for r in rewards], balance=balance.points, tier=progress.tier,
                           taken=taken, today=now.astimezone(zone).date(), rules=loyalty)
    shown = [{"id": o.reward.reward_id, "name": o.reward.name_in(language), "names": dict(o.reward.names or {}),
              "cost_points": o.reward.cost_points,
              "blockers": list(o.blockers), "points_short": o.points_short} for o in offers]
    return {
        "member_id": member.id,
        "first_name": member.first_name,
        "language": language,
        "points": balance.points,
        "credit_rial": rules.credit_rial(balance.points, loyalty),
        "wallet_rial": balance.credit_rial,
        "referral_code": member.referral_code,
        "referral_qr": make_qr(member.referral_code) if member.referral_code else None,
        "profile_complete": bool(member.birthday and member.last_name),
        "expiring": expiry_list(snapshot, now, zone, loyalty),
        # Names in the member's language, and every language's ("names") for a page showing another one.
        "coupons": [{"code": c["code"], "reward_id": c["reward_id"], "name": coupon_names(c, language),
                     "names": reward_names(c), "issued_at": c["created_at"]} for c in coupons],
        "campaigns": [{"id": c.campaign_id, "name": c.name_in(language), "names": dict(c.names or {}), "type": c.kind}
                      for c in campaigns],
        "tier": progress.tier.name,
        # The chain's own names per language of every tier that has them (this one, the next, a reward's lowest).
        "tier_names": tier_names(loyalty),
        "next_tier": progress.next_tier.name if progress.next_tier else None,
        "points_to_next": progress.points_to_next,
        "progress_percent": progress.percent,
        "card_label": card.label if card else None,
        "badges": badges(((r.kind, r.amount, r.reason, parse_iso(r.created_at)) for r in snapshot.history),
                         parse_iso(member.created_at), now),
        "recent": [
            {"kind": r.kind, "points": r.points, "amount": r.amount, "reason": r.reason, "at": r.created_at}
            for r in snapshot.history[:RECENT_ROWS]
        ],
        "rewards": [o for o in shown if not o["blockers"]],
        # The rest of the catalogue with its blockers, so a locked reward says why before anything is confirmed.
        "locked_rewards": [{**o, "locked": True} for o in shown if o["blockers"]][:LOCKED_SHOWN],
    }
