"""Who can be messaged: contacts built from the cloud's enrolment events, consent, opt-out and join by SMS.

The kiosk's ``member_enrolled`` event (kiosk/protocol.py) carries phone, name, birthday (a Gregorian date),
consent and language; :func:`import_enrolments` copies them into ``message_contacts`` with the birthday's
Gregorian and Jalali month/day precomputed, so the birthday job is one indexed query. A member who joined by
texting the keyword has a contact of source "sms" that the first kiosk enrolment of that phone completes.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cloud.messages import tables as t
from cloud.messages.rules import jalali_month_day
from kiosk import protocol

# The one read of a table the cloud store owns (cloud/store.py `events`); kept here so a schema change
# there is a change in one place.
_ENROLMENTS = sa.text(
    "SELECT e.member_id, e.payload, d.branch FROM events e LEFT JOIN devices d ON d.device_id = e.device_id"
    # A contact that joined by SMS is still open: the kiosk enrolment that completes it carries its member id.
    " WHERE e.kind = 'member_enrolled'"
    " AND e.member_id NOT IN (SELECT member_id FROM message_contacts WHERE source = 'kiosk')"
    " ORDER BY e.created_at")
# Withdrawals staff recorded at a kiosk ("stop text messages"), newer than the contact's last consent change.
_WITHDRAWALS = sa.text(
    "SELECT c.member_id, c.phone_e164, MAX(e.created_at) FROM events e JOIN message_contacts c ON c.member_id = e.member_id"
    " WHERE e.kind = 'consent_withdrawn' GROUP BY c.member_id, c.phone_e164, c.consent_changed_at"
    " HAVING MAX(e.created_at) > COALESCE(c.consent_changed_at, '')")


def contact_values(event: dict, branch: str | None) -> dict:
    """The contact row for one member_enrolled event (pure)."""
    values: dict = {
        "member_id": event["member_id"], "phone_e164": event["phone_e164"],
        "first_name": (event.get("name") or "").split(" ")[0][:100], "language": event.get("language"),
        "enrolled_at": event.get("created_at"), "branch": branch, "source": "kiosk",
        "marketing_consent": bool(event.get("consent")),
        "consent_changed_at": (event.get("consent") or {}).get("at") or event.get("created_at"),
        "birth_g_month": None, "birth_g_day": None, "birth_j_month": None, "birth_j_day": None,
    }
    birthday = event.get("birthday")
    if birthday:
        parts = [int(p) for p in birthday.split("-")]
        month, day = parts[-2], parts[-1]
        values["birth_g_month"], values["birth_g_day"] = month, day
        # "MM-DD" has no year; 2000 is a leap year, so Feb 29 converts too.
        values["birth_j_month"], values["birth_j_day"] = jalali_month_day(
            date(parts[0] if len(parts) == 3 else 2000, month, day))
    return values


def import_enrolments(engine: Engine) -> int:
    """Copy enrolments not yet known as contacts; a phone that joined by SMS is completed. How many."""
    with engine.begin() as conn:
        rows = conn.execute(_ENROLMENTS).all()
        for member_id, payload, branch in rows:
            values = contact_values(json.loads(payload), branch)
            joined = conn.execute(sa.select(t.contacts.c.member_id, t.contacts.c.marketing_consent,
                                            t.contacts.c.consent_changed_at)
                                  .where(t.contacts.c.phone_e164 == values["phone_e164"])).first()
            if joined is None:
                conn.execute(sa.insert(t.contacts).values(**values))
                continue
            # The phone texted the join keyword first: enrolling without ticking consent is no withdrawal, so
            # the texted consent (or a later "STOP") stands unless the kiosk recorded a newer consent.
            if not values["marketing_consent"] or (joined.consent_changed_at or "") > (values["consent_changed_at"] or ""):
                values["marketing_consent"] = joined.marketing_consent
                values["consent_changed_at"] = joined.consent_changed_at
            conn.execute(sa.update(t.contacts).where(t.contacts.c.member_id == joined.member_id).values(**values))
            conn.execute(sa.update(t.messages).where(t.messages.c.member_id == joined.member_id)
                         .values(member_id=member_id))
        apply_withdrawals(conn)
    return len(rows)


def apply_withdrawals(conn: Connection) -> int:
    """Consent withdrawn at a kiosk's counter: the contact gets no more marketing texts, logged like a STOP.
    Runs with every import, so a withdrawal that arrived before its contact was built still counts."""
    rows = conn.execute(_WITHDRAWALS).all()
    for member_id, phone, at in rows:
        conn.execute(sa.update(t.contacts).where(t.contacts.c.member_id == member_id)
                     .values(marketing_consent=False, consent_changed_at=at))
        conn.execute(sa.insert(t.consent_log).values(member_id=member_id, phone_e164=phone, action="opted_out",
                                                     via="kiosk", at=at))
    return len(rows)


def sms_join_for_phone(engine: Engine, phone: str) -> dict | None:
    """A phone's SMS join that no kiosk enrolment has completed yet: {"member_id", "source": "sms", "language"}."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(t.contacts.c.member_id, t.contacts.c.language)
                           .where(t.contacts.c.phone_e164 == phone, t.contacts.c.source == "sms")).first()
    return None if row is None else {"member_id": row.member_id, "source": "sms", "language": row.language}


def opt_out(conn: Connection, phone: str, at: datetime, via: str) -> str | None:
    """Withdraw marketing consent for the phone, logged with the time; the member id, None if unknown."""
    member_id = conn.execute(sa.select(t.contacts.c.member_id).where(t.contacts.c.phone_e164 == phone)).scalar()
    if member_id is None:
        return None
    stamp = protocol.format_time(at)
    conn.execute(sa.update(t.contacts).where(t.contacts.c.member_id == member_id)
                 .values(marketing_consent=False, consent_changed_at=stamp))
    conn.execute(sa.insert(t.consent_log).values(member_id=member_id, phone_e164=phone, action="opted_out",
                                                 via=via, at=stamp))
    return member_id


def join(conn: Connection, phone: str, at: datetime, language: str) -> tuple[str, bool]:
    """A contact for a phone that texted the join keyword (consent given by texting it); (member id, new)."""
    stamp = protocol.format_time(at)
    known = conn.execute(sa.select(t.contacts.c.member_id).where(t.contacts.c.phone_e164 == phone)).scalar()
    member_id = known or f"sms-{uuid.uuid4()}"
    if known is None:
        conn.execute(sa.insert(t.contacts).values(member_id=member_id, phone_e164=phone, language=language,
                                                  source="sms", marketing_consent=True, consent_changed_at=stamp,
                                                  enrolled_at=stamp))
    else:
        conn.execute(sa.update(t.contacts).where(t.contacts.c.member_id == member_id)
                     .values(marketing_consent=True, consent_changed_at=stamp))
    conn.execute(sa.insert(t.consent_log).values(member_id=member_id, phone_e164=phone, action="joined",
                                                 via="sms", at=stamp))
    return member_id, known is None
