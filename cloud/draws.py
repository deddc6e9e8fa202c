"""Draws in the cloud: created with a secret seed whose hash is published at once, run after they close.

Running a draw reveals the seed and stores the winners computed by kiosk.rules.draws from the seed and the
sorted entries; running it again recomputes the same winners (and stores nothing new). The published
document (:func:`published`) holds everything `kiosk-cloud draws verify` needs. See docs/draws.md.
"""
from __future__ import annotations

import json
import re
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, text, update

from cloud import audit
from cloud.db.schema import draws
from cloud.errors import BadConfig
from kiosk import protocol
from kiosk.rules.draws import draw_winners, seed_hash, tickets
from kiosk.rules.reversals import ENTRY_REVERSALS

DRAW_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
# Entries in by the run; a late one or a repeated survey's (kiosk.rules.reversals ENTRY_REVERSALS) is left out,
# a late one even in a race with the run's clock.
_ENTRIES = text("SELECT event_id, member_id, payload FROM events WHERE kind = 'draw_entry' AND received_at <= :by "
                "AND event_id NOT IN (SELECT ref FROM engagement_reversals "
                f"WHERE kind IN ({', '.join(repr(k) for k in ENTRY_REVERSALS)})) ORDER BY event_id")


def create(conn: Connection, *, draw_id: str, name: str, prizes: list[str], price_points: int, starts_at: datetime,
           ends_at: datetime, free_per_purchase: int = 0, free_per_survey: int = 0, names: dict[str, str] | None = None,
           actor: str, now: datetime) -> str:
    """A new draw and its committed seed; returns the seed's hash (the seed itself stays in the database)."""
    if not DRAW_ID.fullmatch(draw_id):
        raise BadConfig("a draw id is 1-64 lowercase letters, digits and '-', for example spring-2026")
    prizes = [p.strip() for p in prizes if p.strip()]
    if not name.strip() or not prizes:
        raise BadConfig("a draw needs a name and at least one prize")
    if price_points < 1 or free_per_purchase < 0 or free_per_survey < 0:
        raise BadConfig("an entry costs at least 1 point; free entries are 0 or more")
    if ends_at <= starts_at:
        raise BadConfig("a draw must end after it starts")
    if conn.execute(select(draws.c.draw_id).where(draws.c.draw_id == draw_id)).first() is not None:
        raise BadConfig(f"there is already a draw {draw_id!r}")
    seed = secrets.token_hex(32)
    committed = seed_hash(seed)
    row = {"draw_id": draw_id, "name": name.strip()[:100], "names": json.dumps(names or {}, ensure_ascii=False),
           "prizes": json.dumps(prizes, ensure_ascii=False), "price_points": price_points,
           "free_per_purchase": free_per_purchase, "free_per_survey": free_per_survey,
           "starts_at": protocol.format_time(starts_at), "ends_at": protocol.format_time(ends_at),
           "seed": seed, "seed_hash": committed, "created_by": actor, "created_at": protocol.format_time(now)}
    conn.execute(draws.insert().values(**row))
    audit.record(conn, at=row["created_at"], actor=actor, action="draw.create", target=draw_id,
                 after={k: v for k, v in row.items() if k != "seed"})
    return committed


def _public(row: Any, now: datetime) -> dict[str, Any]:
    """A draw as kiosks and the console see it: the seed only once the draw was run."""
    return {"draw_id": row["draw_id"], "name": row["name"], "names": json.loads(row["names"]),
            "prizes": json.loads(row["prizes"]), "price_points": row["price_points"],
            "free_per_purchase": row["free_per_purchase"], "free_per_survey": row["free_per_survey"],
            "starts_at": row["starts_at"], "ends_at": row["ends_at"], "seed_hash": row["seed_hash"],
            "seed": row["seed"] if row["run_at"] else None, "run_at": row["run_at"],
            "open": protocol.parse_time(row["starts_at"]) <= now < protocol.parse_time(row["ends_at"])}


def listing(conn: Connection, now: datetime) -> list[dict[str, Any]]:
    rows = conn.execute(select(draws).order_by(draws.c.ends_at.desc(), draws.c.draw_id)).mappings()
    return [{**_public(r, now), "winners": json.loads(r["winners"]) if r["winners"] else None} for r in rows]


