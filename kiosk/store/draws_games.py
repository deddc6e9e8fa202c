"""The store's draws, instant-win plays and budget grants (issue 14; docs/draws.md).

A mixin of :class:`kiosk.store.database.Store`. Paying and recording are one transaction under one
idempotency key: a kiosk killed in between has done neither, and a retried request finds the first one.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import sqlite_utils

from kiosk.clock import iso, parse_iso
from kiosk.rules.coupon_reasons import game_reason
from kiosk.errors import EngagementRefused, InsufficientPoints, UnknownMember
from kiosk.rules.budgets import Grant, spendable
from kiosk.rules.draws import check_entry, check_open, entry_cost
from kiosk.rules.games import Game, outcome
from kiosk.rules.ledger import LedgerKind
from kiosk.store.records import LedgerRow
from kiosk.store.spending import derived_id

DRAW_ENTRY_KIND = "draw_entry"
# Purchases (earn rows) that earned a play of a game and have no play of it yet (kiosk.rules.games).
_FREE_PLAYS = ("SELECT l.event_id FROM ledger l WHERE l.member_id = ? AND l.kind = 'earn' AND l.amount >= ? "
               "AND l.created_at >= ? AND NOT EXISTS (SELECT 1 FROM game_plays p WHERE p.event_id = l.event_id "
               "AND p.game_id = ?) ORDER BY l.created_at, l.event_id")


def _free_play_args(member_id: str, game: Game) -> list[Any]:
    return [member_id, game.earn_over_rial, iso(game.since) if game.since else "", game.game_id]


def _grant(row: Sequence[Any]) -> Grant:
    grant_id, budget_id, units, used, expires_at, closed_at = row
    return Grant(grant_id, budget_id, units, used, parse_iso(expires_at), closed_at is not None)


class DrawsGamesMixin:
    device_id: str
    _clock: Any
    write: Any
    query: Any
    _append: Any
    _enqueue: Any

    # --- what the cloud sent ---------------------------------------------------------

    def replace_engagement(self, draws: list[dict[str, Any]], games: list[dict[str, Any]],
                           wins: list[dict[str, Any]], grants: list[dict[str, Any]]) -> None:
        """The cloud's draws and games (listed ones kept, others dropped), new wins and new or closed grants."""
        def tx(db: sqlite_utils.Database) -> None:
            for table, items, key in (("draws", draws, "draw_id"), ("games", games, "game_id")):
                db.execute(f"DELETE FROM {table}")
                for item in items:
                    db.execute(f"INSERT INTO {table} (id, body) VALUES (?, ?)", [item[key], json.dumps(item)])
            for win in wins:
                db.execute("INSERT OR IGNORE INTO draw_wins (draw_id, member_id, rank, prize) VALUES (?, ?, ?, ?)",
                           [win["draw_id"], win["member_id"], win["rank"], win["prize"]])
            for g in grants:
                db.execute("INSERT OR IGNORE INTO grants (grant_id, budget_id, kind, units, expires_at) "
                           "VALUES (?, ?, ?, ?, ?)", [g["grant_id"], g["budget_id"], g["kind"], g["units"],
                                                      g["expires_at"]])
                if g.get("closed"):
                    db.execute("UPDATE grants SET closed_at = COALESCE(closed_at, ?) WHERE grant_id = ?",
                               [iso(self._clock()), g["grant_id"]])

        self.write(tx)
        self._untold_members = None  # new wins may have come: read again at the next tap

    def draws(self) -> list[dict[str, Any]]:
        return [json.loads(r["body"]) for r in self.query("SELECT body FROM draws ORDER BY id")]

    def games(self) -> list[dict[str, Any]]:
        return [json.loads(r["body"]) for r in self.query("SELECT body FROM games ORDER BY id")]

    # --- draws -----------------------------------------------------------------------

    def buy_draw_entries(self, member_id: str, draw: dict[str, Any], count: int, key: str, *,
                         source: str = "points", free: bool = False,
                         answer_id: str | None = None) -> dict[str, Any]:
        """Debit the entries' points (none when `free`) and record them, once per (member, key).

        `answer_id` names the survey answer that gave free entries, so the chain can take them out of the draw
        if that answer turns out to be a repeat (kiosk.rules.reversals).

        Returns the entry row with ``balance`` and ``applied`` (False for a repeat under the same key).
        """
        entry_id = derived_id("draw-entry", member_id, key)
        now = self._clock()
        stamp = iso(now)

        def tx(db: sqlite_utils.Database) -> dict[str, Any]:
            balance = db.execute("SELECT points FROM balances WHERE member_id = ?", [member_id]).fetchone()
            if balance is None:
                raise UnknownMember(f"no member with id {member_id}")
            known = db.execute("SELECT draw_id, entries, points, source, created_at FROM draw_entries "
                               "WHERE entry_id = ?", [entry_id]).fetchone()
            if known is not None:
                return {"entry_id": entry_id, "draw_id": known[0], "entries": known[1], "points": known[2],
                        "source": known[3], "created_at": known[4], "balance": balance[0], "applied": False}
            window = {"starts_at": parse_iso(draw["starts_at"]), "ends_at": parse_iso(draw["ends_at"]), "now": now}
            if free:
                check_open(**window)
                entry_cost(draw["price_points"], count)  # the same limits on the count
                points = 0
            else:
                points = check_entry(balance=balance[0], price_points=draw["price_points"], count=count, **window)
            left = balance[0]
            if points:
                left = self._append(db, LedgerRow(
                    event_id=derived_id("draw-pay", entry_id), member_id=member_id, kind=LedgerKind.REDEEM,
                    points=-points, amount=0, reason=f"draw {draw['draw_id']}: {count} entries", receipt_id=None,
                    staff_id=None, device_id=self.device_id, created_at=stamp))
            row = {"entry_id": entry_id, "draw_id": draw["draw_id"], "member_id": member_id, "entries": count,
                   "points": points, "source": source, "created_at": stamp}
            db["draw_entries"].insert(row)
            self._enqueue(db, DRAW_ENTRY_KIND, {"member_id": member_id, "draw_id": draw["draw_id"],
                                                "entries": count, "source": source,
                                                **({"answer_id": answer_id} if answer_id else {})},
                          stamp, event_id=entry_id)
            return {**row, "balance": left, "applied": True}

        return self.write(tx)

    def draw_entries_of(self, member_id: str) -> dict[str, int]:
        # Entries the chain took out of its draw (a reversal applied here) are held no more.
        rows = self.query("SELECT draw_id, SUM(entries) AS n FROM draw_entries WHERE member_id = ? "
                          "AND entry_id NOT IN (SELECT ref FROM engagement_reversals) GROUP BY draw_id", (member_id,))
        return {r["draw_id"]: r["n"] for r in rows}

    def _untold(self) -> set[str]:
        """Members with a win not told yet, read once and kept until the cloud sends wins again: a tap stays at
        its four reads (benchmarks/tap_reads.py) unless the member has something to hear."""
        untold = getattr(self, "_untold_members", None)
        if untold is None:
            untold = {r[0] for r in self.query("SELECT DISTINCT member_id FROM draw_wins WHERE told_at IS NULL")}
            self._untold_members = untold
        return untold

    def draw_wins_to_tell(self, member_id: str) -> list[dict[str, Any]]:
        if member_id not in self._untold():
            return []
        rows = self.query("SELECT w.draw_id, w.rank, w.prize, COALESCE(json_extract(d.body, '$.name'), w.draw_id) "
                          "AS name, json_extract(d.body, '$.names') AS names FROM draw_wins w "
                          "LEFT JOIN draws d ON d.id = w.draw_id WHERE w.member_id = ? AND w.told_at IS NULL "
                          "ORDER BY w.draw_id", (member_id,))
        return [{**dict(r), "names": json.loads(r["names"] or "{}")} for r in rows]

    def draw_wins_told(self, member_id: str, draw_ids: Sequence[str]) -> None:
        stamp = iso(self._clock())

        def tx(db: sqlite_utils.Database) -> None:
            for draw_id in draw_ids:
                db.execute("UPDATE draw_wins SET told_at = ? WHERE member_id = ? AND draw_id = ? AND told_at IS NULL",
                           [stamp, member_id, draw_id])

        self.write(tx)
        self._untold().discard(member_id)

    # --- grants ----------------------------------------------------------------------

    def grants(self) -> list[Grant]:
        rows = self.query("SELECT grant_id, budget_id, units, used, expires_at, closed_at FROM grants "
                          "ORDER BY grant_id")
        return [_grant(tuple(r)) for r in rows]

    def grant_reports(self) -> list[dict[str, Any]]:
        """What the cloud is told at sync: every grant not yet closed, with its use and whether it expired."""
        now = self._clock()
        return [{"grant_id": g.grant_id, "used": g.used, "release": now >= g.expires_at}
                for g in self.grants() if not g.closed]

    # --- the game --------------------------------------------------------------------

    def free_plays(self, member_id: str, game: Game) -> list[str]:
        """The member's purchases that earned a play of `game` not played yet (their earn event ids, oldest first)."""
        if game.earn_over_rial is None:
            return []
        return [r[0] for r in self.query(_FREE_PLAYS, tuple(_free_play_args(member_id, game)))]

    def play_game(self, member_id: str, game: Game, play_id: str, roll: Callable[[], int],
                  coupon_code: Callable[[], str], *, earned: bool = False) -> dict[str, Any]:
        """Pay for one play and settle it, once per play id: (play row with balance and applied).

        Refused (EngagementRefused "no_prizes_left") before anything is paid when this kiosk holds no
        prize of the game's budget that it may still give away; a win spends one unit of that grant and
        issues the reward's coupon in the same transaction. `earned` plays one the member's purchases
        earned (kiosk.rules.games): no points, and the purchase's earn event is the play's ledger event;
        EngagementRefused "no_free_play" when none is left.
        """
        now = self._clock()
        stamp = iso(now)
        pay_id = derived_id("game-pay", member_id, play_id)

        def tx(db: sqlite_utils.Database) -> dict[str, Any]:
            event_id = pay_id  # the play's ledger event: its redeem row, or the earning purchase's
            balance = db.execute("SELECT points FROM balances WHERE member_id = ?", [member_id]).fetchone()
            if balance is None:
                raise UnknownMember(f"no member with id {member_id}")
            known = db.execute("SELECT game_id, reward_id, coupon, created_at FROM game_plays WHERE play_id = ?",
                               [play_id]).fetchone()
            if known is not None:
                return {"play_id": play_id, "game_id": known[0], "reward_id": known[1], "coupon": known[2],
                        "created_at": known[3], "balance": balance[0], "applied": False}
            rows = db.execute("SELECT grant_id, budget_id, units, used, expires_at, closed_at FROM grants "
                              "WHERE budget_id = ?", [game.budget_id]).fetchall()
            grant = spendable([_grant(r) for r in rows], game.budget_id, now)
            if grant is None:
                raise EngagementRefused("no_prizes_left", f"this kiosk has no prize of game {game.game_id} left "
                                                          f"to give; try again after it syncs with the cloud")
            if earned:
                unused = db.execute(_FREE_PLAYS, _free_play_args(member_id, game)).fetchall() \
                    if game.earn_over_rial is not None else []
                if not unused:
                    raise EngagementRefused("no_free_play", f"no purchase earned a play of game {game.game_id}")
                event_id, left = unused[0][0], balance[0]
            elif balance[0] < game.cost_points:
                raise InsufficientPoints(game.cost_points, balance[0])
            reward_id = outcome(game.odds, roll())
            if reward_id is not None and db.execute("SELECT 1 FROM rewards WHERE id = ?", [reward_id]).fetchone() is None:
                reward_id = None  # a prize the catalogue does not hold cannot be given
            code = coupon_code() if reward_id is not None else None
            if not earned:
                # The reason names the coupon won, so the cloud texts its code as it does a redeemed reward's.
                left = self._append(db, LedgerRow(
                    event_id=event_id, member_id=member_id, kind=LedgerKind.REDEEM, points=-game.cost_points,
                    amount=0, reason=game_reason(game.game_id, (reward_id, code) if code else None),
                    receipt_id=None, staff_id=None, device_id=self.device_id, created_at=stamp))
            if reward_id is not None:
                db.execute("UPDATE grants SET used = used + 1 WHERE grant_id = ?", [grant.grant_id])
                db["coupons"].insert({"code": code, "reward_id": reward_id, "member_id": member_id,
                                      "event_id": event_id, "created_at": stamp, "used_at": None})
            play = {"play_id": play_id, "game_id": game.game_id, "member_id": member_id, "event_id": event_id,
                    "grant_id": grant.grant_id if reward_id else None, "reward_id": reward_id, "coupon": code,
                    "created_at": stamp}
            db["game_plays"].insert(play)
            return {**play, "balance": left, "applied": True}

        return self.write(tx)

