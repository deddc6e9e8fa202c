"""The message queue on a real SQLite file and on PostgreSQL, sending through a loopback Kavenegar."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from cloud.messages import tables as t
from cloud.messages.kavenegar import KavenegarGateway
from cloud.messages.queue import Outgoing
from cloud.messages.rules import MARKETING, TRANSACTIONAL, QuietHours, dedupe_key
from tests.cloud.messages_kit import NOON_TEHRAN, StepClock, add_contact, message_engine, queue_for, states
from tests.support.sms_providers import FakeProvider


@pytest.fixture
def engine(database: str) -> Iterator[sa.Engine]:
    """The queue on a migrated cloud database, SQLite and PostgreSQL in turn (tests/cloud/conftest.py)."""
    with message_engine(database) as engine:
        yield engine


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    with FakeProvider("kavenegar") as running:
        yield running


@pytest.fixture
def clock() -> StepClock:
    return StepClock(NOON_TEHRAN)


def gateway(provider: FakeProvider) -> KavenegarGateway:
    return KavenegarGateway("good-key", "", base_url=provider.url)


def greeting(n: int, category: str = MARKETING, **kwargs: object) -> Outgoing:
    return Outgoing(f"+98912000{n:04d}", f"message {n}", "test", category, f"member-{n}", **kwargs)


def members(engine: sa.Engine, count: int) -> None:
    for n in range(count):
        add_contact(engine, f"member-{n}", f"+98912000{n:04d}")


def test_a_queued_message_is_sent_then_marked_delivered_by_the_providers_report(engine, clock, provider):
    members(engine, 1)
    queue = queue_for(engine, clock)
    assert queue.enqueue([greeting(0)]) == 1
    report = queue.drain(gateway(provider))
    assert report.sent == 1 and [s.message for s in provider.sent] == ["message 0"]
    assert queue.record_delivery(str(provider.sent[0].provider_id), "delivered")
    assert states(engine) == [(1, "delivered", None)]


def test_the_same_dedupe_key_is_queued_once_however_often_it_is_enqueued(engine, clock):
    queue = queue_for(engine, clock)
    key = dedupe_key("birthday", "member-0", "j1405")
    assert queue.enqueue([greeting(0, dedupe_key=key)]) == 1
    assert queue.enqueue([greeting(0, dedupe_key=key), greeting(0, dedupe_key=key)]) == 0
    assert len(states(engine)) == 1


def test_a_gateway_down_for_an_hour_sends_the_backlog_afterwards_in_order_and_nothing_twice(engine, clock, provider):
    members(engine, 5)
    queue = queue_for(engine, clock)
    queue.enqueue([greeting(n) for n in range(5)])
    provider.state.down = 10**6
    for _ in range(12):  # the timer keeps running during the outage
        report = queue.drain(gateway(provider))
        assert report.sent == 0 and report.paused_until is not None
        clock.now = max(clock.now + timedelta(minutes=5), report.paused_until)
        if clock.now - NOON_TEHRAN > timedelta(hours=1):
            break
    assert queue.counts()["queued"] == 5 and provider.sent == []
    provider.state.down = 0
    clock.now = report.paused_until
    assert queue.drain(gateway(provider)).sent == 5
    assert [s.message for s in provider.sent] == [f"message {n}" for n in range(5)]
    assert queue.drain(gateway(provider)).sent == 0 and len(provider.sent) == 5


def test_messages_go_no_faster_than_the_gateways_rate(engine, clock, provider):
    members(engine, 12)
    queue = queue_for(engine, clock, rate_per_second=5.0)
    queue.enqueue([greeting(n) for n in range(12)])
    assert queue.drain(gateway(provider)).sent == 12
    assert clock.slept == pytest.approx(11 / 5)


def test_a_provider_rate_limit_pauses_the_gateway_for_its_retry_after(engine, clock, provider):
    members(engine, 2)
    queue = queue_for(engine, clock)
    queue.enqueue([greeting(0), greeting(1)])
    provider.state.rate_limited = 1
    report = queue.drain(gateway(provider))
    assert report.paused_until == clock.now + timedelta(seconds=7) and "429" in report.last_error
    assert queue.drain(gateway(provider)).sent == 0
    clock.advance(timedelta(seconds=7))
    assert queue.drain(gateway(provider)).sent == 2


def test_marketing_waits_for_the_end_of_quiet_hours_but_a_code_goes_at_once(engine, clock, provider):
    members(engine, 2)
    clock.now = datetime(2026, 5, 10, 23, 0, tzinfo=timezone.utc) - timedelta(hours=3, minutes=30)  # 23:00 Tehran
    queue = queue_for(engine, clock)
    queue.enqueue([greeting(0), greeting(1, TRANSACTIONAL)])
    assert queue.drain(gateway(provider)).sent == 1
    assert [s.message for s in provider.sent] == ["message 1"]
    clock.advance(timedelta(hours=8, minutes=59))  # 07:59
    assert queue.drain(gateway(provider)).sent == 0
    clock.advance(timedelta(minutes=1))
    assert queue.drain(gateway(provider)).sent == 1


def test_a_message_delayed_into_quiet_hours_by_an_outage_waits_for_the_morning(engine, clock, provider):
    members(engine, 1)
    clock.now = datetime(2026, 5, 10, 18, 29, tzinfo=timezone.utc)  # 21:59 Tehran
    queue = queue_for(engine, clock)
    queue.enqueue([greeting(0)])
    clock.advance(timedelta(minutes=2))  # the timer was late: 22:01
    report = queue.drain(gateway(provider))
    assert (report.sent, report.deferred) == (0, 1) and provider.sent == []


def test_the_chain_can_turn_quiet_hours_off(engine, clock, provider):
    members(engine, 1)
    clock.now = datetime(2026, 5, 10, 20, 0, tzinfo=timezone.utc)  # 23:30 Tehran
    queue = queue_for(engine, clock, quiet=QuietHours(datetime.min.time(), datetime.min.time()))
    queue.enqueue([greeting(0)])
    assert queue.drain(gateway(provider)).sent == 1


def test_a_member_who_opted_out_between_scheduling_and_sending_is_not_sent(engine, clock, provider):
    members(engine, 2)
    queue = queue_for(engine, clock)
    queue.enqueue([greeting(0), greeting(1)])
    with engine.begin() as conn:
        conn.execute(sa.update(t.contacts).where(t.contacts.c.member_id == "member-0").values(marketing_consent=False))
    report = queue.drain(gateway(provider))
    assert (report.sent, report.failed) == (1, 1)
    assert [s.message for s in provider.sent] == ["message 1"]
    assert "no marketing consent" in states(engine)[0][2]


def test_an_invalid_number_fails_with_the_providers_reason_and_the_rest_still_go(engine, clock, provider):
    add_contact(engine, "landline", "+982188776655")
    members(engine, 1)
    queue = queue_for(engine, clock)
    queue.enqueue([Outgoing("+982188776655", "hi", "test", MARKETING, "landline"), greeting(0)])
    report = queue.drain(gateway(provider))
    assert (report.sent, report.failed) == (1, 1)
    first = states(engine)[0]
    assert first[1] == "failed" and "411" in first[2]


def test_a_wrong_key_keeps_everything_queued_and_gives_up_only_after_the_attempt_limit(engine, clock, provider):
    members(engine, 2)
    queue = queue_for(engine, clock, max_attempts=3)
    queue.enqueue([greeting(0), greeting(1)])
    wrong = KavenegarGateway("wrong-key", "", base_url=provider.url)
    for _ in range(3):
        report = queue.drain(wrong)
        assert "403" in report.last_error
        clock.now = report.paused_until
    assert [s[1] for s in states(engine)] == ["failed", "queued"]
    assert "gave up after 3 attempts" in states(engine)[0][2]


def test_a_drain_that_crashed_mid_batch_resends_with_the_same_reference_and_the_member_gets_one(
        engine, clock, provider):
    members(engine, 3)
    queue = queue_for(engine, clock)
    queue.enqueue([greeting(n) for n in range(3)])
    real = gateway(provider)

    class CrashAfterSecond:
        name = real.name
        calls = 0

        def send(self, phone: str, text: str, *, reference: str):
            self.calls += 1
            accepted = real.send(phone, text, reference=reference)
            if self.calls == 2:
                raise KeyboardInterrupt("power cut after the provider took message 2")
            return accepted

    with pytest.raises(KeyboardInterrupt):
        queue.drain(CrashAfterSecond())
    assert queue.drain(real).sent == 0  # the claim may still belong to a running drain
    clock.advance(timedelta(minutes=15, seconds=1))
    assert queue.drain(real).sent == 3
    assert [s.message for s in provider.sent] == ["message 0", "message 1", "message 2"]


def test_with_several_messages_in_flight_each_member_still_gets_exactly_one(engine, clock, provider):
    members(engine, 20)
    queue = queue_for(engine, clock, concurrency=4)
    queue.enqueue([greeting(n) for n in range(20)])
    provider.state.down = 2
    # Each 503 pauses the drain it meets. Both usually land in the first drain, but on a loaded machine the
    # first answer can come back before a second message is in flight, and then the next drain meets the
    # other (clean47): resumed after every pause, as the scheduled job does, two outages need at most three.
    pauses = 0
    while (report := queue.drain(gateway(provider))).paused_until is not None:
        pauses += 1
        assert pauses <= 2, report
        clock.now = report.paused_until
    assert pauses >= 1
    assert sorted(s.message for s in provider.sent) == sorted(f"message {n}" for n in range(20))
    assert queue.counts()["sent"] == 20


def test_two_drains_at_once_never_send_a_message_twice(engine, clock, provider):
    members(engine, 30)
    queue_for(engine, clock).enqueue([greeting(n) for n in range(30)])
    import threading

    results = []
    drains = [threading.Thread(target=lambda: results.append(queue_for(engine, clock, rate_per_second=1000.0)
                                                             .drain(gateway(provider)).sent)) for _ in range(2)]
    for drain in drains:
        drain.start()
    for drain in drains:
        drain.join(timeout=60)
    assert sum(results) == 30
    assert sorted(s.message for s in provider.sent) == sorted(f"message {n}" for n in range(30))
