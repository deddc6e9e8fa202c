"""Short status links: an unguessable code (72 random bits) that opens one member's read-only page until
it expires. A random code stored with its expiry, rather than a signed token, keeps the link short in an SMS
(where every character counts against 70) and lets the cloud withdraw it; the code itself carries nothing.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cloud.messages import tables as t
from kiosk import protocol

CODE_LENGTH = 12  # token_urlsafe(9): 72 bits


def create_link(conn: Connection, member_id: str, now: datetime, valid_for: timedelta) -> str:
    code = secrets.token_urlsafe(9)
    conn.execute(sa.insert(t.links).values(code=code, member_id=member_id, created_at=protocol.format_time(now),
                                           expires_at=protocol.format_time(now + valid_for)))
    return code


def member_for_link(conn: Connection, code: str, now: datetime) -> tuple[str, datetime] | None:
    """(member id, expiry) of a live link; None for an unknown or expired code."""
    if len(code) != CODE_LENGTH:
        return None
    row = conn.execute(sa.select(t.links.c.member_id, t.links.c.expires_at).where(t.links.c.code == code)).first()
    if row is None:
        return None
    expires = protocol.parse_time(row.expires_at)
    return (row.member_id, expires) if expires > now else None
