"""The plain records the store hands out, and the one text form of time in the database."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(at: datetime) -> str:
    """One fixed, sortable text form for every timestamp in the database."""
    if at.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def new_event_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Member:
    id: str
    phone: str
    first_name: str
    last_name: str
    birthday: str | None
    consent_at: str | None
    consent_version: str | None
    referral_code: str | None
    referred_by: str | None
    language: str | None
    device_id: str
    created_at: str


@dataclass(frozen=True)
class Card:
    card_ref: str
    member_id: str
    tech: str
    label: str
    state: str
    bound_at: str


@dataclass(frozen=True)
class Balance:
    member_id: str
    points: int
    earned_total: int
    spent_rial: int


@dataclass(frozen=True)
class LedgerRow:
    event_id: str
    member_id: str
    kind: str
    points: int
    amount: int
    reason: str
    receipt_id: str | None
    staff_id: str | None
    device_id: str
    created_at: str


@dataclass(frozen=True)
class Recorded:
    """What :meth:`Store.record` did: ``applied`` is False for a repeat of a known event."""

    row: LedgerRow
    applied: bool
    balance: int


@dataclass(frozen=True)
class OutboxItem:
    event_id: str
    payload: str
    attempts: int
