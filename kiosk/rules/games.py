"""The instant-win game: the chain's odds decide a play, the budget's grant decides whether a prize may go.

Odds are chances per 10,000 plays for each prize (a reward of the catalogue, whose coupon the winner
gets); what is left to 10,000 loses. Pure: the caller passes the random draw (0..9999).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kiosk.rules.ledger import require_int

ODDS_SCALE = 10_000


@dataclass(frozen=True)
class Game:
    game_id: str
    name: str
    names: Mapping[str, str]
    cost_points: int
    odds: tuple[tuple[str, int], ...]  # (reward_id, chances per ODDS_SCALE)
    budget_id: str


def game_from_mapping(raw: Mapping[str, Any]) -> Game:
    """A game as the cloud sends it; ValueError naming the field when it cannot be played."""
    odds = tuple((str(o["reward_id"]), o["chance"]) for o in raw.get("odds", ()))
    for _, chance in odds:
        require_int("chance", chance)
        if chance < 0:
            raise ValueError(f"a prize's chance is 0..{ODDS_SCALE} per {ODDS_SCALE} plays, got {chance}")
    if sum(c for _, c in odds) > ODDS_SCALE:
        raise ValueError(f"the prizes' chances add up to more than {ODDS_SCALE} per {ODDS_SCALE} plays")
    cost = raw.get("cost_points")
    require_int("cost_points", cost)
    if cost < 1:
        raise ValueError(f"a play costs at least 1 point, got {cost}")
    names = raw.get("names") or {}
    return Game(str(raw["game_id"]), str(raw.get("name") or raw["game_id"]), dict(names), cost,
                odds, str(raw["budget_id"]))


def outcome(odds: Sequence[tuple[str, int]], roll: int) -> str | None:
    """The reward won by a roll of 0..ODDS_SCALE-1, or None for no prize."""
    require_int("roll", roll)
    if not 0 <= roll < ODDS_SCALE:
        raise ValueError(f"roll must be 0..{ODDS_SCALE - 1}, got {roll}")
    edge = 0
    for reward_id, chance in odds:
        edge += chance
        if roll < edge:
            return reward_id
    return None
