"""Budgets shared by many kiosks, enforced by allocations (grants) the cloud leases to each kiosk.

A budget has a kind (``game_prizes``: a game's prizes; ``campaign_points``: the points a campaign with a
``budget_points`` may add to purchases chain-wide, budget ``campaign:<campaign id>``) and
limits per day and in total. The cloud grants a kiosk a few units that it may spend offline until the
grant expires; a grant counts against the budget as all its units until the kiosk reports how many it
used (then only those), so however the kiosks go offline the budget is never overspent. Pure functions.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from kiosk.rules.ledger import require_aware, require_int

BUDGET_KINDS = frozenset({"game_prizes", "campaign_points"})
CAMPAIGN_BUDGET_PREFIX = "campaign:"


def campaign_budget_id(campaign_id: str) -> str:
    """The chain-wide budget of a campaign's budget_points (the same id at every branch that runs it)."""
    return CAMPAIGN_BUDGET_PREFIX + campaign_id


def campaign_share(budget_points: int) -> int:
    """Points a kiosk holds at a time of a campaign budget: a tenth, so ten kiosks can give at once, and a kiosk
    offline keeps at most that much from the others."""
    require_int("budget_points", budget_points)
    return max(budget_points // 10, 1)


def left_of(grants: Iterable[Grant], budget_id: str, now: datetime) -> int:
    """Units of `budget_id` this kiosk may still give at `now`, over all its open grants."""
    return sum(g.left(now) for g in grants if g.budget_id == budget_id)


@dataclass(frozen=True)
class Grant:
    grant_id: str
    budget_id: str
    units: int
    used: int
    expires_at: datetime
    closed: bool = False  # the kiosk reported its final use; the rest went back to the budget

    def committed(self) -> int:
        """Units this grant takes from the budget: all of them while it is open, the used ones after."""
        return self.used if self.closed else self.units

    def left(self, now: datetime) -> int:
        """Units the kiosk may still give away at `now` (0 once expired or closed)."""
        require_aware("now", now)
        return 0 if self.closed or now >= self.expires_at else max(self.units - self.used, 0)


def spendable(grants: Iterable[Grant], budget_id: str, now: datetime) -> Grant | None:
    """The open grant of `budget_id` to spend from at `now` (the one expiring first), or None."""
    usable = [g for g in grants if g.budget_id == budget_id and g.left(now) > 0]
    return min(usable, key=lambda g: (g.expires_at, g.grant_id)) if usable else None


def grantable(*, want: int, held: int, daily_limit: int | None, total_limit: int | None,
              committed_today: int, committed_total: int) -> int:
    """How many units to grant a kiosk that holds `held` unspent units and would like `want` in hand."""
    for name, value in (("want", want), ("held", held), ("committed_today", committed_today),
                        ("committed_total", committed_total)):
        require_int(name, value)
    room = max(want - held, 0)
    if daily_limit is not None:
        room = min(room, max(daily_limit - committed_today, 0))
    if total_limit is not None:
        room = min(room, max(total_limit - committed_total, 0))
    return room
