"""Draws and the instant-win game at the kiosk (issue 14): what a member may enter or play, buying, playing.

Points are spent as redeem ledger rows through the store's one-transaction writes (kiosk.store.engagement);
a prize is a coupon of the catalogue, used at the till like any other. `free_entries` is the hook that gives
a draw's free entries for a purchase or an answered survey, once per (member, source, key).
"""
from __future__ import annotations

import re
import secrets
from typing import Any

from kiosk.clock import parse_iso
from kiosk.errors import EngagementRefused
from kiosk.member_view import reward_names
from kiosk.qr import qr_data_uri
from kiosk.rules.games import ODDS_SCALE, game_from_mapping
from kiosk.rules.rewards import coupon_code
from kiosk.service import KioskService
from kiosk.ui_events import UiEvent

KEY = re.compile(r"[A-Za-z0-9-]{8,64}")
FREE_SOURCES = {"purchase": "free_per_purchase", "survey": "free_per_survey"}


def _key(value: Any) -> str:
    if not isinstance(value, str) or not KEY.fullmatch(value):
        raise EngagementRefused("bad_request", "send an idempotency key of 8-64 letters, digits or '-'")
    return value


class EngagementDesk:
    def __init__(self, service: KioskService) -> None:
        self._service = service

    def _open_draws(self) -> list[dict[str, Any]]:
        now = self._service.now()
        return [d for d in self._service.store.draws()
                if parse_iso(d["starts_at"]) <= now < parse_iso(d["ends_at"])]

    def offers(self, member_id: str) -> dict[str, Any]:
        """The open draws (with the member's entries and the published seed hash) and the games, for the page."""
        store = self._service.store
        held = store.draw_entries_of(member_id)
        now = self._service.now()
        grants = store.grants()
        return {
            "points": store.balance(member_id).points,
            "draws": [{"draw_id": d["draw_id"], "name": d["name"], "names": d.get("names") or {},
                       "prizes": d["prizes"], "price_points": d["price_points"], "ends_at": d["ends_at"],
                       "seed_hash": d["seed_hash"], "entries": held.get(d["draw_id"], 0)}
                      for d in self._open_draws()],
            "games": [{"game_id": g["game_id"], "name": g["name"], "names": g.get("names") or {},
                       "cost_points": g["cost_points"],
                       "free_plays": len(store.free_plays(member_id, game_from_mapping(g))),
                       "prizes_left": sum(x.left(now) for x in grants if x.budget_id == g["budget_id"])}
                      for g in store.games()],
        }

    def buy_entries(self, member_id: str, draw_id: Any, count: Any, key: Any) -> dict[str, Any]:
        """Spend points on entries, once per key; InsufficientPoints or EngagementRefused say why not."""
        key = _key(key)
        draw = next((d for d in self._service.store.draws() if d["draw_id"] == draw_id), None)
        if draw is None:
            raise EngagementRefused("draw_closed", f"no open draw {draw_id!r} at this kiosk")
        self._service.settle(member_id)  # expired points are gone before anything is spent
        bought = self._service.store.buy_draw_entries(member_id, draw, count, key)
        self._service.emit(UiEvent.REDEEMED, {"draw_id": draw["draw_id"]})
        return {**bought, "total": self._service.store.draw_entries_of(member_id).get(draw["draw_id"], 0)}

    def free_entries(self, member_id: str, source: str, key: str) -> list[dict[str, Any]]:
        """Every open draw's free entries for `source` ("purchase" or "survey"), once per (member, source, key)."""
        field = FREE_SOURCES[source]
        given = []
        for draw in self._open_draws():
            if draw.get(field, 0) > 0:
                given.append(self._service.store.buy_draw_entries(
                    member_id, draw, draw[field], f"{source}:{draw['draw_id']}:{key}", source=source, free=True,
                    answer_id=key if source == "survey" else None))
        return given

    def play(self, member_id: str, game_id: Any, play_id: Any, earned: bool = False) -> dict[str, Any]:
        """One paid play, or with `earned` one a purchase earned; a win's coupon (code and QR) comes back."""
        play_id = _key(play_id)
        raw = next((g for g in self._service.store.games() if g["game_id"] == game_id), None)
        if raw is None:
            raise EngagementRefused("no_game", f"no game {game_id!r} at this kiosk")
        game = game_from_mapping(raw)
        self._service.settle(member_id)
        played = self._service.store.play_game(member_id, game, play_id, lambda: secrets.randbelow(ODDS_SCALE),
                                               lambda: coupon_code(secrets.token_bytes(8)), earned=earned)
        won = played["reward_id"] is not None
        reward = self._service.store.reward(played["reward_id"]) if won else None
        self._service.emit(UiEvent.REDEEMED, {"game_id": game.game_id, "won": won})
        return {"won": won, "code": played["coupon"], "qr": qr_data_uri(played["coupon"]) if won else None,
                "prize": reward["name"] if reward else None, "prize_names": reward_names(reward) if reward else {},
                "balance": played["balance"],
                "applied": played["applied"]}
