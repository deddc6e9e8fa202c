"""Campaign sends composed in the console: kept with their audience and texts, queued when due.

"Send now" and "schedule" both save the campaign here; `kiosk-cloud jobs run` (and a send now, at once)
queues every due one through cloud.messages.campaigns.send, the path `kiosk-cloud messages campaign --send`
takes. The audience is chosen when the campaign is queued, so a member who opted out meanwhile is not
texted and one who joined meanwhile is. Each change is in the audit log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cloud import audit
from cloud.db.schema import message_campaigns as table
from cloud.messages import campaigns
from cloud.messages.queue import MessageQueue
from cloud.messages.settings import MessageSettings
from kiosk import protocol

SCHEDULED, QUEUED, CANCELLED = "scheduled", "queued", "cancelled"


@dataclass(frozen=True)
class Saved:
    campaign_id: int
    name: str
    audience: dict[str, Any]
    texts: dict[str, str]
    send_at: str
    state: str
    queued: int | None
    created_by: str
    created_at: str


def audience_of(campaign: campaigns.Campaign) -> dict[str, Any]:
    """Whom the campaign is for, and the coupon it gives them (kept with the audience: no column of its own)."""
    given = {"coupon": campaign.coupon} if campaign.coupon else {}
    if campaign.segment is not None:
        return {"segment": campaign.segment, **given}
    if campaign.tier is not None:
        return {"tier": campaign.tier, **given}
    if campaign.phones:
        return {"phones": list(campaign.phones), **given}
    return {"members": list(campaign.member_ids), **given}


def campaign_of(name: str, audience: dict[str, Any], texts: dict[str, str]) -> campaigns.Campaign:
    return campaigns.Campaign(name, texts, segment=audience.get("segment"), tier=audience.get("tier"),
                              member_ids=tuple(audience.get("members", ())), phones=tuple(audience.get("phones", ())),
                              coupon=audience.get("coupon"))


def save(engine: Engine, campaign: campaigns.Campaign, send_at: datetime, *, actor: str, now: datetime) -> int:
    """Keep the campaign to be queued at `send_at`; BadCampaign if its name was used by another."""
    row = {"name": campaign.name, "audience": json.dumps(audience_of(campaign), ensure_ascii=False),
           "texts": json.dumps(dict(campaign.texts), ensure_ascii=False),
           "send_at": protocol.format_time(max(send_at, now)), "state": SCHEDULED, "created_by": actor,
           "created_at": protocol.format_time(now)}
    with engine.begin() as conn:
        if conn.execute(sa.select(table.c.campaign_id).where(table.c.name == campaign.name)).first() is not None:
            raise campaigns.BadCampaign(f"a campaign named {campaign.name!r} exists already; choose a new name"
                                        " (the name is what keeps a member from getting it twice)")
        campaign_id = conn.execute(table.insert().values(**row).returning(table.c.campaign_id)).scalar_one()
        audit.record(conn, at=row["created_at"], actor=actor, action="message_campaign.schedule",
                     target=campaign.name, after={k: v for k, v in row.items() if k != "state"})
    return int(campaign_id)


def cancel(engine: Engine, campaign_id: int, *, actor: str, now: datetime) -> bool:
    """Cancel a campaign not yet queued; False when it was queued (or cancelled) already."""
    with engine.begin() as conn:
        row = conn.execute(sa.select(table).where(table.c.campaign_id == campaign_id)).first()
        changed = conn.execute(table.update().where(table.c.campaign_id == campaign_id, table.c.state == SCHEDULED)
                               .values(state=CANCELLED)).rowcount
        if changed:
            audit.record(conn, at=protocol.format_time(now), actor=actor, action="message_campaign.cancel",
                         target=row.name, before={"state": SCHEDULED}, after={"state": CANCELLED})
    return bool(changed)


def queue_due(engine: Engine, queue: MessageQueue, settings: MessageSettings, now: datetime,
              only: int | None = None) -> int:
    """Queue every saved campaign whose time has come (or just `only`); how many messages were queued.

    The campaign is marked queued in the transaction that queues its messages, so two runners never both
    queue it and a crash queues either all of it or none.
    """
    stamp = protocol.format_time(now)
    where = [table.c.state == SCHEDULED, table.c.send_at <= stamp]
    if only is not None:
        where.append(table.c.campaign_id == only)
    with engine.connect() as conn:
        due = conn.execute(sa.select(table).where(*where).order_by(table.c.send_at, table.c.campaign_id)).all()
    total = 0
    for row in due:
        campaign = campaign_of(row.name, json.loads(row.audience), json.loads(row.texts))
        people = campaigns.recipients(engine, campaign, settings, now)
        with engine.begin() as conn:
            claimed = conn.execute(table.update().where(table.c.campaign_id == row.campaign_id,
                                                        table.c.state == SCHEDULED)
                                   .values(state=QUEUED, queued_at=stamp)).rowcount
            if not claimed:
                continue  # another runner took it (its transaction rolls nothing of ours back)
            queued = campaigns.enqueue_for(conn, queue, campaign, people, settings, now)
            conn.execute(table.update().where(table.c.campaign_id == row.campaign_id).values(queued=queued))
            audit.record(conn, at=stamp, actor="jobs", action="message_campaign.queue", target=row.name,
                         after={"queued": queued})
        total += queued
    return total


def listing(engine: Engine, limit: int = 100) -> list[Saved]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table).order_by(table.c.campaign_id.desc()).limit(limit)).all()
    return [Saved(r.campaign_id, r.name, json.loads(r.audience), json.loads(r.texts), r.send_at, r.state, r.queued,
                  r.created_by, r.created_at) for r in rows]
