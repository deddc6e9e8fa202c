"""While the cloud link is down, cap redemptions per member per day.

Offline, the kiosk cannot see what the member spent at other branches today, so the
chain limits the damage of a double spend: at most `cap` redemptions per member per
local day until the link is back. The service calls `check_offline_redemption` before
`store.record(..., "redeem", ...)`; online, it never refuses.
"""

from __future__ import annotations

from datetime import datetime, time, tzinfo

from kiosk.errors import KioskError
from kiosk.store import Store, iso
from kiosk.sync_policy import LinkState


class OfflineRedemptionCap(KioskError):
    """The member reached today's offline redemption limit."""

    def __init__(self, cap: int) -> None:
        super().__init__(
            f"the kiosk is offline and this member has already redeemed {cap} time(s) today, the offline limit; "
            "please try again when the kiosk is back online or ask staff"
        )
        self.cap = cap


def day_start(now: datetime, zone: tzinfo) -> datetime:
    """Midnight of `now`'s day in the shop's time zone (a 'day' is the shop's day)."""
    local = now.astimezone(zone)
    return datetime.combine(local.date(), time(0), tzinfo=zone)


def redemptions_since(store: Store, member_id: str, since: datetime) -> int:
    rows = store.query(
        "SELECT COUNT(*) FROM ledger WHERE member_id = ? AND kind = 'redeem' AND created_at >= ?",
        (member_id, iso(since)),
    )
    return int(rows[0][0])


def offline_redemption_allowed(link: LinkState, redeemed_today: int, cap: int) -> bool:
    """Pure rule: online always; offline or degraded only below the cap (cap 0 = none offline)."""
    return link is LinkState.ONLINE or redeemed_today < cap


def check_offline_redemption(
    store: Store, member_id: str, link: LinkState, cap: int, now: datetime, zone: tzinfo
) -> None:
    """Raise OfflineRedemptionCap when this redemption would pass today's offline limit."""
    if link is LinkState.ONLINE:
        return
    today = redemptions_since(store, member_id, day_start(now, zone))
    if not offline_redemption_allowed(link, today, cap):
        raise OfflineRedemptionCap(cap)

