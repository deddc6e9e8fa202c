"""The console's member queries: search by phone, name or card, and one member's whole record."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy import text as sql  # `text` is the search's own argument

from cloud.db import Database
from cloud.db.schema import balances, cards, configs, events, member_segments, members
from cloud.names import ascii_digits, fold_name
from kiosk import protocol
from kiosk.rules import tier_for
from kiosk.rules.cloud_config import rules_from_cloud
from kiosk.rules.config import LoyaltyRules
from kiosk.rules.ledger import Entry, window_points

SEARCH_LIMIT = 50
# How far a name search walks the name index, in name order, looking for a full page before it asks the trigram
# index instead: far enough for a word one member in a thousand holds (walk_pays asks the planner whether it is),
# short enough (10-20 ms of index-only reading at the most, on PostgreSQL) for a walk that finds no full page.
NAME_WALK = 50_000


@dataclass(frozen=True)
class MemberRecord:
    profile: dict[str, Any]
    balance: int
    tier: str
    cards: list[dict[str, Any]]
    ledger: list[dict[str, Any]]
    segment: dict[str, Any] | None
    consent: dict[str, Any] | None  # {"at", "text_version"} from the enrolment event, None if not given


def search(db: Database, text: str, branches: frozenset[str] | None = None,
           limit: int = SEARCH_LIMIT, walk: int = NAME_WALK) -> list[dict[str, Any]]:
    """Members whose phone holds the typed digits (any script, with or without 0/+98), whose name holds
    the typed words (Arabic ي/ك = Persian ی/ک), or whose card ref is the text; only of `branches` if given.
    The first `limit` of them by name."""
    text = text.strip()
    if not text:
        return []
    compact = re.sub(r"[\s+\-()]", "", ascii_digits(text))
    if protocol.is_card_ref(text.lower()):
        # A card ref (64 hex) is nobody's name or phone: matched alone, it is one index read. OR-ed with a name
        # match it made PostgreSQL read every member (2.4 s at 1,000,000 members, benchmarks/cloud_scale.py).
        condition = members.c.member_id.in_(select(cards.c.member_id).where(cards.c.card_ref == text.lower()))
    elif compact.isdigit():
        # 0912..., 912..., +98912..., ۰۹۱۲...: the national number without its leading zero is in the E.164 form.
        if len(compact.lstrip("0")) < 3:
            return []
        condition = members.c.phone_e164.contains(compact.lstrip("0"), autoescape=True)
    else:
        folded = fold_name(text)
        if db.dialect == "postgresql":
            walked = _first_by_name(db, folded, branches, limit, walk)
            if len(walked) == limit:
                return walked
        condition = members.c.name_folded.contains(folded, autoescape=True)
    hits = select(members.c.member_id, members.c.name, members.c.phone_e164, members.c.branch,
                  members.c.enrolled_at).where(condition)
    if branches is not None:
        hits = hits.where(members.c.branch.in_(sorted(branches)))
    hits = hits.cte("hits")
    if db.dialect == "postgresql":
        # The matches first (trigram indexes), then their order: left to itself, PostgreSQL walks the name index
        # in order and filters, which reads nearly every member when the few matches sort late (6 s for a full
        # name at 1,000,000 members, benchmarks/cloud_scale.py).
        hits = hits.prefix_with("MATERIALIZED")
    top = select(hits).order_by(hits.c.name, hits.c.member_id).limit(limit).subquery("top")
    query = (select(top, balances.c.points)
             .select_from(top.outerjoin(balances, balances.c.member_id == top.c.member_id))
             .order_by(top.c.name, top.c.member_id))
    with db.read() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def _first_by_name(db: Database, folded: str, branches: frozenset[str] | None, limit: int,
                   walk: int) -> list[dict[str, Any]]:
    """The first `limit` members by name whose name holds `folded`, looked for among the first `walk` members by
    name only (fewer when the page is not full there: the caller then asks the trigram index).

    A page found here is exactly the search's first page: the walk is a prefix of the same order. It reads the
    name index alone (revision 0013 puts the folded name and the branch in it), then the page's own rows."""
    with db.read() as conn:
        if not walk_pays(conn, folded, limit, walk):
            return []
        walked = select(members.c.member_id, members.c.name, members.c.name_folded, members.c.branch) \
            .order_by(members.c.name, members.c.member_id).limit(walk).subquery("walked")
        page = select(walked.c.member_id, walked.c.name).where(walked.c.name_folded.contains(folded, autoescape=True))
        if branches is not None:
            page = page.where(walked.c.branch.in_(sorted(branches)))
        page = page.order_by(walked.c.name, walked.c.member_id).limit(limit).subquery("page")
        query = (select(page.c.member_id, page.c.name, members.c.phone_e164, members.c.branch, members.c.enrolled_at,
                        balances.c.points)
                 .select_from(page.join(members, members.c.member_id == page.c.member_id)
                              .outerjoin(balances, balances.c.member_id == page.c.member_id))
                 .order_by(page.c.name, page.c.member_id))
        return [dict(row._mapping) for row in conn.execute(query)]


