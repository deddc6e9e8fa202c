"""Campaign sends: one text (fa/ar/en) to an RFM segment, a tier or a list of members or phones, counted and
costed first (`kiosk-cloud messages campaign` and the console's message campaign page both come here).

The segment of each member comes from kiosk.rules.segments over the cloud's ledger (the ``earn`` events the
kiosks sent, with their rial amounts), the same rules a kiosk applies to its own ledger. Only contacts with
marketing consent are counted and queued, and consent is checked again when each message is sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cloud.errors import CloudError
from cloud.messages import tables as t
from cloud.messages.queue import MessageQueue, Outgoing
from cloud.messages.audiences import member_tiers, members_by_phone
from cloud.messages.rules import (MARKETING, TemplateError, check_template, dedupe_key, encoding, send_not_before,
                                  template_fields)
from cloud.messages.rules import segments as sms_parts
from cloud.messages.settings import CAMPAIGN_VARIABLES, LANGUAGES, MessageSettings
from cloud.messages.values import LinkMaker, link_maker, preview_links, render_for
from kiosk import protocol
from kiosk.rules.ledger import Entry, LedgerKind
from kiosk.rules.segments import SEGMENTS, RfmRules, rfm

# The cloud store's events table (cloud/store.py): the ledger the segments are computed from.
_EARNS = sa.text("SELECT member_id, event_id, points, payload, created_at FROM events WHERE kind = 'earn'")
_POINTS = sa.text("SELECT member_id, points FROM balances")
_COUPON = re.compile(r"[A-Za-z0-9_-]{1,32}")


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
    tier: str = ""  # the tier's id (kiosk.rules), only looked up when a text uses {tier}


@dataclass(frozen=True)
class LanguageParts:
    """What the text of one language costs: its recipients, their parts in all, and the encoding."""

    language: str
    recipients: int
    parts: int
    encoding: str


@dataclass(frozen=True)
class Preview:
    recipients: int  # who would be queued now: with consent, not already sent this campaign
    parts: int
    cost_rial: int | None
    without_consent: int = 0
    already_sent: int = 0  # the campaign's name already texted them (the queue's dedupe skips them)
    quiet_held: int = 0  # of the recipients, those whose shop is in quiet hours then: they get it at its end
    by_language: tuple[LanguageParts, ...] = ()
    unknown_phones: tuple[str, ...] = ()  # listed numbers that are no member's


@dataclass(frozen=True)
class Campaign:
    name: str
    texts: Mapping[str, str]
    segment: str | None = None
    member_ids: Sequence[str] = ()
    tier: str | None = None
    phones: Sequence[str] = ()  # E.164
    coupon: str | None = None  # the code the campaign gives its audience, for {coupon}

    def uses(self, variable: str) -> bool:
        return any(variable in template_fields(text) for text in self.texts.values())

    def __post_init__(self) -> None:
        if not self.name:
            raise BadCampaign("a campaign needs a name (it keeps a resend from texting anyone twice)")
        if not self.texts or set(self.texts) - set(LANGUAGES):
            raise BadCampaign(f"give the text in one or more of {', '.join(LANGUAGES)}")
        for language, text in self.texts.items():
            try:
                check_template(text, CAMPAIGN_VARIABLES)
            except TemplateError as exc:
                raise BadCampaign(f"text ({language}): {exc}") from None
        if self.coupon is not None and not _COUPON.fullmatch(self.coupon):
            raise BadCampaign(f"coupon {self.coupon!r}: give the code as 1-32 letters, digits or - _")
        if self.uses("coupon") and not self.coupon:
            raise BadCampaign("the text uses {coupon} but the campaign gives no coupon: give its code or take"
                              " {coupon} out")
        chosen = [self.segment is not None, bool(self.member_ids), self.tier is not None, bool(self.phones)]
        if sum(chosen) != 1:
            raise BadCampaign("choose one audience: a segment, a tier, a list of members or a list of phones")
        if self.tier is not None and not self.tier.strip():
            raise BadCampaign("name the tier")
        bad = [p for p in self.phones if not protocol.is_e164(p)]
        if bad:
            raise BadCampaign(f"not E.164 phone numbers: {', '.join(bad)}")
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


def chosen_members(engine: Engine, campaign: Campaign, now: datetime, rules: RfmRules = RfmRules()) -> set[str]:
    """The member ids of the campaign's audience, with or without consent."""
    if campaign.segment is not None:
        return {m for m, segment in member_segments(engine, now, rules).items() if segment == campaign.segment}
    if campaign.tier is not None:
        return {m for m, tier in member_tiers(engine, now).items() if tier == campaign.tier}
    if campaign.phones:
        return set(members_by_phone(engine, campaign.phones).values())
    return set(campaign.member_ids)


