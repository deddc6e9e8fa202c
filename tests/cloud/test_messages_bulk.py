"""Kavenegar's bulk call (sendarray.json): a drain hands up to 200 messages per round trip, still at the
gateway's rate, each message exactly once, a bad number failing only itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from cloud.messages import tables as t
from cloud.messages.gateways import Accepted, GatewayError
from cloud.messages.kavenegar import KavenegarGateway
from cloud.messages.queue import Outgoing
from cloud.messages.rules import TRANSACTIONAL
from tests.cloud.messages_kit import NOON_TEHRAN, StepClock, message_engine, queue_for, states
from tests.support.sms_providers import FakeProvider


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    with FakeProvider("kavenegar") as running:
        yield running


@pytest.fixture
def engine(database: str) -> Iterator[sa.Engine]:
    with message_engine(database) as engine:
        yield engine


def bulk(provider: FakeProvider, key: str = "good-key") -> KavenegarGateway:
    return KavenegarGateway(key, "10004346", base_url=provider.url)


def code(n: int, phone: str | None = None) -> Outgoing:
    return Outgoing(phone or f"+98912000{n:04d}", f"code {n}", "otp", TRANSACTIONAL)


def test_three_messages_go_in_one_bulk_call_each_with_its_own_provider_id(provider):
    outcomes = bulk(provider).send_many([("+989120000001", "یک", "m1"), ("+989120000002", "two", "m2"),
                                         ("+989120000003", "سه", "m3")])
    assert provider.state.calls == {"sendarray": 1}
    assert [(s.receptor, s.message, s.sender) for s in provider.sent] == [
        ("989120000001", "یک", "10004346"), ("989120000002", "two", "10004346"), ("989120000003", "سه", "10004346")]
    assert outcomes == [Accepted(str(s.provider_id), 120) for s in provider.sent]
    assert sorted(provider.state.by_local_id) == ["1", "2", "3"]  # Kavenegar's local ids are numbers


def test_a_bad_number_in_a_chunk_fails_alone_and_a_retried_chunk_texts_nobody_twice(provider):
    gateway = bulk(provider)
    chunk = [("+989120000001", "a", "m1"), ("+982188776655", "b", "m2"), ("+989120000003", "c", "m3")]
    first = gateway.send_many(chunk)
    assert isinstance(first[1], GatewayError) and first[1].message_fault and "411" in first[1].reason
    assert [s.receptor for s in provider.sent] == ["989120000001", "989120000003"]
    again = gateway.send_many([chunk[0], chunk[2]])
    assert again == [first[0], first[2]] and len(provider.sent) == 2


def test_a_gateway_fault_on_the_bulk_call_is_the_chunks_only_outcome(provider):
    provider.state.credit = 1
    outcomes = bulk(provider).send_many([("+989120000001", "a", "m1"), ("+989120000002", "b", "m2")])
    assert len(outcomes) == 1 and not outcomes[0].message_fault and "418" in outcomes[0].reason
    assert provider.sent == []
    wrong = bulk(provider, "wrong-key").send_many([("+989120000001", "a", "m1"), ("+989120000002", "b", "m2")])
    assert len(wrong) == 1 and "403" in wrong[0].reason


def test_without_a_sender_line_each_message_goes_alone(provider):
    gateway = KavenegarGateway("good-key", "", base_url=provider.url)
    assert gateway.batch_limit == 1
    assert len(gateway.send_many([("+989120000001", "a", "m1"), ("+989120000002", "b", "m2")])) == 2
    assert provider.state.calls == {"send": 2}


def test_a_drain_sends_450_messages_in_three_bulk_calls_in_order_once_each(engine, provider):
    clock = StepClock(NOON_TEHRAN)
    queue = queue_for(engine, clock, rate_per_second=1000.0)
    queue.enqueue(code(n) for n in range(450))
    assert queue.drain(bulk(provider)).sent == 450
    assert provider.state.calls == {"sendarray": 3}
    assert [s.message for s in provider.sent] == [f"code {n}" for n in range(450)]
    with engine.connect() as conn:
        ids = conn.execute(sa.select(sa.func.count(sa.distinct(t.messages.c.provider_id)))).scalar()
    assert ids == 450 and {state for _, state, _ in states(engine)} == {"sent"}


def test_a_bulk_chunk_goes_no_sooner_than_its_last_messages_rate_slot(engine, provider):
    clock = StepClock(NOON_TEHRAN)
    queue = queue_for(engine, clock, rate_per_second=5.0)
    queue.enqueue(code(n) for n in range(12))
    real = bulk(provider)
    calls: list[tuple[float, int]] = []  # (seconds since start, messages handed over so far)

    class Recording:
        name = real.name
        batch_limit = real.batch_limit

        def send_many(self, messages):
            calls.append(((clock.now - NOON_TEHRAN).total_seconds(), len(messages) + (calls[-1][1] if calls else 0)))
            return real.send_many(messages)

    assert queue.drain(Recording()).sent == 12
    assert all(at >= (handed - 1) / 5 - 1e-9 for at, handed in calls), calls
    assert clock.slept == pytest.approx(11 / 5) and len(calls) == 3


def test_a_bulk_gateway_down_then_back_sends_the_backlog_in_order_and_nothing_twice(engine, provider):
    clock = StepClock(NOON_TEHRAN)
    queue = queue_for(engine, clock, rate_per_second=1000.0)
    queue.enqueue([code(n) for n in range(3)] + [code(3, "+982188776655")] + [code(n) for n in range(4, 250)])
    provider.state.down = 1
    report = queue.drain(bulk(provider))
    assert report.sent == 0 and "503" in report.last_error and queue.counts()["queued"] == 250
    clock.now = report.paused_until
    report = queue.drain(bulk(provider))
    assert (report.sent, report.failed) == (249, 1)
    assert [s.message for s in provider.sent] == [f"code {n}" for n in range(250) if n != 3]
    assert "411" in states(engine)[3][2]
    assert queue.drain(bulk(provider)).sent == 0 and len(provider.sent) == 249
