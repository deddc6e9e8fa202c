"""Claims the cloud can only judge once every kiosk's events are in, reversed at the kiosk that made them.

Two real kiosk stores and the real cloud on loopback, both engines: draw entries bought at a kiosk that was
offline while the draw was run count for nothing and their points come back through that kiosk's ledger; a
survey answered at two offline branches keeps one reward. Every balance matches its ledger (`kioskctl verify`)
and the chain's balance agrees.
"""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from cloud import draws
from cloud.db.schema import engagement_reversals
from kiosk.clock import iso
from kiosk.store import Store
from kiosk.store.records import Card
from kiosk.sync.client import CloudClient
from kiosk.sync.engagement import exchange_engagement
from kiosk.sync.worker import SyncWorker
from tests.cloud.conftest import FAST_BACKOFF, card_ref, drain_to_empty

PHONE = "+989121234567"


class Kiosk:
    def __init__(self, cloud, directory, name: str, branch: str) -> None:
        self.client = cloud.registered_client(branch)
        self.store = Store(directory / f"{name}.db", device_id=self.client.device_id, clock=cloud.clock)
        self.worker = SyncWorker(self.store, CloudClient(cloud.url, device_id=self.client.device_id,
                                                         device_key=self.client.device_key, clock=cloud.clock),
                                 clock=cloud.clock, rng=random.Random(3), backoff=FAST_BACKOFF)

    def sync(self) -> None:
        drain_to_empty(self.worker, self.store)
        exchange_engagement(self.store, self.client)

    def close(self) -> None:
        self.worker.close()
        self.worker.client.close()
        self.client.close()
        self.store.close()


@pytest.fixture
def kiosks(cloud, tmp_path):
    made = [Kiosk(cloud, tmp_path, "north", "tehran-01"), Kiosk(cloud, tmp_path, "south", "shiraz-02")]
    yield made
    for kiosk in made:
        kiosk.close()


def sara_at_both(cloud, north: Kiosk, south: Kiosk) -> str:
    """Sara joins at north with 1000 points; south imports her from the chain, as a tap there would."""
    sara = north.store.add_member(PHONE, "Sara")
    north.store.record(sara.id, "bonus", 1000, reason="welcome")
    north.sync()
    south.store.import_member(sara, Card(card_ref(1), sara.id, "rfid125", "card 1", "active", iso(cloud.clock())),
                              cloud.store.lookup(member_id=sara.id)["balance"])
    return sara.id


def chain_balance(cloud, member_id: str) -> int:
    return cloud.store.lookup(member_id=member_id)["balance"]


def open_reversals(cloud) -> list[str]:
    with cloud.store.db.read() as conn:
        return list(conn.execute(select(engagement_reversals.c.ref)
                                 .where(engagement_reversals.c.settled_at.is_(None))).scalars())


def test_entries_from_a_kiosk_offline_during_the_run_count_for_nothing_and_their_points_come_back(cloud, kiosks):
    north, south = kiosks
    sara = sara_at_both(cloud, north, south)
    reza = north.store.add_member("+989350000002", "Reza")
    north.store.record(reza.id, "bonus", 500, reason="welcome")
    now = cloud.clock()
    with cloud.store.db.write() as conn:
        draws.create(conn, draw_id="spring", name="Spring draw", prizes=["Bicycle"], price_points=50,
                     starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1), actor="test", now=now)
    north.sync()
    south.sync()
    north.store.buy_draw_entries(reza.id, north.store.draws()[0], 3, "north-1")
    bought = south.store.buy_draw_entries(sara, south.store.draws()[0], 2, "south-1")  # south is offline from here
    assert bought["balance"] == 900
    north.sync()
    cloud.clock.advance(timedelta(hours=2))
    with cloud.store.db.write() as conn:
        winners = draws.run(conn, "spring", actor="test", now=cloud.clock())
    south.sync()  # back online after the run: its entries arrive late, and the cloud asks for their points back
    assert south.store.balance(sara).points == 1000
    (refund,) = [r for r in south.store.history(sara) if r.kind == "adjust" and r.points > 0 and "draw" in r.reason]
    assert refund.points == 100 and "after the draw was run" in refund.reason
    assert open_reversals(cloud) == [bought["entry_id"]]  # until the kiosk says it applied it
    south.sync()  # the refund reaches the chain and the reversal is settled
    assert open_reversals(cloud) == []
    assert chain_balance(cloud, sara) == 1000
    south.sync()
    assert south.store.balance(sara).points == 1000  # a reversal listed again (a lost reply) moves nothing twice
    with cloud.store.db.read() as conn:
        document = draws.published(conn, "spring", cloud.clock())
        assert draws.run(conn, "spring", actor="test", now=cloud.clock()) == winners
    assert [e["member_id"] for e in document["entries"]] == [reza.id]  # the late entries are not in the list
    assert draws.verify(document) == winners and winners[0]["member_id"] == reza.id
    assert north.store.verify() == [] and south.store.verify() == []


SURVEY = {"q1": 5}


