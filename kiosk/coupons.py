"""Redeeming a reward: points debited and a coupon code issued in one ledger transaction."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from kiosk import rules
from kiosk.digital_card import qr_data_uri
from kiosk.errors import UnknownReward
from kiosk.service import KioskService

# No 0/O or 1/I: a cashier reads the code aloud or types it.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_coupon_code(length: int = 10) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


@dataclass(frozen=True)
class Coupon:
    code: str
    reward_id: str
    reward_name: str
    cost_points: int
    balance: int
    qr: str


def check_affordable(service: KioskService, member_id: str, reward_id: str) -> dict:
    """The reward, or InsufficientPoints/UnknownReward before the shopper confirms anything."""
    reward = service.store.reward(reward_id)
    if reward is None:
        raise UnknownReward(f"no active reward {reward_id!r}")
    rules.check_redeem(service.store.balance(member_id).points, reward["cost_points"])
    return reward


def redeem(service: KioskService, member_id: str, reward_id: str) -> Coupon:
    reward = check_affordable(service, member_id, reward_id)
    code = new_coupon_code()
    recorded = service.store.redeem_reward(member_id, reward_id, code)
    return Coupon(code, reward_id, reward["name"], reward["cost_points"], recorded.balance, qr_data_uri(code))
