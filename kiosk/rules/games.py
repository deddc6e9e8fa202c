"""The instant-win game: the chain's odds decide a play, the budget's grant decides whether a prize may go.

Odds are chances per 10,000 plays for each prize (a reward of the catalogue, whose coupon the winner
gets); what is left to 10,000 loses. Pure: the caller passes the random draw (0..9999).

A play costs points, or is earned: a purchase of at least ``earn_over_rial`` made since the game started
earns one play of it. The earned play's ledger event is that purchase's earn row (no new row, no points), so
a prize coupon always has a ledger event behind it and every balance still sums to its ledger.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
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
    earn_over_rial: int | None = None  # a purchase of at least this earns one free play; None: plays cost points
    since: datetime | None = None  # only purchases from the game's start earn plays


def earns_play(game: Game, amount_rial: int, at: datetime) -> bool:
    """Whether a purchase of `amount_rial` at `at` earns one play of `game`."""
    return (game.earn_over_rial is not None and amount_rial >= game.earn_over_rial
            and (game.since is None or at >= game.since))


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
    earn = raw.get("earn_over_rial")
    if earn is not None:
        require_int("earn_over_rial", earn)
        if earn < 1:
            raise ValueError(f"a purchase that earns a play is at least 1 rial, got {earn}")
    since = datetime.fromisoformat(str(raw["since"])) if raw.get("since") else None
    if since is not None and since.tzinfo is None:
        raise ValueError(f"a game's start needs its time zone, got {raw['since']!r}")
    names = raw.get("names") or {}
    return Game(str(raw["game_id"]), str(raw.get("name") or raw["game_id"]), dict(names), cost,
                odds, str(raw["budget_id"]), earn, since)


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
