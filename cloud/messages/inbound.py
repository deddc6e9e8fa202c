"""What a member's text to the club's number does: opt out ("لغو", "11", "STOP"), join, or nothing.

Each inbound message is stored once (a provider repeating its callback changes nothing) with its outcome;
the reply (confirmation or welcome) is transactional and goes out with the next drain.
"""

from __future__ import annotations

from datetime import datetime

import phonenumbers
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cloud.errors import CloudError
from cloud.messages import contacts
from cloud.messages import tables as t
from cloud.messages.queue import MessageQueue, Outgoing
from cloud.messages.rules import TRANSACTIONAL, classify_inbound
from cloud.messages.settings import MessageSettings
from cloud.messages.values import link_maker, render_for
from kiosk import protocol


class BadInbound(CloudError):
    """An inbound callback without a usable sender number or text."""


def mobile_e164(raw: str, region: str = "IR") -> str:
    """The E.164 form of a mobile number as providers send it (09..., 98..., +98...), or BadInbound."""
    text = raw.strip()
    if text.isdigit() and text.startswith("98") and len(text) == 12:
        text = "+" + text
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise BadInbound(f"sender {raw!r} is not a phone number") from exc
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in (
            phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise BadInbound(f"sender {raw!r} is not a mobile number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def handle_inbound(engine: Engine, queue: MessageQueue, settings: MessageSettings, *, sender: str, text: str,
                   provider_id: str, now: datetime) -> str:
    """Apply one inbound text; its outcome: opted_out, joined, rejoined, unknown_sender, other, duplicate."""
    phone = mobile_e164(sender)
    kind = classify_inbound(text, settings.join_keywords)
    with engine.begin() as conn:
        seen = conn.execute(sa.select(t.inbound.c.outcome).where(t.inbound.c.provider_id == provider_id)).scalar()
        if seen is not None:
            return "duplicate"
        outcome, reply = "other", None
        if kind == "opt_out":
            member_id = contacts.opt_out(conn, phone, now, via="sms")
            outcome, reply = ("opted_out", "opted_out") if member_id else ("unknown_sender", None)
        elif kind == "join":
            member_id, new = contacts.join(conn, phone, now, settings.default_language)
            outcome, reply = ("joined" if new else "rejoined"), "welcome"
        conn.execute(sa.insert(t.inbound).values(provider_id=provider_id, phone_e164=phone, text=text[:1000],
                                                 outcome=outcome, received_at=protocol.format_time(now)))
        if reply is not None:
            language = conn.execute(sa.select(t.contacts.c.language)
                                    .where(t.contacts.c.phone_e164 == phone)).scalar() or settings.default_language
            body = render_for(settings.text(reply, language), settings, member_id=member_id, first_name="",
                              points=0, language=language, links=link_maker(conn, settings, now))
            queue.enqueue([Outgoing(phone, body, reply, TRANSACTIONAL, member_id)], conn=conn)
    return outcome
