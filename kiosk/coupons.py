"""Redeeming a reward at the kiosk: the catalogue rules (kiosk.rules_rewards) decide, the store debits the
points and issues the coupon in one ledger transaction."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from kiosk.digital_card import qr_data_uri
from kiosk.errors import RewardNotAvailable
from kiosk.rules_rewards import check_reward, coupon_code, reward_from_row, reward_offers
from kiosk.service import KioskService


@dataclass(frozen=True)
class Coupon:
    code: str
    reward_id: str
    reward_name: str
    cost_points: int
    balance: int
    qr: str


def offers(service: KioskService, member_id: str) -> list[dict[str, Any]]:
    """The catalogue as this member sees it today: what they can take, and what is locked and why."""
    store = service.store
    result = reward_offers(
        [reward_from_row(r) for r in store.rewards()], balance=store.balance(member_id).points,
        tier=service.tier_progress(member_id).tier, taken=store.coupons_taken(member_id),
        today=service.now().date(), rules=service.rules,
    )
    return [{"id": o.reward.reward_id, "name": o.reward.name, "cost_points": o.reward.cost_points,
             "blockers": list(o.blockers), "points_short": o.points_short} for o in result]


def check_affordable(service: KioskService, member_id: str, reward_id: str) -> dict[str, Any]:
    """The reward, or InsufficientPoints / RewardNotAvailable / OfflineRedemptionCap before anything is confirmed."""
    row = service.store.reward(reward_id)
    if row is None:
        raise RewardNotAvailable(reward_id, reward_id, "inactive")
    check_reward(reward_from_row(row), balance=service.store.balance(member_id).points,
                 tier=service.tier_progress(member_id).tier,
                 taken=service.store.coupons_taken(member_id).get(reward_id, 0),
                 today=service.now().date(), rules=service.rules)
    if service.link is not None and service.link != "online":
        service.check_offline_allowance(member_id, row["cost_points"])  # raises OfflineRedemptionCap
    return row


def redeem(service: KioskService, member_id: str, reward_id: str) -> Coupon:
    service.settle(member_id)  # expired points are gone before anything is spent
    row = check_affordable(service, member_id, reward_id)
    code = coupon_code(secrets.token_bytes(8))
    recorded = service.store.redeem_reward(member_id, reward_id, code)
    return Coupon(code, reward_id, row["name"], row["cost_points"], recorded.balance, qr_data_uri(code))
