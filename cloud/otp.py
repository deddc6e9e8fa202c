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
        with store.transaction() as db:
            db["sms_outbox"].create(
                {"message_id": int, "phone": str, "text": str, "created_at": str, "sent_at": str},
                pk="message_id", not_null={"phone", "text", "created_at"}, if_not_exists=True,
            )

    def send(self, phone: str, text: str) -> None:
        with self._store.transaction() as db:
            db.execute("INSERT INTO sms_outbox (phone, text, created_at) VALUES (?, ?, ?)",
                       [phone, text, protocol.format_time(self._store.clock())])

    def pending(self) -> list[OutboxMessage]:
        with self._store.transaction() as db:
            rows = db.execute("SELECT message_id, phone, text, created_at FROM sms_outbox"
                              " WHERE sent_at IS NULL ORDER BY message_id").fetchall()
        return [OutboxMessage(*row) for row in rows]

    def mark_sent(self, message_ids: list[int]) -> None:
        now = protocol.format_time(self._store.clock())
        with self._store.transaction() as db:
            for message_id in message_ids:
                db.execute("UPDATE sms_outbox SET sent_at = ? WHERE message_id = ? AND sent_at IS NULL",
                           [now, message_id])


class OneTimeCodes:
    """Issue and check codes; a code belongs to one device, one phone and one purpose, and is used once."""

    def __init__(self, store: CloudStore, sender: SmsSender, *, make_code: Callable[[], str] = new_code) -> None:
        self._store = store
        self._sender = sender
        self._make_code = make_code
        with store.transaction() as db:
            db["otp_codes"].create(
                {"code_id": int, "device_id": str, "phone": str, "purpose": str, "salt": str, "code_hash": str,
                 "created_at": str, "expires_at": str, "attempts": int, "state": str},
                pk="code_id", not_null={"device_id", "phone", "purpose", "salt", "code_hash", "created_at",
                                        "expires_at", "state"},
                defaults={"attempts": 0, "state": "pending"}, if_not_exists=True,
            )
            db["otp_codes"].create_index(["phone", "created_at"], if_not_exists=True)

    def issue(self, device: Device, phone: str, purpose: str) -> None:
        """Send a new code to ``phone``; any earlier code of this device, phone and purpose stops working."""
        now = self._store.clock()
        code = self._make_code()
        salt = secrets.token_bytes(16)
        with self._store.transaction() as db:
            recent = db.execute("SELECT created_at FROM otp_codes WHERE phone = ? AND created_at > ?"
                                " ORDER BY created_at", [phone, protocol.format_time(now - RATE_WINDOW)]).fetchall()
            if len(recent) >= RATE_MAX_CODES:
                free_at = protocol.parse_time(recent[0][0]) + RATE_WINDOW
                raise OtpRateLimited(max(1, int((free_at - now).total_seconds()) + 1))
            db.execute("UPDATE otp_codes SET state = 'superseded' WHERE device_id = ? AND phone = ? AND purpose = ?"
                       " AND state = 'pending'", [device.device_id, phone, purpose])
            code_id = db.execute(
                "INSERT INTO otp_codes (device_id, phone, purpose, salt, code_hash, created_at, expires_at,"
                " attempts, state) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 'pending')",
                [device.device_id, phone, purpose, salt.hex(), _digest(salt, phone, purpose, code),
                 protocol.format_time(now), protocol.format_time(now + protocol.OTP_TTL)],
            ).lastrowid
        try:
            self._sender.send(phone, message_text(code))
        except Exception as exc:
            # A code nobody received must not stay valid (nor count against the phone's limit).
            with self._store.transaction() as db:
                db.execute("DELETE FROM otp_codes WHERE code_id = ?", [code_id])
            raise SmsFailed(f"the SMS gateway did not take the message: {exc}") from exc

    def verify(self, device: Device, phone: str, purpose: str, code: str) -> Verdict:
        now = self._store.clock()
        with self._store.transaction() as db:
            row = db.execute(
                "SELECT code_id, salt, code_hash, expires_at, attempts, state FROM otp_codes"
                " WHERE device_id = ? AND phone = ? AND purpose = ? ORDER BY code_id DESC LIMIT 1",
                [device.device_id, phone, purpose],
            ).fetchone()
            if row is None or row[5] in ("used", "superseded"):
                return Verdict("expired", 0)
            code_id, salt, code_hash, expires_at, attempts, state = row
            if state == "locked":
                return Verdict("locked", 0)
            if protocol.parse_time(expires_at) <= now:
                return Verdict("expired", 0)
            if hmac.compare_digest(code_hash, _digest(bytes.fromhex(salt), phone, purpose, code)):
                db.execute("UPDATE otp_codes SET state = 'used' WHERE code_id = ?", [code_id])
                return Verdict("ok", 0)
            attempts += 1
            left = protocol.OTP_MAX_ATTEMPTS - attempts
            db.execute("UPDATE otp_codes SET attempts = ?, state = ? WHERE code_id = ?",
                       [attempts, "locked" if left <= 0 else "pending", code_id])
        return Verdict("locked", 0) if left <= 0 else Verdict("wrong", left)
