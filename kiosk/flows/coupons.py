"""Redeeming a reward at the kiosk: the catalogue rules (kiosk.rules.rewards) decide, the store debits the
points and issues the coupon in one ledger transaction."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from kiosk.errors import RewardNotAvailable
from kiosk.member_view import reward_names, tier_progress
from kiosk.qr import qr_data_uri
from kiosk.rules.rewards import check_reward, coupon_code, reward_from_row
from kiosk.service import KioskService
from kiosk.store import MemberSnapshot
from kiosk.ui_events import UiEvent


@dataclass(frozen=True)
class Coupon:
    code: str
    reward_id: str
    reward_name: str
    reward_names: dict[str, str]
    cost_points: int
    balance: int
    qr: str


def check_affordable(service: KioskService, member_id: str, reward_id: str,
                     snapshot: MemberSnapshot | None = None) -> dict[str, Any]:
    """The reward, or InsufficientPoints / RewardNotAvailable / OfflineRedemptionCap before anything is confirmed."""
    row = service.store.reward(reward_id)
    if row is None:
        raise RewardNotAvailable(reward_id, reward_id, "inactive")
    snapshot = snapshot or service.store.member_snapshot(member_id)
    now = service.now()
    check_reward(reward_from_row(row), balance=snapshot.balance.points,
                 tier=tier_progress(snapshot, now, service.rules).tier,
                 taken=service.store.coupons_taken(member_id).get(reward_id, 0),
                 today=now.date(), rules=service.rules)
    if service.link is not None and service.link != "online":
        service.check_offline_allowance(member_id, row["cost_points"])  # raises OfflineRedemptionCap
    return row


def redeem(service: KioskService, member_id: str, reward_id: str) -> Coupon:
    snapshot = service.settle(member_id)  # expired points are gone before anything is spent
    row = check_affordable(service, member_id, reward_id, snapshot)
    code = coupon_code(secrets.token_bytes(8))
    recorded = service.store.redeem_reward(member_id, reward_id, code)
    service.emit(UiEvent.REDEEMED, {"reward_id": reward_id})  # the page has its coupon in the reply; the lights hear
    return Coupon(code, reward_id, row["name"], reward_names(row), row["cost_points"], recorded.balance, qr_data_uri(code))
