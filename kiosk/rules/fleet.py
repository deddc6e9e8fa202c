"""The kiosk's heartbeat as both sides read it, and what makes the console flag a device.

The kiosk sends its software version, its outbox backlog (count and the age of the oldest waiting event) and
each card reader's state; the cloud keeps the latest and the console flags a failing reader or an old backlog.
Pure: parsing and rules only, no I/O.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping

READER_STATES = frozenset({"connected", "disconnected", "error"})
MAX_READERS = 16
MAX_TEXT = 64


class HeartbeatError(ValueError):
    """A heartbeat body that does not hold together; the cloud answers 400 and keeps the last good one."""


@dataclass(frozen=True)
class Heartbeat:
    version: str
    outbox_count: int
    outbox_oldest_age_s: float | None  # None: nothing waits
    readers: Mapping[str, str]  # reader id -> "connected" | "disconnected" | "error"

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version,
                "outbox": {"count": self.outbox_count, "oldest_age_s": self.outbox_oldest_age_s},
                "readers": dict(self.readers)}


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_TEXT or not value.isprintable():
        raise HeartbeatError(f"{what} must be 1-{MAX_TEXT} printable characters")
    return value


def parse_heartbeat(body: Any) -> Heartbeat:
    """``{"version": str, "outbox": {"count": int >= 0, "oldest_age_s": number >= 0 | null},
    "readers": {id: state}}``, or HeartbeatError saying what is wrong."""
    if not isinstance(body, dict):
        raise HeartbeatError('send JSON {"version", "outbox": {"count", "oldest_age_s"}, "readers": {id: state}}')
    version = _text(body.get("version"), "version")
    outbox = body.get("outbox")
    if not isinstance(outbox, dict):
        raise HeartbeatError("outbox must be {count, oldest_age_s}")
    count, age = outbox.get("count"), outbox.get("oldest_age_s")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise HeartbeatError("outbox.count must be a whole number >= 0")
    if age is not None and (isinstance(age, bool) or not isinstance(age, (int, float)) or not 0 <= age < 10 ** 10):
        raise HeartbeatError("outbox.oldest_age_s must be a number of seconds >= 0, or null")
    if (age is None) != (count == 0):
        raise HeartbeatError("outbox.oldest_age_s is null exactly when outbox.count is 0")
    readers = body.get("readers")
    if not isinstance(readers, dict) or len(readers) > MAX_READERS:
        raise HeartbeatError(f"readers must be an object of at most {MAX_READERS} reader ids")
    for reader_id, state in readers.items():
        _text(reader_id, "a reader id")
        if state not in READER_STATES:
            raise HeartbeatError(f"reader {reader_id!r}: state must be one of {sorted(READER_STATES)}")
    return Heartbeat(version, count, None if age is None else float(age), dict(readers))


def failing_readers(readers: Mapping[str, str]) -> list[str]:
    """Readers that cannot read a card now, by id."""
    return sorted(rid for rid, state in readers.items() if state != "connected")


def backlog_too_old(oldest_event_at: datetime | None, now: datetime, limit: timedelta) -> bool:
    """The oldest undelivered event has waited longer than ``limit`` (measured now, not when reported:
    a backlog keeps ageing while its kiosk is silent)."""
    return oldest_event_at is not None and now - oldest_event_at > limit
