"""A campaign's budget_points is the chain's, end to end: a real cloud on loopback leases each kiosk a share of
it (kind campaign_points), and two kiosks, one of them offline, never give more than the budget between them."""
from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cloud import allocations
from kiosk.config import load, load_secrets
from kiosk.service import KioskService
from kiosk.store import Store
from kiosk.sync.client import CloudClient
from kiosk.sync.engagement import exchange_engagement
from kiosk.sync.worker import SyncWorker
from tests.conftest import write_config

from .conftest import ANSWERED_READ_TIMEOUT, FAST_BACKOFF, RunningCloud

BUDGET = 1000
CONFIG = {
    "rules": {"expiry_days": 0},
    "tiers": [{"name": "bronze", "min_points": 0, "multiplier_percent": 100}],
    "rewards": [],
    "campaigns": [{"id": "double", "type": "multiplier", "name": {"en": "Double points"}, "starts_on": "2020-01-01",
                   "ends_on": "2099-12-31", "earn_multiplier_percent": 200, "budget_points": BUDGET}],
}


@dataclass
class Till:
    store: Store
    service: KioskService
    worker: SyncWorker
    member_id: str = ""

    def sync(self) -> None:
        """The worker's round: config, outbox, then the engagement exchange that reports and tops up grants."""
        self.worker.pull_config()
        assert not self.worker.drain().failed
        exchange_engagement(self.store, self.worker.client)

    def buy(self) -> int:
        """One purchase of 1,000,000 rial (100 points at bronze); the points the campaign added."""
        return dict(self.service.earn(self.member_id, 1_000_000).campaigns).get("double", 0)


@pytest.fixture
def tills(cloud: RunningCloud, tmp_path: Path) -> Iterator[Any]:
    made: list[Till] = []

    def make(name: str, branch: str, phone: str) -> Till:
        settings = load(write_config(tmp_path / name, device_id=name))
        cloud.store.set_config(branch, CONFIG)
        with cloud.registered_client(branch) as registered:
            client = CloudClient(cloud.url, device_id=registered.device_id, device_key=registered.device_key,
                                 clock=cloud.clock, connect_timeout=2.0, read_timeout=ANSWERED_READ_TIMEOUT)
        store = Store(tmp_path / name / "kiosk.db", device_id=name, clock=cloud.clock)
        service = KioskService(store, settings, load_secrets(settings.device.secrets_file), clock=cloud.clock)
        worker = SyncWorker(store, client, clock=cloud.clock, rng=random.Random(7), backoff=FAST_BACKOFF,
                            on_status=lambda status: setattr(service, "link", status.link.value),
                            on_config=service.apply_config)
        service.link = "offline"
        till = Till(store, service, worker)
        made.append(till)
        till.member_id = service.enroll(phone, "Sara").id
        return till

    yield make
    for till in made:
        assert till.store.verify() == []
        till.worker.close()
        till.worker.client.close()
        till.store.close()


def given(till: Till) -> int:
    return sum(n for campaign, n in till.store.campaigns_given().items() if campaign == "double")


def test_two_kiosks_one_offline_never_give_more_campaign_points_than_the_chain_budget(cloud, tills):
    a, b = tills("kiosk-a", "tehran-01", "+989121111111"), tills("kiosk-b", "shiraz-02", "+989122222222")
    a.sync()
    b.sync()
    assert a.store.grants_left(["campaign:double"]) == {"campaign:double": BUDGET // 10}  # each holds its share
    welcome = a.store.balance(a.member_id).points

    # B goes offline with its share: it gives what its grant holds, then nothing more until it syncs.
    assert [b.buy() for _ in range(3)] == [100, 0, 0]
    # A keeps selling and syncing: it gets more each round, until the chain has committed the whole budget.
    rounds = []
    for _ in range(15):
        rounds.append(a.buy())
        a.sync()
    assert sum(rounds) == BUDGET - 100 and rounds[-1] == 0
    assert given(a) + given(b) == BUDGET

    b.sync()  # back online: its use is reported, and nothing is left to grant it
    assert b.buy() == 0
    assert given(a) + given(b) == BUDGET
    with cloud.store.db.read() as conn:
        usage = allocations.usage(conn, "campaign:double", cloud.clock())
    assert usage == {"today": BUDGET, "total": BUDGET, "used": BUDGET}
    # The purchases themselves still earn their base points: only the campaign's extra stopped.
    assert a.store.balance(a.member_id).points == welcome + 100 * len(rounds) + (BUDGET - 100)


def test_a_purchase_gets_only_what_is_left_of_the_kiosks_grant_and_a_raised_budget_is_granted_at_sync(cloud, tills):
    a = tills("kiosk-a", "tehran-01", "+989121111111")
    a.sync()
    a.service.earn(a.member_id, 600_000)  # the campaign adds 60 of the 100 held
    assert a.store.grants_left(["campaign:double"])["campaign:double"] == 40
    assert a.service.earn(a.member_id, 600_000).campaigns == (("double", 40),)  # not 60: the grant holds 40
    assert a.buy() == 0
    cloud.store.set_config("tehran-01", {**CONFIG, "campaigns": [{**CONFIG["campaigns"][0], "budget_points": 2000}]})
    a.sync()
    assert a.store.grants_left(["campaign:double"])["campaign:double"] == 200  # the new share of the new budget
    assert a.buy() == 100


def test_a_kiosk_that_has_not_exchanged_with_the_cloud_gives_no_budgeted_campaign_points(cloud, tills):
    a = tills("kiosk-a", "tehran-01", "+989121111111")
    a.service.apply_config(CONFIG)  # the config came (a cached one), but no grant yet
    welcome = a.store.balance(a.member_id).points
    assert a.buy() == 0
    assert a.store.balance(a.member_id).points == welcome + 100
