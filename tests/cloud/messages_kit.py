"""Shared pieces of the message tests: a stepping clock, migrated cloud databases on both engines, contacts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from cloud.db import Database, migrate
from cloud.messages import tables as t
from cloud.messages.cli import engine_for
from cloud.messages.queue import MessageQueue
from cloud.messages.settings import MessageSettings
from kiosk import protocol


class StepClock:
    """Time that moves only when told to, or when the code under test sleeps (the rate limit's wait)."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.slept = 0.0

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.now += timedelta(seconds=seconds)

    def advance(self, delta: timedelta) -> None:
        self.now += delta


NOON_TEHRAN = datetime(2026, 5, 10, 8, 30, tzinfo=timezone.utc)  # 12:00 in Tehran


def queue_for(engine: sa.Engine, clock: StepClock, **settings: object) -> MessageQueue:
    return MessageQueue(engine, MessageSettings(**settings), clock=clock, sleep=clock.sleep)  # type: ignore[arg-type]


def add_contact(engine: sa.Engine, member_id: str, phone: str, *, consent: bool = True, **values: object) -> None:
    with engine.begin() as conn:
        conn.execute(sa.insert(t.contacts).values(
            member_id=member_id, phone_e164=phone, marketing_consent=consent,
            enrolled_at=protocol.format_time(datetime(2024, 1, 1, tzinfo=timezone.utc)), **values))


def states(engine: sa.Engine) -> list[tuple[int, str, str | None]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            sa.select(t.messages.c.message_id, t.messages.c.state, t.messages.c.reason)
            .order_by(t.messages.c.message_id)).all()]


@contextmanager
def message_engine(database: str) -> Iterator[sa.Engine]:
    """The message modules' engine on a migrated cloud database (a SQLite path or a PostgreSQL URL)."""
    db = Database(database)
    migrate(db)
    try:
        yield engine_for(db)
    finally:
        db.close()
