"""Tier reached and points expiring, from the branch's cloud config over the cloud's ledger."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

from cloud.messages import tables as t
from cloud.messages.cli import engine_for
from cloud.messages.contacts import import_enrolments
from cloud.messages.ledger_automations import run_ledger_greetings
from cloud.messages.queue import MessageQueue
from cloud.messages.settings import settings_from
from cloud.store import CloudStore
from kiosk import protocol
from tests.cloud.messages_kit import StepClock

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 6, 1, 9, tzinfo=timezone.utc)


def chain(tmp_path: Path, *, with_config: bool = True) -> tuple[CloudStore, sa.Engine]:
    store = CloudStore(tmp_path / "cloud.sqlite")
    store.register(store.create_token("tehran-01"))
    if with_config:
        config = json.loads((ROOT / "docs" / "cloud-config.example.json").read_text(encoding="utf-8"))
        config["rules"]["expiry_days"] = 365
        store.set_config("tehran-01", config)
    return store, engine_for(store.db)


def member(store: CloudStore, phone: str, earned: list[tuple[int, int]], *, consent: bool = True) -> str:
    """A member with earn events of (points, days before NOW)."""
    member_id = str(uuid.uuid4())
    enrolled = NOW - timedelta(days=400)
    events = [protocol.make_event("member_enrolled", member_id, enrolled, phone_e164=phone, name="Sara Ahmadi",
                                  language="en",
                                  consent={"at": protocol.format_time(enrolled), "text_version": "1"} if consent else None)]
    events += [protocol.make_event("earn", member_id, NOW - timedelta(days=days), points=points, amount=points * 10_000)
               for points, days in earned]
    store.ingest(store.devices()[0], events)
    return member_id


def run(engine: sa.Engine, **raw: object) -> tuple[int, int]:
    import_enrolments(engine)
    settings = settings_from({"messages": raw})
    clock = StepClock(NOW)
    return run_ledger_greetings(engine, MessageQueue(engine, settings, clock=clock), settings, NOW)


def texts(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(t.messages.c.text).order_by(t.messages.c.message_id)).scalars())


def test_a_member_who_reached_silver_is_told_once_with_the_tier_name(tmp_path):
    store, engine = chain(tmp_path)
    member(store, "+989120000001", [(600, 10), (600, 5)])  # 1200 in the window: silver (>= 1000)
    member(store, "+989120000002", [(300, 10)])  # bronze: nothing to tell
    member(store, "+989120000003", [(2000, 10)], consent=False)
    assert run(engine, expiry_warning_days=0) == (1, 0)
    assert run(engine, expiry_warning_days=0) == (0, 0)
    assert texts(engine) == ["Sara, you have reached Silver at Club!"]


def test_points_about_to_expire_are_announced_with_the_amount_expiring(tmp_path):
    store, engine = chain(tmp_path)
    member(store, "+989120000001", [(150, 360), (80, 20)])  # 150 expire in 5 days (365-day expiry)
    member(store, "+989120000002", [(150, 300)])  # expire in 65 days: not yet
    assert run(engine, tier_greeting=False, expiry_warning_days=14) == (0, 1)
    assert texts(engine) == ["Sara, 150 of your points at Club expire soon."]
    assert run(engine, tier_greeting=False, expiry_warning_days=14) == (0, 0)


def test_a_branch_without_a_cloud_config_gets_no_rule_based_texts(tmp_path):
    store, engine = chain(tmp_path, with_config=False)
    member(store, "+989120000001", [(6000, 10), (150, 360)])
    assert run(engine) == (0, 0) and texts(engine) == []
