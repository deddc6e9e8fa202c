"""The cloud's SMS hook: one-time codes for kiosk enrolment and for adding a card to an existing member.

The cloud makes a 6-digit code, keeps only a salted HMAC of it with its expiry and attempt count, limits how
often one phone can be sent a code, and hands the text to a pluggable :class:`SmsSender`. The reference
cloud's sender is :class:`OutboxSender`, a table a pilot reads with ``kiosk-cloud sms outbox``; a real SMS
gateway is another class with the same ``send(phone, text)`` method (see docs/cloud.md).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy import delete, select, update

from cloud.db.schema import otp_codes, sms_outbox
from cloud.errors import CloudError
from cloud.store import CloudStore, Device
from kiosk import protocol

RATE_WINDOW = timedelta(minutes=15)
RATE_MAX_CODES = 3  # per phone and window, whatever the device or purpose


class SmsSender(Protocol):
    def send(self, phone: str, text: str) -> None:
        """Deliver ``text`` to ``phone`` (E.164) or raise :class:`SmsFailed`."""


class SmsFailed(CloudError):
    """The sender could not take the message; the code it carried is withdrawn."""


class OtpRateLimited(CloudError):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many codes sent to this phone; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Verdict:
    result: str  # one of protocol.OTP_RESULTS
    attempts_left: int


@dataclass(frozen=True)
class OutboxMessage:
    message_id: int
    phone: str
    text: str
    created_at: str


def new_code() -> str:
    return f"{secrets.randbelow(10 ** protocol.OTP_CODE_DIGITS):0{protocol.OTP_CODE_DIGITS}d}"


def _digest(salt: bytes, phone: str, purpose: str, code: str) -> str:
    return hmac.new(salt, f"{purpose}:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def message_text(code: str) -> str:
    minutes = int(protocol.OTP_TTL.total_seconds() // 60)
    return f"Your loyalty club code is {code}. It is valid for {minutes} minutes. Never share it."


class OutboxSender:
    """The reference cloud's SMS "gateway": messages wait in a table until a person or a gateway takes them."""

    def __init__(self, store: CloudStore) -> None:
        self._store = store

    def send(self, phone: str, text: str) -> None:
        with self._store.transaction() as conn:
            conn.execute(sms_outbox.insert().values(
                phone=phone, text=text, created_at=protocol.format_time(self._store.clock())))

    def pending(self) -> list[OutboxMessage]:
        with self._store.db.read() as conn:
            rows = conn.execute(
                select(sms_outbox.c.message_id, sms_outbox.c.phone, sms_outbox.c.text, sms_outbox.c.created_at)
                .where(sms_outbox.c.sent_at.is_(None)).order_by(sms_outbox.c.message_id)
            ).all()
        return [OutboxMessage(*row) for row in rows]

    def mark_sent(self, message_ids: list[int]) -> None:
        now = protocol.format_time(self._store.clock())
        with self._store.transaction() as conn:
            if message_ids:
                conn.execute(update(sms_outbox).where(sms_outbox.c.message_id.in_(message_ids),
                                                      sms_outbox.c.sent_at.is_(None)).values(sent_at=now))


class OneTimeCodes:
    """Issue and check codes; a code belongs to one device, one phone and one purpose, and is used once."""

    def __init__(self, store: CloudStore, sender: SmsSender, *, make_code: Callable[[], str] = new_code) -> None:
        self._store = store
        self._sender = sender
        self._make_code = make_code

    def issue(self, device: Device, phone: str, purpose: str) -> None:
        """Send a new code to ``phone``; any earlier code of this device, phone and purpose stops working."""
        now = self._store.clock()
        code = self._make_code()
        salt = secrets.token_bytes(16)
        with self._store.transaction() as conn:
            if self._store.db.dialect == "postgresql":
                # Two processes issuing to one phone at once must not both pass the rate limit.
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext(%(phone)s))", {"phone": phone})
            recent = conn.execute(
                select(otp_codes.c.created_at).where(otp_codes.c.phone == phone,
                                                     otp_codes.c.created_at > protocol.format_time(now - RATE_WINDOW))
                .order_by(otp_codes.c.created_at)
            ).scalars().all()
            if len(recent) >= RATE_MAX_CODES:
                free_at = protocol.parse_time(recent[0]) + RATE_WINDOW
                raise OtpRateLimited(max(1, int((free_at - now).total_seconds()) + 1))
            conn.execute(update(otp_codes).where(
                otp_codes.c.device_id == device.device_id, otp_codes.c.phone == phone,
                otp_codes.c.purpose == purpose, otp_codes.c.state == "pending").values(state="superseded"))
            (code_id,) = conn.execute(otp_codes.insert().values(
                device_id=device.device_id, phone=phone, purpose=purpose, salt=salt.hex(),
                code_hash=_digest(salt, phone, purpose, code), created_at=protocol.format_time(now),
                expires_at=protocol.format_time(now + protocol.OTP_TTL), attempts=0, state="pending",
            )).inserted_primary_key
        try:
            self._sender.send(phone, message_text(code))
        except Exception as exc:
            # A code nobody received must not stay valid (nor count against the phone's limit).
            with self._store.transaction() as conn:
                conn.execute(delete(otp_codes).where(otp_codes.c.code_id == code_id))
            raise SmsFailed(f"the SMS gateway did not take the message: {exc}") from exc

    def verify(self, device: Device, phone: str, purpose: str, code: str) -> Verdict:
        now = self._store.clock()
        with self._store.transaction() as conn:
            row = conn.execute(
                select(otp_codes.c.code_id, otp_codes.c.salt, otp_codes.c.code_hash, otp_codes.c.expires_at,
                       otp_codes.c.attempts, otp_codes.c.state)
                .where(otp_codes.c.device_id == device.device_id, otp_codes.c.phone == phone,
                       otp_codes.c.purpose == purpose)
                .order_by(otp_codes.c.code_id.desc()).limit(1).with_for_update()
            ).first()
            if row is None or row.state in ("used", "superseded"):
                return Verdict("expired", 0)
            code_id, salt, code_hash, expires_at, attempts, state = row
            if state == "locked":
                return Verdict("locked", 0)
            if protocol.parse_time(expires_at) <= now:
                return Verdict("expired", 0)
            if hmac.compare_digest(code_hash, _digest(bytes.fromhex(salt), phone, purpose, code)):
                conn.execute(update(otp_codes).where(otp_codes.c.code_id == code_id).values(state="used"))
                return Verdict("ok", 0)
            attempts += 1
            left = protocol.OTP_MAX_ATTEMPTS - attempts
            conn.execute(update(otp_codes).where(otp_codes.c.code_id == code_id).values(
                attempts=attempts, state="locked" if left <= 0 else "pending"))
        return Verdict("locked", 0) if left <= 0 else Verdict("wrong", left)
