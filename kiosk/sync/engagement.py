"""The kiosk's half of the engagement exchange (cloud/engagement.py): report grant use, keep what comes back.

A reply that does not hold together is refused whole (MalformedAnswer) and the kiosk keeps what it had: a
game keeps playing only from grants the cloud did give, and a draw keeps its published hash.
"""
from __future__ import annotations

from typing import Any

from kiosk import protocol
from kiosk.rules.draws import SEED_HEX, seed_hash
from kiosk.rules.games import game_from_mapping
from kiosk.rules.reversals import REVERSAL_KINDS
from kiosk.store import Store
from kiosk.sync.client import CloudClient
from kiosk.sync.errors import MalformedAnswer


def _checked(reply: dict[str, Any]) -> tuple[list, list, list, list, list]:
    try:
        draws, games, wins, grants = (list(reply[k]) for k in ("draws", "games", "wins", "grants"))
        reversals = list(reply.get("reversals", []))
        for r in reversals:
            if not isinstance(r["ref"], str) or r["kind"] not in REVERSAL_KINDS:
                raise ValueError(f"a reversal is {{ref, kind}} with kind one of {sorted(REVERSAL_KINDS)}")
        for d in draws:
            protocol.parse_time(d["starts_at"]), protocol.parse_time(d["ends_at"])
            if not SEED_HEX.fullmatch(d["seed_hash"]) or not isinstance(d["price_points"], int):
                raise ValueError(f"draw {d['draw_id']} has no valid seed hash or price")
            if d.get("seed") is not None and seed_hash(d["seed"]) != d["seed_hash"]:
                raise ValueError(f"draw {d['draw_id']}: the revealed seed does not match its published hash")
        for g in games:
            game_from_mapping(g)
        for w in wins:
            if not all(isinstance(w[k], str) for k in ("draw_id", "member_id", "prize")) or not isinstance(w["rank"], int):
                raise ValueError("a win is {draw_id, member_id, rank, prize}")
        for g in grants:
            protocol.parse_time(g["expires_at"])
            if not isinstance(g["units"], int) or g["units"] < 0 or not isinstance(g["grant_id"], str):
                raise ValueError("a grant is {grant_id, budget_id, kind, units >= 0, expires_at}")
    except (KeyError, TypeError, ValueError, protocol.ProtocolError) as exc:
        raise MalformedAnswer(f"the cloud's engagement reply cannot be used: {exc}", status=200) from None
    return draws, games, wins, grants, reversals


def exchange_engagement(store: Store, client: CloudClient) -> None:
    """One round: tell the cloud what the grants gave and which reversals were applied, store its draws, games,
    wins and grants, and apply the reversals it asks for (acknowledged at the next round)."""
    settled = store.reversals_to_ack()
    reply = client.engagement(store.grant_reports(), settled)
    draws, games, wins, grants, reversals = _checked(reply)
    store.replace_engagement(draws, games, wins, grants)
    store.reversals_acked(settled)
    store.apply_reversals(reversals)
