"""Campaign sends: one text (fa/ar/en) to an RFM segment or a list of members, counted and costed first.

The segment of each member comes from kiosk.rules.segments over the cloud's ledger (the ``earn`` events the
kiosks sent, with their rial amounts), the same rules a kiosk applies to its own ledger. Only contacts with
marketing consent are counted and queued, and consent is checked again when each message is sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cloud.errors import CloudError
from cloud.messages import tables as t
from cloud.messages.queue import MessageQueue, Outgoing
from cloud.messages.rules import MARKETING, TemplateError, check_template, dedupe_key
from cloud.messages.rules import segments as sms_parts
from cloud.messages.settings import LANGUAGES, MEMBER_VARIABLES, MessageSettings
from cloud.messages.values import LinkMaker, link_maker, preview_links, render_for
from kiosk import protocol
from kiosk.rules.ledger import Entry, LedgerKind
from kiosk.rules.segments import SEGMENTS, RfmRules, rfm

# The cloud store's events table (cloud/store.py): the ledger the segments are computed from.
_EARNS = sa.text("SELECT member_id, event_id, points, payload, created_at FROM events WHERE kind = 'earn'")
_POINTS = sa.text("SELECT member_id, points FROM balances")


class BadCampaign(CloudError):
    """A campaign that cannot be sent as written: unknown segment, variable, language or no text."""


@dataclass(frozen=True)
class Recipient:
    member_id: str
    phone_e164: str
    first_name: str
    language: str
    points: int
    branch: str | None = None


@dataclass(frozen=True)
class Preview:
    recipients: int
    parts: int
    cost_rial: int | None


@dataclass(frozen=True)
class Campaign:
    name: str
    texts: Mapping[str, str]
    segment: str | None = None
    member_ids: Sequence[str] = ()

    def __post_init__(self) -> None:
        if not self.name:
            raise BadCampaign("a campaign needs a name (it keeps a resend from texting anyone twice)")
        if not self.texts or set(self.texts) - set(LANGUAGES):
            raise BadCampaign(f"give the text in one or more of {', '.join(LANGUAGES)}")
        for language, text in self.texts.items():
            try:
                check_template(text, MEMBER_VARIABLES)
            except TemplateError as exc:
                raise BadCampaign(f"text ({language}): {exc}") from None
        if (self.segment is None) == (not self.member_ids):
            raise BadCampaign("choose a segment or a list of members, not both")
        if self.segment is not None and self.segment not in SEGMENTS:
            raise BadCampaign(f"segment {self.segment!r}: use one of {', '.join(SEGMENTS)}")


def member_segments(engine: Engine, now: datetime, rules: RfmRules) -> dict[str, str]:
    """Every contact's RFM segment from the cloud ledger."""
    entries: dict[str, list[Entry]] = {}
    with engine.connect() as conn:
        for member_id, event_id, points, payload, created_at in conn.execute(_EARNS):
            amount = json.loads(payload).get("amount", 0)
            entries.setdefault(member_id, []).append(
                Entry(event_id, LedgerKind.EARN, points or 0, amount, protocol.parse_time(created_at)))
        enrolled = conn.execute(sa.select(t.contacts.c.member_id, t.contacts.c.enrolled_at)).all()
    return {member_id: rfm(entries.get(member_id, []), now, rules,
                           protocol.parse_time(at) if at else None).segment for member_id, at in enrolled}


def recipients(engine: Engine, campaign: Campaign, settings: MessageSettings, now: datetime,
               rules: RfmRules = RfmRules()) -> list[Recipient]:
    """The consenting contacts the campaign reaches, in member id order."""
    if campaign.segment is not None:
        by_segment = member_segments(engine, now, rules)
        chosen = {m for m, segment in by_segment.items() if segment == campaign.segment}
    else:
        chosen = set(campaign.member_ids)
    with engine.connect() as conn:
        points = dict(conn.execute(_POINTS).all())
        rows = conn.execute(sa.select(t.contacts).where(t.contacts.c.marketing_consent.is_(True))
                            .order_by(t.contacts.c.member_id)).all()
    return [Recipient(r.member_id, r.phone_e164, r.first_name,
                      r.language if r.language in LANGUAGES else settings.default_language,
                      points.get(r.member_id, 0), r.branch) for r in rows if r.member_id in chosen]


def _messages(campaign: Campaign, people: Iterable[Recipient], settings: MessageSettings,
              links: LinkMaker) -> list[Outgoing]:
    if not settings.status_url and any("{link}" in text for text in campaign.texts.values()):
        raise BadCampaign("the text uses {link}: set messages.status_url first")
    out = []
    for person in people:
        text = campaign.texts.get(person.language) or campaign.texts.get(settings.default_language) \
            or next(iter(campaign.texts.values()))
        body = render_for(text, settings, member_id=person.member_id, first_name=person.first_name,
                          points=person.points, language=person.language, links=links)
        out.append(Outgoing(person.phone_e164, body, f"campaign:{campaign.name}", MARKETING, person.member_id,
                            dedupe_key("campaign", person.member_id, campaign.name), person.branch))
    return out


def preview(engine: Engine, campaign: Campaign, settings: MessageSettings, now: datetime,
            cost_per_part_rial: int | None = None) -> Preview:
    """How many members it reaches and how many SMS parts (UCS-2 for Persian) that costs."""
    messages = _messages(campaign, recipients(engine, campaign, settings, now), settings, preview_links(settings))
    parts = sum(sms_parts(m.text) for m in messages)
    return Preview(len(messages), parts, None if cost_per_part_rial is None else parts * cost_per_part_rial)


def send(engine: Engine, queue: MessageQueue, campaign: Campaign, settings: MessageSettings, now: datetime,
         at: datetime | None = None) -> int:
    """Queue the campaign (for `at`, or now); a member already queued for it is skipped. How many queued."""
    people = recipients(engine, campaign, settings, now)
    with engine.begin() as conn:
        messages = _messages(campaign, people, settings, link_maker(conn, settings, at or now))
        return queue.enqueue(messages, conn=conn, not_before=at)
