"""The winners of a draw are texted: one message per (draw, member) in the member's language (docs/draws.md).

A draw that has been run holds its winners (cloud/draws.py); each winner with marketing consent is texted
the draw's name and prize(s) once, however often `jobs run` runs: the dedupe key is the draw and the
member, so a member who won two prizes of one draw gets one text naming both.
"""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cloud.db.schema import draws
from cloud.messages import tables as t
from cloud.messages.queue import MessageQueue, Outgoing
from cloud.messages.rules import MARKETING, dedupe_key, localise_digits
from cloud.messages.settings import LANGUAGES, MessageSettings
from cloud.messages.values import link_maker, render_for

_POINTS = sa.text("SELECT member_id, points FROM balances")
_SEPARATOR = {"fa": "، ", "ar": "، ", "en": ", "}


def queue_winner_texts(engine: Engine, queue: MessageQueue, settings: MessageSettings, now: datetime) -> int:
    """Queue the texts of every run draw's consenting winners not texted yet; how many were queued."""
    with engine.begin() as conn:
        run = conn.execute(sa.select(draws.c.draw_id, draws.c.name, draws.c.names, draws.c.winners)
                           .where(draws.c.winners.isnot(None)).order_by(draws.c.run_at, draws.c.draw_id)).all()
        prizes: dict[tuple[str, str], list[str]] = {}
        names: dict[str, tuple[str, dict[str, str]]] = {}
        for draw_id, name, by_language, winners in run:
            names[draw_id] = (name, json.loads(by_language or "{}"))
            for winner in sorted(json.loads(winners), key=lambda w: w["rank"]):
                prizes.setdefault((draw_id, winner["member_id"]), []).append(winner["prize"])
        if not prizes:
            return 0
        wanted = sorted({member for _, member in prizes})
        contacts = {r.member_id: r for r in conn.execute(
            sa.select(t.contacts).where(t.contacts.c.member_id.in_(wanted),
                                        t.contacts.c.marketing_consent.is_(True))).all()}
        points = dict(conn.execute(_POINTS).all())
        links = link_maker(conn, settings, now)
        out = []
        for (draw_id, member_id), won in prizes.items():
            contact = contacts.get(member_id)
            if contact is None:
                continue
            language = contact.language if contact.language in LANGUAGES else settings.default_language
            name, by_language = names[draw_id]
            text = render_for(settings.text("draw_win", language), settings, member_id=member_id,
                              first_name=contact.first_name or "", points=points.get(member_id, 0),
                              language=language, links=links,
                              extra={"draw": by_language.get(language) or name,
                                     "prize": localise_digits(_SEPARATOR[language].join(won), language)})
            out.append(Outgoing(contact.phone_e164, text, "draw_win", MARKETING, member_id,
                                dedupe_key("draw_win", member_id, draw_id), contact.branch))
        return queue.enqueue(out, conn=conn)
