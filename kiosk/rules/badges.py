"""Badges for milestones, computed from the member's ledger and record: nothing is stored.

first_purchase: an earn row for a purchase; tenth_visit: purchases on ten different days; year_in_club:
a year since joining; referral: a bonus for bringing a new member (the referrer's "referred a new member"
bonus). Pure: the caller passes the rows and `now`.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from kiosk.rules.ledger import LedgerKind, require_aware

BADGES = ("first_purchase", "tenth_visit", "year_in_club", "referral")
REFERRER_REASON = "referred a new member"
VISITS_FOR_BADGE = 10


def badges(rows: Iterable[tuple[str, int, str, datetime]], joined_at: datetime, now: datetime) -> list[str]:
    """The badges earned, in BADGES order; `rows` are (kind, amount, reason, created_at) of the ledger."""
    require_aware("now", now)
    require_aware("joined_at", joined_at)
    visit_days: set = set()
    referred = False
    for kind, amount, reason, at in rows:
        if kind == LedgerKind.EARN and amount > 0:
            visit_days.add(at.date())
        if kind == LedgerKind.BONUS and reason == REFERRER_REASON:
            referred = True
    earned = {
        "first_purchase": bool(visit_days),
        "tenth_visit": len(visit_days) >= VISITS_FOR_BADGE,
        "year_in_club": now - joined_at >= timedelta(days=365),
        "referral": referred,
    }
    return [b for b in BADGES if earned[b]]
