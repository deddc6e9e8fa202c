"""Scheduled greetings: birthday, occasions from the chain's calendar, membership anniversary, lapsed members,
and the code of a coupon a kiosk issued.

Each automation picks today's consenting contacts with one query, renders the text in the member's
language and queues it with a dedupe key for the period (one birthday greeting per member and year of the
member's calendar), so running the job twice, or again after a crash, queues nothing new.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import json

import jdatetime
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cloud.messages import tables as t
from cloud.messages.ledger_automations import run_ledger_greetings
from cloud.messages.queue import MessageQueue, Outgoing
from cloud.messages.rules import MARKETING, birthday_keys_for, dedupe_key, greeting_period
from cloud.messages.settings import LANGUAGES, MessageSettings
from cloud.messages.values import LinkMaker, link_maker, render_for
from kiosk import protocol
from kiosk.rules import coupon_reasons

CHUNK = 5000

# The cloud store's tables (cloud/store.py): balances for {points}, earn events for the last visit.
_POINTS = sa.table("balances", sa.column("member_id"), sa.column("points"))
_EVENTS = sa.table("events", sa.column("member_id"), sa.column("kind"), sa.column("created_at"),
                   sa.column("payload"))
# A redemption older than this when the job first sees it gets no text (turning the notice on texts no backlog).
COUPON_WINDOW = timedelta(days=2)


@dataclass(frozen=True)
class JobReport:
    birthday: int = 0
    occasions: int = 0
    anniversary: int = 0
    lapsed: int = 0
    tier: int = 0
    expiring: int = 0
    coupon: int = 0


def _columns() -> list:
    c = t.contacts.c
    points = sa.select(_POINTS.c.points).where(_POINTS.c.member_id == c.member_id).scalar_subquery()
    return [c.member_id, c.phone_e164, c.first_name, c.language, c.branch, sa.func.coalesce(points, 0).label("points")]


def _outgoing(rows: Iterator[sa.Row], settings: MessageSettings, kind: str, texts: Callable[[str], str],
              period: str | Callable[[sa.Row], str], links: LinkMaker) -> Iterator[Outgoing]:
    for row in rows:
        language = row.language if row.language in LANGUAGES else settings.default_language
        which = period(row) if callable(period) else period
        key = dedupe_key(kind, row.member_id, which)
        text = render_for(texts(language), settings, member_id=row.member_id, first_name=row.first_name or "",
                          points=row.points, language=language, links=links)
        yield Outgoing(row.phone_e164, text, kind, MARKETING, row.member_id, key, row.branch)


def _queue_all(engine: Engine, queue: MessageQueue, query: sa.Select, make: Callable) -> int:
    """Queue what `make(rows, links)` builds from the query's rows, in chunks, in one transaction."""
    queued = 0
    with engine.begin() as conn:
        links = link_maker(conn, queue.settings, queue.now())
        result = conn.execute(query.execution_options(yield_per=CHUNK))
        for rows in result.partitions(CHUNK):
            queued += queue.enqueue(list(make(iter(rows), links)), conn=conn)
    return queued


def run_birthdays(engine: Engine, queue: MessageQueue, settings: MessageSettings, now: datetime) -> int:
    """Greet the members whose birthday is today where they shop: each branch of messages.branch_time_zones on
    its own zone's date (a shop in Dubai reaches the next day half an hour before one in Tehran), every other
    member on the chain zone's date. The dedupe key is the calendar year, so a zone's date running ahead or
    behind never greets anyone twice."""
    c = t.contacts.c
    queued = 0
    for zone, today in _zone_dates(settings, now):
        others = [b for b, z in settings.branch_zones.items() if z.key != zone]
        if zone == settings.zone.key:
            mine = sa.or_(c.branch.is_(None), c.branch.not_in(others)) if others else sa.true()
        else:
            mine = c.branch.in_([b for b, z in settings.branch_zones.items() if z.key == zone])
        queued += _birthdays_on(engine, queue, settings, today, mine)
    return queued


def _zone_dates(settings: MessageSettings, now: datetime) -> list[tuple[str, date]]:
    """(zone name, today's date there) for the chain's zone and every branch zone, each zone once."""
    zones = {settings.zone.key: settings.zone, **{z.key: z for z in settings.branch_zones.values()}}
    return [(key, now.astimezone(zone).date()) for key, zone in zones.items()]


def _birthdays_on(engine: Engine, queue: MessageQueue, settings: MessageSettings, today: date,
                  members: sa.ColumnElement[bool]) -> int:
    c = t.contacts.c
    calendar = sa.func.coalesce(c.calendar, settings.calendar)
    jalali = sa.or_(*(sa.and_(c.birth_j_month == m, c.birth_j_day == d) for m, d in birthday_keys_for(today, "jalali")))
    gregorian = sa.or_(*(sa.and_(c.birth_g_month == m, c.birth_g_day == d)
                         for m, d in birthday_keys_for(today, "gregorian")))
    query = (sa.select(*_columns(), calendar.label("calendar"))
             .where(c.marketing_consent.is_(True), members,
                    sa.or_(sa.and_(calendar == "jalali", jalali), sa.and_(calendar == "gregorian", gregorian))))
    return _queue_all(engine, queue, query, lambda rows, links: _outgoing(
        rows, settings, "birthday", lambda lang: settings.text("birthday", lang),
        lambda row: greeting_period(today, row.calendar), links))