def test_a_survey_answered_at_two_offline_branches_keeps_one_reward_and_the_second_kiosk_takes_its_back(cloud, kiosks):
    north, south = kiosks
    sara = sara_at_both(cloud, north, south)
    # Both offline: each kiosk pays the survey's 20 points, as it must not make a shopper wait for the chain.
    assert north.store.record_survey_answer("00000000-0000-4000-8000-000000000001", sara, "service", SURVEY,
                                            reward_points=20, language="fa").reward_points == 20
    second = "00000000-0000-4000-8000-000000000002"
    assert south.store.record_survey_answer(second, sara, "service", SURVEY, reward_points=20,
                                            language="fa").reward_points == 20
    north.sync()  # north's answer reaches the chain first and keeps its reward
    south.sync()  # south's is counted for nothing; the cloud asks south to take its reward back
    assert north.store.balance(sara).points == 1020
    assert south.store.balance(sara).points == 1000
    (taken,) = [r for r in south.store.history(sara) if r.kind == "adjust" and r.points < 0]
    assert taken.points == -20 and "already rewarded" in taken.reason
    assert open_reversals(cloud) == [second]
    south.sync()
    assert open_reversals(cloud) == [] and chain_balance(cloud, sara) == 1020
    assert north.store.verify() == [] and south.store.verify() == []


def test_a_repeated_survey_reward_already_spent_is_taken_back_only_as_far_as_the_balance_goes(cloud, kiosks):
    north, south = kiosks
    sara = sara_at_both(cloud, north, south)
    north.store.record_survey_answer("00000000-0000-4000-8000-000000000003", sara, "service", SURVEY,
                                     reward_points=20, language="fa")
    south.store.record_survey_answer("00000000-0000-4000-8000-000000000004", sara, "service", SURVEY,
                                     reward_points=20, language="fa")
    south.store.record(sara, "redeem", -1010, reason="a big reward")  # 10 points left at south
    north.sync()
    south.sync()
    assert south.store.balance(sara).points == 0 and south.store.verify() == []
    south.sync()
    assert chain_balance(cloud, sara) == 1000 + 20 + 20 - 1010 - 10


def free_survey_entries(kiosk: Kiosk, member_id: str, answer_id: str) -> dict:
    """What EngagementDesk.free_entries records for an answered survey: the draw's free entries, naming the answer."""
    draw = kiosk.store.draws()[0]
    return kiosk.store.buy_draw_entries(member_id, draw, draw["free_per_survey"], f"survey:spring:{answer_id}",
                                        source="survey", free=True, answer_id=answer_id)


def spring_draw(cloud) -> None:
    now = cloud.clock()
    with cloud.store.db.write() as conn:
        draws.create(conn, draw_id="spring", name="Spring draw", prizes=["Bicycle"], price_points=50,
                     free_per_survey=2, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1),
                     actor="test", now=now)


def run_spring(cloud) -> dict:
    cloud.clock.advance(timedelta(hours=2))
    with cloud.store.db.write() as conn:
        winners = draws.run(conn, "spring", actor="test", now=cloud.clock())
    with cloud.store.db.read() as conn:
        document = draws.published(conn, "spring", cloud.clock())
    assert draws.verify(document) == winners
    return document


@pytest.mark.parametrize("entries_arrive", ["with the answer", "after the answer"])
def test_a_repeated_surveys_free_draw_entries_are_taken_out_of_the_draw_with_its_reward(cloud, kiosks, entries_arrive):
    north, south = kiosks
    sara = sara_at_both(cloud, north, south)
    spring_draw(cloud)
    north.sync()
    south.sync()
    first, second = "00000000-0000-4000-8000-000000000011", "00000000-0000-4000-8000-000000000012"
    north.store.record_survey_answer(first, sara, "service", SURVEY, reward_points=20, language="fa")
    kept = free_survey_entries(north, sara, first)
    south.store.record_survey_answer(second, sara, "service", SURVEY, reward_points=20, language="fa")
    if entries_arrive == "after the answer":  # south crashed before the entries; the page's resend gave them
        north.sync()
        south.sync()
        assert open_reversals(cloud) == [second] and south.store.balance(sara).points == 1000  # reward taken back
    taken = free_survey_entries(south, sara, second)
    assert south.store.draw_entries_of(sara) == {"spring": 2}  # offline, the shopper holds them at first
    north.sync()
    south.sync()  # the chain judges the answer a repeat: reward and free entries go back
    with cloud.store.db.read() as conn:
        kinds = dict(conn.execute(select(engagement_reversals.c.ref, engagement_reversals.c.kind)).all())
    assert kinds == {second: "repeat_survey", taken["entry_id"]: "repeat_survey_entry"}
    assert south.store.draw_entries_of(sara) == {} and north.store.draw_entries_of(sara) == {"spring": 2}
    assert south.store.balance(sara).points == 1000  # the entries were free: only the reward moved
    south.sync()
    assert open_reversals(cloud) == [] and chain_balance(cloud, sara) == 1020
    document = run_spring(cloud)
    assert document["entries"] == [{"entry_id": kept["entry_id"], "member_id": sara, "entries": 2}]  # not south's
    assert north.store.verify() == [] and south.store.verify() == []