def walk_pays(conn: Connection, folded: str, limit: int, walk: int) -> bool:
    """Whether PostgreSQL's estimate of the members whose name holds `folded` says a walk of `walk` members by name
    meets a page of `limit` of them (the estimate supposes them spread over the order, as a common surname is; a
    full name or a rare word goes to the trigram index at once instead of walking in vain). A table never
    analysed has no estimate: it is walked."""
    members_estimated = conn.execute(sql("SELECT reltuples FROM pg_class WHERE oid = 'members'::regclass")).scalar()
    if not members_estimated or members_estimated <= 0:
        return True
    escaped = folded.replace("/", "//").replace("%", "/%").replace("_", "/_")
    plan = conn.execute(sql("EXPLAIN (FORMAT JSON) SELECT 1 FROM members WHERE name_folded LIKE :pattern ESCAPE '/'"),
                        {"pattern": f"%{escaped}%"}).scalar()
    matches_estimated = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]["Plan Rows"]
    return matches_estimated * min(walk, members_estimated) >= limit * members_estimated


def member_tier(ledger: list[dict[str, Any]], config_body: str | None, now: datetime) -> str:
    """The tier the kiosks of the member's home branch would show: the branch config's tiers over the
    points earned chain-wide in the tier window (kiosk.rules, the kiosks' own code)."""
    rules = rules_from_cloud(json.loads(config_body)) if config_body else LoyaltyRules()
    credits = [Entry(e["event_id"], e["kind"], e["points"], e["amount"] or 0, protocol.parse_time(e["created_at"]))
               for e in ledger if e["kind"] in ("earn", "bonus") and e["points"] > 0]
    return tier_for(window_points(credits, now, rules), rules).name


def record(db: Database, member_id: str, now: datetime) -> MemberRecord | None:
    """Profile, balance, tier, cards, full ledger across branches (newest first) and last segment;
    None if unknown."""
    with db.read() as conn:
        profile = conn.execute(select(members).where(members.c.member_id == member_id)).mappings().first()
        if profile is None:
            return None
        balance = conn.execute(select(balances.c.points).where(balances.c.member_id == member_id)).scalar()
        member_cards = [dict(r) for r in conn.execute(
            select(cards).where(cards.c.member_id == member_id).order_by(cards.c.changed_at)).mappings()]
        ledger = []
        for row in conn.execute(
            select(events.c.event_id, events.c.kind, events.c.points, events.c.amount, events.c.created_at,
                   events.c.branch, events.c.payload)
            .where(events.c.member_id == member_id, events.c.kind.in_(sorted(protocol.LEDGER_KINDS)))
            .order_by(events.c.created_at.desc(), events.c.seq.desc())
        ).mappings():
            payload = json.loads(row["payload"])
            ledger.append({**{k: row[k] for k in ("event_id", "kind", "amount", "created_at", "branch")},
                           "points": payload.get("points", row["points"]), "reason": payload.get("reason", "")})
        segment = conn.execute(select(member_segments).where(member_segments.c.member_id == member_id)
                               ).mappings().first()
        config_body = conn.execute(select(configs.c.body).where(configs.c.branch == profile["branch"])).scalar()
        enrolment = conn.execute(select(events.c.payload).where(events.c.member_id == member_id,
                                                                events.c.kind == "member_enrolled")).scalar()
    return MemberRecord(dict(profile), int(balance or 0), member_tier(ledger, config_body, now), member_cards, ledger,
                        None if segment is None else dict(segment),
                        json.loads(enrolment).get("consent") if enrolment else None)