def entries(conn: Connection, draw_id: str, received_by: str) -> list[tuple[str, str, int]]:
    """(entry_id, member_id, count) of every entry the cloud had received for the draw by `received_by`.

    A run counts what had arrived when it ran, so its published list stays the list it was computed from.
    """
    out = []
    for event_id, member_id, payload in conn.execute(_ENTRIES, {"by": received_by}):
        body = json.loads(payload)
        if body.get("draw_id") == draw_id:
            out.append((event_id, member_id, int(body["entries"])))
    return out


def run(conn: Connection, draw_id: str, *, actor: str, now: datetime) -> list[dict[str, Any]]:
    """Reveal the seed and store the winners (after the draw closed); a second run returns the same winners."""
    row = conn.execute(select(draws).where(draws.c.draw_id == draw_id).with_for_update()).mappings().first()
    if row is None:
        raise BadConfig(f"no draw {draw_id!r}")
    if now < protocol.parse_time(row["ends_at"]):
        raise BadConfig(f"draw {draw_id} takes entries until {row['ends_at']}; run it after it closes")
    if row["winners"] is not None:
        return json.loads(row["winners"])  # already run: the published result stands
    listed = tickets(entries(conn, draw_id, protocol.format_time(now)))
    winners = [w.__dict__ for w in draw_winners(row["seed"], listed, json.loads(row["prizes"]))] if listed else []
    conn.execute(update(draws).where(draws.c.draw_id == draw_id).values(
        run_at=protocol.format_time(now), winners=json.dumps(winners)))
    audit.record(conn, at=protocol.format_time(now), actor=actor, action="draw.run", target=draw_id,
                 after={"seed": row["seed"], "tickets": len(listed), "winners": winners})
    return winners


def published(conn: Connection, draw_id: str, now: datetime) -> dict[str, Any]:
    """What anyone needs to check a run draw: its seed and hash, prizes, the entries and the winners."""
    row = conn.execute(select(draws).where(draws.c.draw_id == draw_id)).mappings().first()
    if row is None:
        raise BadConfig(f"no draw {draw_id!r}")
    if row["run_at"] is None:
        raise BadConfig(f"draw {draw_id} has not been run; its seed is revealed when it is")
    listed = [{"entry_id": e, "member_id": m, "entries": n} for e, m, n in sorted(entries(conn, draw_id, row["run_at"]))]
    return {**_public(row, now), "entries": listed,
            "winners": json.loads(row["winners"]) if row["winners"] else None}


def verify(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Recompute the winners of a published draw; BadConfig when the seed, its hash or the winners disagree."""
    try:
        seed, committed = document["seed"], document["seed_hash"]
        listed = tickets((e["entry_id"], e["member_id"], int(e["entries"])) for e in document["entries"])
        prizes = list(document["prizes"])
    except (KeyError, TypeError, ValueError) as exc:
        raise BadConfig(f"not a published draw (seed, seed_hash, prizes, entries): {exc}") from None
    if not isinstance(seed, str):
        raise BadConfig("the draw has not been run: its seed is not revealed yet")
    try:
        if seed_hash(seed) != committed:
            raise BadConfig("the revealed seed does not hash to the published seed_hash")
    except ValueError as exc:
        raise BadConfig(str(exc)) from None
    winners = [w.__dict__ for w in draw_winners(seed, listed, prizes)] if listed else []
    if document.get("winners") is not None and document["winners"] != winners:
        raise BadConfig("the published winners differ from the winners recomputed from the seed and entries")
    return winners


def wins_for_kiosks(conn: Connection) -> list[dict[str, Any]]:
    """Every winner of every run draw, for the kiosks to tell at the winner's next tap."""
    out = []
    for draw_id, winners in conn.execute(select(draws.c.draw_id, draws.c.winners).where(draws.c.winners.isnot(None))):
        out.extend({"draw_id": draw_id, "member_id": w["member_id"], "rank": w["rank"], "prize": w["prize"]}
                   for w in json.loads(winners))
    return out

