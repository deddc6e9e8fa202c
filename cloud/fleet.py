"""The fleet's latest heartbeats: what each kiosk last said about its version, outbox and readers.

The device endpoint records one (cloud/app.py); the console's overview reads them and flags a failing reader
or a backlog older than its limit (the rules are kiosk/rules/fleet.py, shared with the kiosk).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Mapping

from sqlalchemy import delete, select

from cloud.db import Database
from cloud.db.schema import device_health
from kiosk import protocol
from kiosk.rules.fleet import Heartbeat, backlog_too_old, failing_readers


@dataclass(frozen=True)
class DeviceHealth:
    reported_at: datetime
    version: str
    outbox_count: int
    outbox_oldest_at: datetime | None
    readers: Mapping[str, str]

    def failing_readers(self) -> list[str]:
        return failing_readers(self.readers)

    def backlog_age(self, now: datetime) -> timedelta | None:
        return None if self.outbox_oldest_at is None else now - self.outbox_oldest_at


def record(db: Database, device_id: str, beat: Heartbeat, now: datetime) -> None:
    """Keep ``beat`` as the device's latest, replacing the one before (one transaction)."""
    oldest = None if beat.outbox_oldest_age_s is None else now - timedelta(seconds=beat.outbox_oldest_age_s)
    with db.write() as conn:
        conn.execute(delete(device_health).where(device_health.c.device_id == device_id))
        conn.execute(device_health.insert().values(
            device_id=device_id, reported_at=protocol.format_time(now), software_version=beat.version,
            outbox_count=beat.outbox_count, outbox_oldest_at=None if oldest is None else protocol.format_time(oldest),
            readers=json.dumps(dict(beat.readers), sort_keys=True)))


def latest(db: Database, device_ids: Iterable[str]) -> dict[str, DeviceHealth]:
    """The latest heartbeat of each of ``device_ids`` that ever sent one."""
    wanted = sorted(set(device_ids))
    if not wanted:
        return {}
    with db.read() as conn:
        rows = conn.execute(select(device_health).where(device_health.c.device_id.in_(wanted))).all()
    return {row.device_id: DeviceHealth(
        reported_at=protocol.parse_time(row.reported_at), version=row.software_version,
        outbox_count=row.outbox_count,
        outbox_oldest_at=None if row.outbox_oldest_at is None else protocol.parse_time(row.outbox_oldest_at),
        readers=json.loads(row.readers)) for row in rows}


def flagged(health: Mapping[str, DeviceHealth], now: datetime, backlog_after: timedelta) -> dict[str, list[str]]:
    """Device id -> why the console flags it: "reader" (a reader cannot read) and/or "backlog" (too old)."""
    flags: dict[str, list[str]] = {}
    for device_id, h in health.items():
        why = (["reader"] if h.failing_readers() else []) + \
              (["backlog"] if backlog_too_old(h.outbox_oldest_at, now, backlog_after) else [])
        if why:
            flags[device_id] = why
    return flags
