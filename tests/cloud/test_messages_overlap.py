"""Drains that overlap (two `kiosk-cloud messages drain` processes at once), silent gateways, and each shop's
own quiet hours; on a migrated cloud database, SQLite and PostgreSQL in turn."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from cloud.messages import tables as t
from cloud.messages.automations import run_birthdays
from cloud.messages.kavenegar import KavenegarGateway
from cloud.messages.queue import MessageQueue, Outgoing
from cloud.messages.rules import MARKETING, TRANSACTIONAL
from cloud.messages.settings import MessageSettingsError, settings_from
from tests.cloud.messages_kit import NOON_TEHRAN, StepClock, add_contact, message_engine, queue_for, states
from tests.support.sms_providers import FakeProvider

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def engine(database: str) -> Iterator[sa.Engine]:
    with message_engine(database) as engine:
        yield engine


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    with FakeProvider("kavenegar") as running:
        yield running


def gateway(provider: FakeProvider) -> KavenegarGateway:
    return KavenegarGateway("good-key", "", base_url=provider.url)


def code(n: int) -> Outgoing:
    return Outgoing(f"+98912000{n:04d}", f"code {n}", "otp", TRANSACTIONAL)


# -- the rate across drains ------------------------------------------------------------


def test_a_second_drain_started_at_the_same_moment_waits_for_the_send_slots_the_first_one_took(engine, provider):
    queue_for(engine, StepClock(NOON_TEHRAN)).enqueue([code(n) for n in range(10)])
    first, second = StepClock(NOON_TEHRAN), StepClock(NOON_TEHRAN)  # two processes, the same moment
    assert queue_for(engine, first, rate_per_second=5.0).drain(gateway(provider), max_messages=5).sent == 5
    assert queue_for(engine, second, rate_per_second=5.0).drain(gateway(provider), max_messages=5).sent == 5
    # The first sent at +0.0 .. +0.8 s; the second's slots follow on, +1.0 .. +1.8 s, instead of starting over.
    assert first.slept == pytest.approx(0.8) and second.slept == pytest.approx(1.8)
    assert sorted(s.message for s in provider.sent) == sorted(f"code {n}" for n in range(10))


def test_two_drain_processes_at_once_keep_the_rate_together_and_send_each_message_once(database, engine, provider,
                                                                                       tmp_path):
    rate, count = 5, 30
    MessageQueue(engine, settings_from({}), clock=lambda: datetime.now(timezone.utc)).enqueue(
        [code(n) for n in range(count)])
    config = tmp_path / "messages.toml"
    config.write_text(f'[messages]\nrate_per_second = {rate}\n[gateway]\nkind = "kavenegar"\n'
                      f'base_url = "{provider.url}"\n', encoding="utf-8")
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[gateway]\napi_key = "good-key"\n')
    os.chmod(secrets, 0o600)
    provider.state.hold_until_clients = 2  # neither process sends until both are draining
    started = time.time()
    command = [sys.executable, "-m", "cloud.cli", "--db", database, "messages", "drain",
               "--messages-config", str(config), "--secrets", str(secrets)]
    runs = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err for _, err in outputs]
    sent = [int(dict(line.split("=", 1) for line in out.splitlines() if "=" in line)["sent"]) for out, _ in outputs]
    assert sum(sent) == count and min(sent) > 0  # both drained, together
    assert sorted(s.message for s in provider.sent) == sorted(f"code {n}" for n in range(count))
    # Send slots are shared: the k-th message to reach the provider left no sooner than (k-1)/rate after start,
    # whichever process sent it (two drains each at the full rate would get there in half the time).
    arrivals = sorted(s.at for s in provider.sent)
    assert all(at - started >= k / rate - 0.01 for k, at in enumerate(arrivals))


# -- a gateway that accepts and never reports ---------------------------------------------


def test_a_sent_message_never_reported_is_marked_unconfirmed_after_the_set_time_and_never_resent(engine, provider):
    clock = StepClock(NOON_TEHRAN)
    queue = MessageQueue(engine, settings_from({"messages": {"delivery_report_hours": 48}}), clock=clock,
                         sleep=clock.sleep)
    queue.enqueue([code(0), code(1)])
    assert queue.drain(gateway(provider)).sent == 2
    assert queue.record_delivery(str(provider.sent[1].provider_id), "delivered")
    clock.advance(timedelta(hours=47))
    assert queue.drain(gateway(provider)).unconfirmed == 0
    clock.advance(timedelta(hours=2))
    report = queue.drain(gateway(provider))
    assert (report.unconfirmed, report.sent) == (1, 0)
    assert [(n, state) for n, state, _ in states(engine)] == [(1, "unconfirmed"), (2, "delivered")]
    assert "no delivery within 48 h" in states(engine)[0][2]
    assert queue.counts()["unconfirmed"] == 1  # what `kiosk-cloud messages status` prints
    clock.advance(timedelta(days=30))
    queue.drain(gateway(provider))
    assert len(provider.sent) == 2  # never resent
    assert queue.record_delivery(str(provider.sent[0].provider_id), "delivered")  # a late report still lands
    assert states(engine)[0][1] == "delivered"


def test_the_wait_for_a_delivery_report_is_checked_and_can_be_turned_off(engine, provider):
    with pytest.raises(MessageSettingsError, match="delivery_report_hours"):
        settings_from({"messages": {"delivery_report_hours": -1}})
    clock = StepClock(NOON_TEHRAN)
    queue = MessageQueue(engine, settings_from({"messages": {"delivery_report_hours": 0}}), clock=clock,
                         sleep=clock.sleep)
    queue.enqueue([code(0)])
    queue.drain(gateway(provider))
    clock.advance(timedelta(days=365))
    assert queue.drain(gateway(provider)).unconfirmed == 0 and states(engine)[0][1] == "sent"


# -- quiet hours in each shop's zone --------------------------------------------------------

ZONES = {"messages": {"branch_time_zones": {"dubai-01": "Asia/Dubai"}}}


def greeting(n: int, branch: str | None) -> Outgoing:
    return Outgoing(f"+98912000{n:04d}", f"hello {n}", "test", MARKETING, f"member-{n}", branch=branch)


def test_marketing_waits_for_the_end_of_quiet_hours_in_the_members_own_shops_zone(engine, provider):
    for n in range(3):
        add_contact(engine, f"member-{n}", f"+98912000{n:04d}")
    clock = StepClock(datetime(2026, 5, 10, 18, 20, tzinfo=timezone.utc))  # 21:50 in Tehran, 22:20 in Dubai
    queue = MessageQueue(engine, settings_from(ZONES), clock=clock, sleep=clock.sleep)
    queue.enqueue([greeting(0, "tehran-01"), greeting(1, "dubai-01"), greeting(2, None)])
    assert queue.drain(gateway(provider)).sent == 2
    assert sorted(s.message for s in provider.sent) == ["hello 0", "hello 2"]
    clock.now = datetime(2026, 5, 11, 3, 59, tzinfo=timezone.utc)  # 07:59 in Dubai
    assert queue.drain(gateway(provider)).sent == 0
    clock.advance(timedelta(minutes=1))
    assert queue.drain(gateway(provider)).sent == 1 and provider.sent[-1].message == "hello 1"


def test_a_message_held_by_an_outage_is_checked_against_its_own_shops_quiet_hours_when_it_goes(engine, provider):
    add_contact(engine, "member-0", "+989120000000")
    clock = StepClock(datetime(2026, 5, 10, 17, 55, tzinfo=timezone.utc))  # 21:55 in Dubai
    queue = MessageQueue(engine, settings_from(ZONES), clock=clock, sleep=clock.sleep)
    queue.enqueue([greeting(0, "dubai-01")])
    clock.advance(timedelta(minutes=10))  # 22:05 in Dubai, still 21:35 in Tehran
    report = queue.drain(gateway(provider))
    assert (report.sent, report.deferred) == (0, 1) and provider.sent == []


def test_the_birthday_job_queues_with_the_members_branch_so_its_zone_holds_the_greeting(engine):
    add_contact(engine, "member-0", "+989120000000", branch="dubai-01", birth_g_month=5, birth_g_day=10,
                calendar="gregorian")
    settings = settings_from(ZONES)
    clock = StepClock(datetime(2026, 5, 10, 18, 20, tzinfo=timezone.utc))
    assert run_birthdays(engine, MessageQueue(engine, settings, clock=clock), settings, clock()) == 1
    with engine.connect() as conn:
        row = conn.execute(sa.select(t.messages.c.time_zone, t.messages.c.not_before)).one()
    assert row.time_zone == "Asia/Dubai" and row.not_before.startswith("2026-05-11T04:00")


def test_an_unknown_branch_time_zone_is_refused_naming_the_branch():
    with pytest.raises(MessageSettingsError, match="branch_time_zones.dubai-01"):
        settings_from({"messages": {"branch_time_zones": {"dubai-01": "Asia/Nowhere"}}})


def test_birthdays_are_greeted_on_the_date_of_each_members_own_shop(engine):
    for n, (member_id, branch, day) in enumerate([("dubai-11", "dubai-01", 11), ("tehran-11", None, 11),
                                                  ("tehran-10", None, 10), ("dubai-10", "dubai-01", 10)]):
        add_contact(engine, member_id, f"+98912000000{n}", branch=branch, birth_g_month=5, birth_g_day=day,
                    calendar="gregorian")
    settings = settings_from(ZONES)
    clock = StepClock(datetime(2026, 5, 10, 20, 15, tzinfo=timezone.utc))  # 00:15 on the 11th in Dubai, 23:45 in Tehran
    queue = MessageQueue(engine, settings, clock=clock)

    def greeted() -> list[str]:
        with engine.connect() as conn:
            return sorted(conn.execute(sa.select(t.messages.c.member_id)).scalars())

    assert run_birthdays(engine, queue, settings, clock()) == 2
    assert greeted() == ["dubai-11", "tehran-10"]
    clock.advance(timedelta(minutes=45))  # 00:30 on the 11th in Tehran too
    assert run_birthdays(engine, queue, settings, clock()) == 1
    assert greeted() == ["dubai-11", "tehran-10", "tehran-11"]
