"""Staff tasks beyond cards and points: today's activity at this kiosk, and withdrawing a member's consent to
text messages when they ask at the counter (it cannot be undone from the kiosk: only the member can consent
again, by joining the messages by SMS)."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.service import KioskService


def local_midnight(now: datetime, timezone: str) -> datetime:
    """The start of the shop's day (its own time zone), as an aware datetime."""
    return now.astimezone(ZoneInfo(timezone)).replace(hour=0, minute=0, second=0, microsecond=0)


def today_activity(service: KioskService, limit: int = 50) -> list[dict[str, Any]]:
    """Points moved at this kiosk since the shop's midnight, newest first: time, kind, points, first name."""
    since = local_midnight(service.now(), service.settings.device.timezone)
    return service.store.activity_since(since, limit)


def withdraw_consent(service: KioskService, member_id: str, staff_id: str) -> bool:
    """Stop marketing texts to the member, here and (through the outbox) in the cloud; False if none was given."""
    return service.store.withdraw_consent(member_id, staff_id=staff_id)
