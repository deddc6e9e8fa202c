"""Complaints in the cloud (issue 14): the kiosks' look-up by tracking code, the console's queue and answers,
and the tracking-code text message.

A look-up needs the code and the last four digits of the phone; a wrong code and a wrong phone get the same
answer, and each device may ask LOOKUPS_PER_WINDOW times per LOOKUP_WINDOW (counted in the database, so every
cloud process enforces the same limit). Every console change is a complaint_history row and an audit entry,
written in one transaction with the change.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from cloud import audit
from cloud.db import Database
from cloud.db.schema import complaint_history, complaint_lookups, complaints
from cloud.errors import BadConfig
from kiosk import protocol
from kiosk.rules.complaints import MAX_ANSWER, STATES, last_four, parse_code, spoken

LOOKUP_WINDOW = timedelta(minutes=15)
LOOKUPS_PER_WINDOW = 10


class LookupsRateLimited(Exception):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many tracking-code look-ups from this kiosk; ask again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


def lookup(db: Database, device_id: str, code_text: Any, phone_last4: Any, now: datetime) -> dict[str, Any] | None:
    """The case for the kiosk's screen, or None for no match (whatever did not match). Counts the attempt first."""
    stamp = protocol.format_time(now)
    since = protocol.format_time(now - LOOKUP_WINDOW)
    with db.write() as conn:
        conn.execute(delete(complaint_lookups).where(complaint_lookups.c.at < since))
        recent = conn.execute(select(func.count(), func.min(complaint_lookups.c.at)).where(
            complaint_lookups.c.device_id == device_id, complaint_lookups.c.at >= since)).first()
        if recent[0] >= LOOKUPS_PER_WINDOW:
            oldest = protocol.parse_time(recent[1])
            raise LookupsRateLimited(max(1, int((oldest + LOOKUP_WINDOW - now).total_seconds()) + 1))
        conn.execute(complaint_lookups.insert().values(device_id=device_id, at=stamp))
        code = parse_code(code_text)
        row = None if code is None else conn.execute(
            select(complaints.c.code, complaints.c.phone_e164, complaints.c.state, complaints.c.subject,
                   complaints.c.answer, complaints.c.updated_at).where(complaints.c.code == code)).first()
    given = phone_last4 if isinstance(phone_last4, str) else ""
    # Compared in constant time, and against a dummy when there is no case, so timing tells nothing either.
    matches = hmac.compare_digest(given.encode(), last_four(row.phone_e164 if row else "+0000000000").encode())
    if row is None or not matches:
        return None
    return {"code": spoken(row.code), "state": row.state, "subject": row.subject,
            "answer": row.answer if row.state in ("answered", "closed") else "", "updated_at": row.updated_at}


@dataclass(frozen=True)
class Case:
    code: str
    branch: str
    member_id: str | None
    phone_e164: str
    subject: str
    text: str
    state: str
    answer: str
    created_at: str
    updated_at: str
    history: tuple[dict[str, Any], ...] = ()

    @property
    def shown_code(self) -> str:
        return spoken(self.code)


_COLUMNS = (complaints.c.code, complaints.c.branch, complaints.c.member_id, complaints.c.phone_e164,
            complaints.c.subject, complaints.c.text, complaints.c.state, complaints.c.answer,
            complaints.c.created_at, complaints.c.updated_at)


def queue(db: Database, branches: frozenset[str] | None, *, state: str | None = None,
          branch: str | None = None) -> list[Case]:
    """The cases of the user's branches (all for None), oldest open first."""
    query = select(*_COLUMNS).order_by(complaints.c.created_at)
    if branches is not None:
        query = query.where(complaints.c.branch.in_(sorted(branches)))
    if branch:
        query = query.where(complaints.c.branch == branch)
    if state in STATES:
        query = query.where(complaints.c.state == state)
    with db.read() as conn:
        return [Case(*row) for row in conn.execute(query)]


def case(db: Database, code_text: str) -> Case | None:
    code = parse_code(code_text)
    if code is None:
        return None
    with db.read() as conn:
        row = conn.execute(select(*_COLUMNS).where(complaints.c.code == code)).first()
        if row is None:
            return None
        history = tuple(dict(r._mapping) for r in conn.execute(
            select(complaint_history.c.at, complaint_history.c.actor, complaint_history.c.state,
                   complaint_history.c.answer).where(complaint_history.c.code == code)
            .order_by(complaint_history.c.history_id)))
    return Case(*row, history=history)


def change(db: Database, code: str, *, state: str, answer: str, actor: str, now: datetime) -> None:
    """A staff member's answer and/or new state; kept in the history and the audit log with the change."""
    if state not in STATES:
        raise BadConfig(f"state {state!r} is not one of {', '.join(STATES)}")
    answer = answer.strip()
    if len(answer) > MAX_ANSWER:
        raise BadConfig(f"an answer is at most {MAX_ANSWER} characters (got {len(answer)})")
    stamp = protocol.format_time(now)
    with db.write() as conn:
        before = conn.execute(select(complaints.c.state, complaints.c.answer)
                              .where(complaints.c.code == code).with_for_update()).first()
        if before is None:
            raise BadConfig("no such complaint")
        answer = answer or before.answer
        if state == "answered" and not answer:
            raise BadConfig("write the answer before marking the complaint answered")
        if (state, answer) == (before.state, before.answer):
            raise BadConfig("nothing changed: pick another state or write an answer")
        conn.execute(update(complaints).where(complaints.c.code == code)
                     .values(state=state, answer=answer, updated_at=stamp))
        conn.execute(complaint_history.insert().values(code=code, at=stamp, actor=actor, state=state, answer=answer))
        audit.record(conn, at=stamp, actor=actor, action="complaint.change", target=code,
                     before={"state": before.state, "answer": before.answer}, after={"state": state, "answer": answer})


# -- the tracking-code text message ----------------------------------------------------------------------

TRACKING_TEXTS = {
    "fa": "{club}: درخواست شما ثبت شد. کد پیگیری: {code}",
    "ar": "{club}: تم تسجيل طلبك. رمز المتابعة: {code}",
    "en": "{club}: your request is registered. Tracking code: {code}",
}


def untexted(conn: Connection, limit: int = 500) -> list[Any]:
    return conn.execute(select(complaints.c.code, complaints.c.phone_e164, complaints.c.member_id,
                               complaints.c.language).where(complaints.c.texted == 0)
                        .order_by(complaints.c.created_at).limit(limit)).all()


def mark_texted(conn: Connection, codes: list[str]) -> None:
    if codes:
        conn.execute(update(complaints).where(complaints.c.code.in_(codes)).values(texted=1))


def queue_tracking_texts(engine: Any, message_queue: Any, club: str, default_language: str) -> int:
    """Queue the tracking code to each new complaint's phone as a transactional text (no quiet hours), once:
    the queue's dedupe key and the `texted` mark are written in one transaction. How many were queued."""
    from cloud.messages.queue import Outgoing
    from cloud.messages.rules import TRANSACTIONAL, dedupe_key

    with engine.begin() as conn:
        rows = untexted(conn)
        outgoing = []
        for row in rows:
            language = row.language if row.language in TRACKING_TEXTS else default_language
            text = TRACKING_TEXTS.get(language, TRACKING_TEXTS["fa"]).format(club=club, code=spoken(row.code))
            outgoing.append(Outgoing(row.phone_e164, text, "complaint", TRANSACTIONAL, row.member_id,
                                     dedupe_key("complaint", row.code, "filed")))
        queued = message_queue.enqueue(outgoing, conn=conn)
        mark_texted(conn, [row.code for row in rows])
    return queued