def run_occasions(engine: Engine, queue: MessageQueue, settings: MessageSettings, today: date) -> int:
    j = jdatetime.date.fromgregorian(date=today)
    queued = 0
    for occasion in settings.occasions:
        if (occasion.jalali_month, occasion.jalali_day) != (j.month, j.day):
            continue
        texts = occasion.texts

        def text_for(language: str, texts: dict = dict(texts)) -> str:
            return texts.get(language) or texts.get(settings.default_language) or next(iter(texts.values()))

        query = sa.select(*_columns()).where(t.contacts.c.marketing_consent.is_(True))
        queued += _queue_all(engine, queue, query, lambda rows, links, name=occasion.name, text_for=text_for: _outgoing(
            rows, settings, f"occasion:{name}", text_for, f"j{j.year}", links))
    return queued


def run_anniversaries(engine: Engine, queue: MessageQueue, settings: MessageSettings, today: date) -> int:
    if not settings.anniversary:
        return 0
    c = t.contacts.c
    query = sa.select(*_columns()).where(
        c.marketing_consent.is_(True), c.source == "kiosk",
        sa.func.substr(c.enrolled_at, 6, 5) == today.strftime("%m-%d"),
        sa.func.substr(c.enrolled_at, 1, 4) < f"{today.year:04d}")
    return _queue_all(engine, queue, query, lambda rows, links: _outgoing(
        rows, settings, "anniversary", lambda lang: settings.text("anniversary", lang), f"g{today.year}", links))


def run_lapsed(engine: Engine, queue: MessageQueue, settings: MessageSettings, now: datetime) -> int:
    """One "we miss you" per lapse: the dedupe key is the member's last purchase, so a new visit re-arms it."""
    if not settings.lapsed_days:
        return 0
    cutoff = protocol.format_time(now - timedelta(days=settings.lapsed_days))
    last = (sa.select(_EVENTS.c.member_id, sa.func.max(_EVENTS.c.created_at).label("last_visit"))
            .where(_EVENTS.c.kind == "earn").group_by(_EVENTS.c.member_id).subquery())
    query = (sa.select(*_columns(), last.c.last_visit).join(last, last.c.member_id == t.contacts.c.member_id)
             .where(t.contacts.c.marketing_consent.is_(True), last.c.last_visit < cutoff))
    return _queue_all(engine, queue, query, lambda rows, links: _outgoing(
        rows, settings, "lapsed", lambda lang: settings.text("lapsed", lang), lambda row: row.last_visit, links))


def run_coupons(engine: Engine, queue: MessageQueue, settings: MessageSettings, now: datetime) -> int:
    """One text per coupon a kiosk issued (a redeem event whose reason names it), with its {coupon} code."""
    if not settings.coupon_notice:
        return 0
    query = (sa.select(*_columns(), _EVENTS.c.payload)
             .join(_EVENTS, _EVENTS.c.member_id == t.contacts.c.member_id)
             .where(t.contacts.c.marketing_consent.is_(True), _EVENTS.c.kind == "redeem",
                    _EVENTS.c.created_at >= protocol.format_time(now - COUPON_WINDOW)))

    def make(rows: Iterator[sa.Row], links: LinkMaker) -> Iterator[Outgoing]:
        for row in rows:
            issued = coupon_reasons.coupon_in_reason(json.loads(row.payload).get("reason"))
            if issued is None:
                continue
            language = row.language if row.language in LANGUAGES else settings.default_language
            text = render_for(settings.text("coupon", language), settings, member_id=row.member_id,
                              first_name=row.first_name or "", points=row.points, language=language, links=links,
                              extra={"coupon": issued[1]})
            yield Outgoing(row.phone_e164, text, "coupon", MARKETING, row.member_id,
                           dedupe_key("coupon", row.member_id, issued[1]), row.branch)

    return _queue_all(engine, queue, query, make)


def run_automations(engine: Engine, queue: MessageQueue, settings: MessageSettings, now: datetime) -> JobReport:
    """Queue today's greetings (birthdays on each shop's own date, the others on the chain zone's)."""
    today = now.astimezone(settings.zone).date()
    tier, expiring = run_ledger_greetings(engine, queue, settings, now)
    return JobReport(run_birthdays(engine, queue, settings, now), run_occasions(engine, queue, settings, today),
                     run_anniversaries(engine, queue, settings, today), run_lapsed(engine, queue, settings, now),
                     tier, expiring, run_coupons(engine, queue, settings, now))
