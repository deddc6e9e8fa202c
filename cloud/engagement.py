"""Instant-win games and the kiosks' engagement exchange: draws, games, wins and budget grants in one call.

``POST /v1/devices/{id}/engagement`` (signed like every device request) carries the kiosk's use of its
grants, ``{"grants": [{"grant_id", "used", "release"}], "settled": [ref]}``; the reply lists the draws (with
their seed hash, and seed and winners once run), the active games, the winners to tell, the kiosk's grants
after topping each game's budget up to its per-kiosk allocation, and the reversals it is to apply
(``[{"ref", "kind"}]``, kiosk.rules.reversals) until it lists them as settled. See docs/draws.md.
"""
from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from cloud import allocations, audit, campaign_budgets, draws
from cloud.db.schema import budgets, engagement_reversals, games
from cloud.errors import BadConfig
from kiosk import protocol
from kiosk.rules.games import game_from_mapping

GAME_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


def create_game(conn: Connection, *, game_id: str, name: str, cost_points: int, odds: list[dict[str, Any]],
                daily_limit: int | None, total_limit: int | None, per_kiosk: int, lease_minutes: int,
                actor: str, now: datetime, time_zone: str = allocations.DEFAULT_ZONE,
                earn_over_rial: int | None = None) -> None:
    """A game with its prize budget (kind game_prizes): the odds are checked as the kiosks will read them.
    With `earn_over_rial`, a purchase of at least that many rial also earns one free play (kiosk.rules.games)."""
    if not GAME_ID.fullmatch(game_id):
        raise BadConfig("a game id is 1-64 lowercase letters, digits and '-', for example spin-spring")
    budget_id = f"game:{game_id}"
    try:
        game_from_mapping({"game_id": game_id, "name": name, "cost_points": cost_points, "odds": odds,
                           "budget_id": budget_id, "earn_over_rial": earn_over_rial})
    except (KeyError, TypeError, ValueError) as exc:
        raise BadConfig(f"this game cannot be played: {exc}") from None
    if conn.execute(select(games.c.game_id).where(games.c.game_id == game_id)).first() is not None:
        raise BadConfig(f"there is already a game {game_id!r}")
    allocations.create_budget(conn, budget_id=budget_id, kind="game_prizes", daily_limit=daily_limit,
                              total_limit=total_limit, per_kiosk=per_kiosk, lease_minutes=lease_minutes, now=now,
                              time_zone=time_zone)
    row = {"game_id": game_id, "name": name.strip()[:100] or game_id, "cost_points": cost_points,
           "odds": json.dumps(odds), "budget_id": budget_id, "active": 1, "created_at": protocol.format_time(now),
           "earn_over_rial": earn_over_rial}
    conn.execute(games.insert().values(**row))
    audit.record(conn, at=row["created_at"], actor=actor, action="game.create", target=game_id,
                 after={**row, "daily_limit": daily_limit, "total_limit": total_limit, "per_kiosk": per_kiosk})


def listing(conn: Connection, now: datetime) -> list[dict[str, Any]]:
    rows = conn.execute(select(games, budgets.c.daily_limit, budgets.c.total_limit, budgets.c.per_kiosk,
                               budgets.c.time_zone)
                        .join(budgets, budgets.c.budget_id == games.c.budget_id).order_by(games.c.game_id)).mappings()
    return [{**dict(r), "odds": json.loads(r["odds"]), "names": json.loads(r["names"]),
             "usage": allocations.usage(conn, r["budget_id"], now)} for r in rows]


def _settled(body: dict[str, Any]) -> list[str]:
    settled = body.get("settled", [])
    if not isinstance(settled, list) or not all(isinstance(r, str) for r in settled) or len(settled) > 1000:
        raise BadConfig('"settled" is a list of at most 1000 reversal refs the kiosk applied')
    return settled


def reversals(conn: Connection, device_id: str, settled: list[str], now: datetime) -> list[dict[str, Any]]:
    """Mark the refs the kiosk applied; the reversals it still has to apply (kiosk.rules.reversals)."""
    if settled:
        conn.execute(update(engagement_reversals).where(
            engagement_reversals.c.device_id == device_id, engagement_reversals.c.ref.in_(settled),
            engagement_reversals.c.settled_at.is_(None)).values(settled_at=protocol.format_time(now)))
    rows = conn.execute(select(engagement_reversals.c.ref, engagement_reversals.c.kind).where(
        engagement_reversals.c.device_id == device_id, engagement_reversals.c.settled_at.is_(None))
        .order_by(engagement_reversals.c.ref).limit(200))
    return [{"ref": ref, "kind": kind} for ref, kind in rows]


def _reports(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict) or not isinstance(body.get("grants", []), list):
        raise BadConfig('send JSON {"grants": [{"grant_id": "...", "used": 0, "release": false}]}')
    reports = body.get("grants", [])
    for r in reports:
        if not (isinstance(r, dict) and isinstance(r.get("grant_id"), str) and isinstance(r.get("used"), int)
                and not isinstance(r.get("used"), bool) and r["used"] >= 0
                and isinstance(r.get("release", False), bool)):
            raise BadConfig("each grant report is {grant_id: text, used: whole number >= 0, release: true/false}")
    return reports


def exchange(db: Any, device_id: str, body: Any, now: datetime, branch: str | None = None) -> dict[str, Any]:
    """One kiosk's round: record its grant use, top its grants up (its games', and its branch's campaign
    budgets'), and say what it should show."""
    reports = _reports(body)
    settled = _settled(body)
    with db.write() as conn:
        allocations.report_use(conn, device_id, reports, now)
        active = [dict(r) for r in conn.execute(select(games).where(games.c.active == 1)
                                                .order_by(games.c.game_id)).mappings()]
        for game in active:
            allocations.top_up(conn, device_id, game["budget_id"], now)
        if branch is not None:
            campaign_budgets.top_up(conn, device_id, branch, now)
        kinds = dict(conn.execute(select(budgets.c.budget_id, budgets.c.kind)).all())
        return {
            "draws": [{k: v for k, v in d.items() if k != "winners"} for d in draws.listing(conn, now)],
            "games": [{"game_id": g["game_id"], "name": g["name"], "names": json.loads(g["names"]),
                       "cost_points": g["cost_points"], "odds": json.loads(g["odds"]), "budget_id": g["budget_id"],
                       "earn_over_rial": g["earn_over_rial"], "since": g["created_at"]}
                      for g in active],
            "wins": draws.wins_for_kiosks(conn),
            "grants": allocations.device_grants(conn, device_id, kinds, {r["grant_id"] for r in reports}),
            "reversals": reversals(conn, device_id, settled, now),
        }
