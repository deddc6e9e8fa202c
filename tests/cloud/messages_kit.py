"""Shared pieces of the message tests: a stepping clock, migrated cloud databases on both engines, contacts,
the messages config and gateway secrets a jobs run reads, and the jobs run itself."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

from cloud import cli
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


# Quiet hours off: the tests that use this run at any real hour; quiet hours are tested on the queue itself.
QUIET_HOURS_OFF = 'quiet_hours = ["00:00", "00:00"]'


def write_jobs_setup(tmp_path: Path, provider_url: str, messages: str = QUIET_HOURS_OFF, *, gateway: str = "",
                     secrets: str = "") -> tuple[Path, Path]:
    """A messages config sending through Kavenegar at `provider_url` and its 0600 secrets with the fake's good key.

    `messages` is the body of `[messages]` after the club's name; `gateway` adds lines to `[gateway]`, `secrets`
    adds sections to the secrets file."""
    config = tmp_path / "messages.toml"
    config.write_text(f'[messages]\nclub = "Kafe"\n{messages}\n[gateway]\nkind = "kavenegar"\n'
                      f'base_url = "{provider_url}"\n{gateway}', encoding="utf-8")
    secrets_file = tmp_path / "secrets.toml"
    secrets_file.write_text(f'[gateway]\napi_key = "good-key"\n{secrets}')
    os.chmod(secrets_file, 0o600)
    return config, secrets_file


def jobs_run(database: str | Path, config: Path, secrets: Path, capsys) -> dict[str, str]:
    """`kiosk-cloud jobs run` once, its printed name=value figures as a dict (output before it is discarded)."""
    capsys.readouterr()
    assert cli.main(["--db", str(database), "jobs", "run", "--messages-config", str(config),
                     "--secrets", str(secrets)]) == 0
    return dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines() if "=" in line)
