"""What the idle screen shows in turn: the chain's campaigns open to every shopper today, and its rewards.

Pure: the service hands in its campaigns, the reward rows and the shop's today; the page gets plain lines in
one language. Targeted campaigns (a tier, a segment, chosen members) are not advertised to everybody.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Iterable, Mapping

from kiosk.member_view import reward_names
from kiosk.rules.campaigns import Campaign, is_running
from kiosk.rules.names import pick_name

MAX_SLIDES = 6  # a loop a passer-by can follow: a few campaigns, then the cheapest rewards


def attract_offers(campaigns: Iterable[Campaign], rewards: Iterable[Mapping[str, Any]], today: date,
                   language: str) -> list[dict[str, Any]]:
    """Campaigns for everyone running today (ending soonest first), then rewards (cheapest first)."""
    open_to_all = [c for c in campaigns if is_running(c, today)
                   and not (c.target_tiers or c.target_segments or c.target_members)]
    offers: list[dict[str, Any]] = [
        {"kind": "campaign", "name": pick_name(c.names, language) if c.names else c.name, "ends_on": c.ends_on}
        for c in sorted(open_to_all, key=lambda c: (c.ends_on, c.campaign_id))]
    offers += [{"kind": "reward", "name": pick_name(reward_names(r), language), "points": r["cost_points"]}
               for r in sorted(rewards, key=lambda r: (r["cost_points"], r["id"])) if _for_everyone_today(r, today)]
    return offers[:MAX_SLIDES]


def _for_everyone_today(reward: Mapping[str, Any], today: date) -> bool:
    day = today.isoformat()
    return (not reward.get("min_tier") and (reward.get("starts_on") or day) <= day
            and (reward.get("ends_on") or day) >= day)
