"""The ledger reasons that name a coupon, written by the kiosk and read back by the cloud.

A reward redemption's ledger reason names the coupon it issued; the cloud reads it back to register the
coupon chain-wide (cloud/wallet.py) and to text its code (cloud/messages/automations.py). A game won at the
kiosk names its coupon the same way after the game: "game spin; reward coffee: coupon X".
"""
from __future__ import annotations

import re

_COUPON_REASON = re.compile(r"(?:game \S+; )?reward (?P<reward>\S+): coupon (?P<code>\S+)")


def coupon_reason(reward_id: str, code: str) -> str:
    """The reason of the redeem event that issues coupon `code` for `reward_id`."""
    return f"reward {reward_id}: coupon {code}"


def game_reason(game_id: str, won: tuple[str, str] | None = None) -> str:
    """The reason of a game play's redeem event; `won` is the (reward id, coupon code) the play won, if any."""
    return f"game {game_id}" if won is None else f"game {game_id}; {coupon_reason(*won)}"


def coupon_in_reason(reason: str | None) -> tuple[str, str] | None:
    """(reward id, coupon code) from a redeem event's reason; None when it issued no coupon."""
    found = _COUPON_REASON.fullmatch(reason or "")
    return (found["reward"], found["code"]) if found else None
