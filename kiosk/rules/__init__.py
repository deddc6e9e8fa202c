"""Loyalty rules as pure functions over plain data: the one import for the service.

No I/O and no clock reads (callers pass `now`/`today`); money (rial) and points are
integers, never floats. The settings live in kiosk.rules.config, ledger arithmetic in
kiosk.rules.ledger and bonuses in kiosk.rules.bonus; all are re-exported here. Rewards
and coupon codes (kiosk.rules.rewards), RFM segments (kiosk.rules.segments) and campaigns
(kiosk.rules.campaigns) are imported from their own modules. See docs/loyalty-rules.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.rules.bonus import (
    birthday_bonus,
    enrollment_bonus,
    profile_completion_bonus,
    referral_bonuses,
    streak_bonus,
    visit_streak,
)
from kiosk.rules.config import DEFAULT_TIERS, LoyaltyRules, Tier, rules_from_mapping
from kiosk.rules.ledger import (
    KINDS,
    LedgerKind,
    Entry,
    apply,
    balance_of,
    check_redeem,
    expiring_points,
    expiry_schedule,
    offline_redeem_allowance,
    open_lots,
    redeemed_points,
    require_int,
    unique_entries,
    window_points,
)

__all__ = [
    "DEFAULT_TIERS", "KINDS", "Entry", "LedgerKind", "LoyaltyRules", "Tier", "TierProgress", "apply",
    "balance_of", "birthday_bonus", "cashback_rial", "check_redeem", "credit_rial",
    "earn_points", "enrollment_bonus", "expiring_points", "expiry_schedule",
    "offline_redeem_allowance", "open_lots", "points_payable", "profile_completion_bonus",
    "redeemed_points", "referral_bonuses", "rules_from_mapping", "streak_bonus", "tier_for",
    "tier_progress", "unique_entries", "visit_streak", "window_points",
]


def _require_non_negative(name: str, value: object, why: str) -> None:
    require_int(name, value)
    if value < 0:  # type: ignore[operator]
        raise ValueError(f"{name} must be >= 0, got {value}; {why}")


def earn_points(amount_rial: int, tier: Tier, rules: LoyaltyRules,
                campaign_percent: int = 100) -> int:
    """Points earned for a purchase of `amount_rial` at `tier`.

    Rounding rule (integers only, always down):
        points = floor(amount_rial * multiplier_percent / (100 * rial_per_point))
    e.g. 129,999 rial at 110% with 10,000 rial per point -> floor(14.29999) = 14 points.
    Rounding happens once on the whole purchase, never per item and never on the
    multiplier alone. A negative amount raises ValueError: a refund is an adjust entry.

    `campaign_percent` (from kiosk.rules.campaigns.campaign_multiplier_percent, 100 = none)
    multiplies on top of the tier, still with a single rounding:
        points = floor(amount * multiplier_percent * campaign_percent
                       / (100 * 100 * rial_per_point))
    """
    _require_non_negative("amount_rial", amount_rial,
                          "record a refund as an adjust entry, not as a negative purchase")
    require_int("campaign_percent", campaign_percent)
    if campaign_percent < 100:
        raise ValueError(f"campaign_percent must be >= 100 (100 = no campaign), "
                         f"got {campaign_percent}")
    return (amount_rial * tier.multiplier_percent * campaign_percent
            // (100 * 100 * rules.rial_per_point))


def tier_for(points_in_window: int, rules: LoyaltyRules) -> Tier:
    """The highest tier whose min_points the member has reached."""
    _require_non_negative("points_in_window", points_in_window,
                          "pass window_points(...) of the member's ledger")
    reached = rules.tiers[0]
    for tier in rules.tiers:
        if tier.min_points <= points_in_window:
            reached = tier
    return reached


@dataclass(frozen=True)
class TierProgress:
    """Where a member stands: `percent` (0..100, floored) of the way from the current
    tier's threshold to the next one; the top tier shows next_tier None and 100%."""

    tier: Tier
    next_tier: Tier | None
    points_to_next: int
    percent: int


def tier_progress(points_in_window: int, rules: LoyaltyRules) -> TierProgress:
    """The member's tier, the next tier and how far along the way they are."""
    tier = tier_for(points_in_window, rules)
    index = rules.tiers.index(tier)
    if index == len(rules.tiers) - 1:
        return TierProgress(tier, None, 0, 100)
    nxt = rules.tiers[index + 1]
    span = nxt.min_points - tier.min_points
    percent = (points_in_window - tier.min_points) * 100 // span
    return TierProgress(tier, nxt, nxt.min_points - points_in_window, percent)


def credit_rial(points: int, rules: LoyaltyRules) -> int:
    """Purchase credit in rial that `points` buy: points * point_value_rial."""
    _require_non_negative("points", points, "pass the points being converted to credit")
    return points * rules.point_value_rial


def cashback_rial(amount_rial: int, rules: LoyaltyRules, tier: Tier | None = None) -> int:
    """Cashback for a purchase: floor(amount_rial * cashback_basis_points / 10,000), at the
    tier's own cashback_basis_points when it sets one."""
    _require_non_negative("amount_rial", amount_rial,
                          "record a refund as an adjust entry, not as a negative purchase")
    rate = rules.cashback_basis_points
    if tier is not None and tier.cashback_basis_points is not None:
        rate = tier.cashback_basis_points
    return amount_rial * rate // 10_000


def points_payable(bill_rial: int, balance: int, rules: LoyaltyRules) -> int:
    """Most points that may pay towards `bill_rial`: within the balance, max_points_percent of
    the bill and never worth more than that share (floored, so points never overpay)."""
    _require_non_negative("bill_rial", bill_rial, "pass the bill in rial")
    share = bill_rial * rules.max_points_percent // 100
    return max(min(balance, share // rules.point_value_rial), 0)