def recipients(engine: Engine, campaign: Campaign, settings: MessageSettings, now: datetime,
               rules: RfmRules = RfmRules(), chosen: set[str] | None = None) -> list[Recipient]:
    """The consenting contacts the campaign reaches, in member id order."""
    chosen = chosen_members(engine, campaign, now, rules) if chosen is None else chosen
    with engine.connect() as conn:
        points = dict(conn.execute(_POINTS).all())
        rows = conn.execute(sa.select(t.contacts).where(t.contacts.c.marketing_consent.is_(True))
                            .order_by(t.contacts.c.member_id)).all()
    tiers = member_tiers(engine, now) if campaign.uses("tier") else {}
    return [Recipient(r.member_id, r.phone_e164, r.first_name,
                      r.language if r.language in LANGUAGES else settings.default_language,
                      points.get(r.member_id, 0), r.branch, tiers.get(r.member_id, ""))
            for r in rows if r.member_id in chosen]


def _messages(campaign: Campaign, people: Iterable[Recipient], settings: MessageSettings,
              links: LinkMaker) -> list[Outgoing]:
    if not settings.status_url and any("{link}" in text for text in campaign.texts.values()):
        raise BadCampaign("the text uses {link}: set messages.status_url first")
    out = []
    for person in people:
        text = campaign.texts.get(person.language) or campaign.texts.get(settings.default_language) \
            or next(iter(campaign.texts.values()))
        body = render_for(text, settings, member_id=person.member_id, first_name=person.first_name,
                          points=person.points, language=person.language, links=links,
                          extra={"tier": settings.tier_name(person.tier, person.language),
                                 "coupon": campaign.coupon or ""})
        out.append(Outgoing(person.phone_e164, body, f"campaign:{campaign.name}", MARKETING, person.member_id,
                            dedupe_key("campaign", person.member_id, campaign.name), person.branch))
    return out


def preview(engine: Engine, campaign: Campaign, settings: MessageSettings, now: datetime,
            cost_per_part_rial: int | None = None, at: datetime | None = None) -> Preview:
    """Whom the queue would text (consent and dedupe applied as it applies them), how many of them quiet hours
    hold at `at` (or now), and the SMS parts (GSM-7 or UCS-2 per language) and cost that makes."""
    chosen = chosen_members(engine, campaign, now)
    people = recipients(engine, campaign, settings, now, chosen=chosen)
    keys = {dedupe_key("campaign", p.member_id, campaign.name): p for p in people}
    with engine.connect() as conn:
        done = set(conn.execute(sa.select(t.messages.c.dedupe_key)
                                .where(t.messages.c.dedupe_key.in_(list(keys)))).scalars()) if keys else set()
        refused = set(conn.execute(sa.select(t.contacts.c.member_id)
                                   .where(t.contacts.c.marketing_consent.is_(False))).scalars()) & chosen
    fresh = [p for key, p in keys.items() if key not in done]
    messages = _messages(campaign, fresh, settings, preview_links(settings))
    start = max(now, at) if at else now
    held = sum(send_not_before(start, MARKETING, settings.quiet, settings.zone_for(p.branch)) > start for p in fresh)
    by_language = []
    for language in LANGUAGES:
        mine = [m for p, m in zip(fresh, messages) if p.language == language]
        if mine:
            by_language.append(LanguageParts(language, len(mine), sum(sms_parts(m.text) for m in mine),
                                             "UCS-2" if any(encoding(m.text) == "UCS-2" for m in mine) else "GSM-7"))
    parts = sum(sms_parts(m.text) for m in messages)
    known = members_by_phone(engine, campaign.phones) if campaign.phones else {}
    return Preview(len(messages), parts, None if cost_per_part_rial is None else parts * cost_per_part_rial,
                   without_consent=len(refused), already_sent=len(people) - len(fresh),
                   quiet_held=held, by_language=tuple(by_language),
                   unknown_phones=tuple(p for p in campaign.phones if p not in known))


def send(engine: Engine, queue: MessageQueue, campaign: Campaign, settings: MessageSettings, now: datetime,
         at: datetime | None = None) -> int:
    """Queue the campaign (for `at`, or now); a member already queued for it is skipped. How many queued."""
    people = recipients(engine, campaign, settings, now)
    with engine.begin() as conn:
        return enqueue_for(conn, queue, campaign, people, settings, at or now, at)


def enqueue_for(conn: Connection, queue: MessageQueue, campaign: Campaign, people: Iterable[Recipient],
                settings: MessageSettings, now: datetime, at: datetime | None = None) -> int:
    """Queue the campaign's texts to `people` in the caller's transaction; how many were new."""
    messages = _messages(campaign, people, settings, link_maker(conn, settings, now))
    return queue.enqueue(messages, conn=conn, not_before=at)
