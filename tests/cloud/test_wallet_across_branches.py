"""Coupons and purchase credit across branches, end to end: a real cloud on loopback and two kiosks (each its
own SQLite file, service, sync worker, card look-up and chain coupons), as two branches of one chain.

A coupon issued at branch A is used once at branch B's till and then refused everywhere; credit earned at A
is spent at B and never below zero; a coupon of another branch is refused with a reason while offline."""
from __future__ import annotations

import random
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from drivers.events import CardRead
from kiosk.config import load, load_secrets
from kiosk.errors import ChainUnreachable, SpendRefused
from kiosk.flows import KioskFlows, build_flows, coupons
from kiosk.service import KioskService
from kiosk.store import Store
from kiosk.sync.client import CloudClient
from kiosk.sync.coupons import ChainCoupons
from kiosk.sync.lookup import ChainCardLookup
from kiosk.sync.worker import SyncWorker
from tests.conftest import kioskctl, write_config

from .conftest import ANSWERED_READ_TIMEOUT, FAST_BACKOFF, RunningCloud

UID = "0A1B2C3D4E"
TIMEOUT = ANSWERED_READ_TIMEOUT  # no hung cloud in this file
CONFIG = {
    "rules": {"cashback_basis_points": 100, "max_points_percent": 50, "expiry_days": 0},
    "tiers": [{"name": "bronze", "min_points": 0, "multiplier_percent": 100}],
    "rewards": [{"id": "coffee", "name": {"fa": "قهوه", "en": "Coffee"}, "cost_points": 50}],
    "campaigns": [],
}


@dataclass
class Branch:
    name: str
    config: Path
    store: Store
    service: KioskService
    worker: SyncWorker
    lookup: ChainCardLookup
    coupons: ChainCoupons
    flows: KioskFlows
    seen: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def tap(self) -> dict[str, Any]:
        self.seen.clear()
        self.service.handle(CardRead(UID, "rfid125", "counter"))
        return next(p for n, p in self.seen if n == "member")

    def sync(self) -> None:
        self.worker.pull_config()
        assert not self.worker.drain().failed
        self.worker.reconcile_pending()
        assert self.store.outbox_depth() == 0

    def pay(self, bill: int, key: str, **quote: Any) -> dict[str, Any]:
        ready = self.flows.till.quote({"bill_rial": bill, **quote})
        row, created = self.flows.till.commit({"quote_id": ready.quote_id, "idempotency_key": key, "bill_rial": bill})
        assert created
        return row

    def close(self) -> None:
        self.flows.close()
        self.coupons.close()
        self.lookup.close()
        self.worker.close()
        self.worker.client.close()
        self.store.close()


@pytest.fixture
def branches(cloud: RunningCloud, tmp_path: Path) -> Iterator[Any]:
    made: list[Branch] = []

    def make(name: str, branch: str) -> Branch:
        directory = tmp_path / name
        directory.mkdir()
        if made:  # one chain secret: the same card is the same card_ref at every branch
            shutil.copy2(made[0].config.parent / "secrets.toml", directory / "secrets.toml")
        config = write_config(directory, device_id=name)
        settings = load(config)
        cloud.store.set_config(branch, CONFIG)
        with cloud.registered_client(branch) as registered:
            device_id, device_key = registered.device_id, registered.device_key
        store = Store(directory / "kiosk.db", device_id=name, clock=cloud.clock)
        client = CloudClient(cloud.url, device_id=device_id, device_key=device_key, clock=cloud.clock,
                             connect_timeout=TIMEOUT, read_timeout=TIMEOUT)
        service = KioskService(store, settings, load_secrets(settings.device.secrets_file), clock=cloud.clock)
        lookup, chain = ChainCardLookup(client.clone()), ChainCoupons(client.clone())
        service.chain_lookup, service.chain_coupons = lookup, chain
        worker = SyncWorker(store, client, clock=cloud.clock, rng=random.Random(5), backoff=FAST_BACKOFF,
                            on_status=lambda status: setattr(service, "link", status.link.value),
                            on_config=service.apply_config)
        service.link = "offline"
        kiosk = Branch(name, config, store, service, worker, lookup, chain, build_flows(service))
        made.append(kiosk)  # closed even if the next lines fail
        service.subscribe(lambda n, p: kiosk.seen.append((n, p)))
        service.subscribe(lambda n, p: worker.request_reconcile(p["member_id"]) if n == "member" else None)
        kiosk.sync()
        assert service.link == "online" and service.store.reward("coffee") is not None
        return kiosk

    yield make
    for kiosk in made:
        assert kiosk.store.verify() == [], kiosk.name  # every test leaves both ledgers balanced
    for kiosk in made:
        kiosk.close()


def sara_at(a: Branch) -> str:
    member = a.service.enroll("+989121234567", "Sara", consent=True, language="en")
    a.service.bind(member.id, "rfid125", UID)
    a.service.earn(member.id, 3_000_000)  # 300 points and 30,000 rial of cashback
    return member.id


def refusal(kiosk: Branch, code: str) -> SpendRefused:
    """Why the till refuses a quote with this coupon (it must refuse)."""
    with pytest.raises(SpendRefused) as refused:
        kiosk.flows.till.quote({"bill_rial": 100_000, "coupon_code": code})
    return refused.value


def chain(cloud: RunningCloud, member_id: str) -> dict[str, Any]:
    return cloud.store.lookup(member_id=member_id)


def test_a_coupon_issued_at_branch_a_is_used_once_at_branch_b_and_then_refused_everywhere(cloud, branches):
    a, b = branches("kiosk-a", "tehran-01"), branches("kiosk-b", "shiraz-02")
    sara = sara_at(a)
    code = coupons.redeem(a.service, sara, "coffee").code
    a.sync()
    assert b.tap()["member_id"] == sara  # B imports her from the chain

    looked = b.flows.till.coupon(code)
    assert (looked["valid"], looked["branch"], looked["member_id"], looked["reward"]) == (True, "tehran-01", sara, "قهوه")
    row = b.pay(100_000, "B-1", coupon_code=code, use_points=False, use_credit=False)
    assert row["coupon"] == code
    assert refusal(b, code).reason == "coupon_used"  # the same coupon again at B
    b.sync()
    assert b.store.chain_coupon(code)["used_by"] == "B-1" and _used_key(cloud, code) == "B-1"

    # Back at A, its own coupon still looks unused locally, but the chain says B took it.
    assert [c["code"] for c in a.tap()["coupons"]] == [code]
    quote = a.flows.till.quote({"bill_rial": 100_000, "coupon_code": code, "use_points": False})
    with pytest.raises(SpendRefused) as refused:
        a.flows.till.commit({"quote_id": quote.quote_id, "idempotency_key": "A-1", "bill_rial": 100_000})
    assert refused.value.reason == "coupon_used" and "shiraz-02" in str(refused.value)
    assert a.store.till_commit("A-1") is None and a.store.balance(sara).credit_rial == 30_000  # nothing taken
    assert a.tap()["coupons"] == []  # and it left her wallet at A
    assert a.store.verify() == [] and b.store.verify() == []


def test_credit_earned_at_branch_a_is_spent_at_branch_b_and_never_below_zero(cloud, branches):
    a, b = branches("kiosk-a", "tehran-01"), branches("kiosk-b", "shiraz-02")
    sara = sara_at(a)
    a.sync()
    assert chain(cloud, sara)["credit_rial"] == 30_000
    assert b.tap()["member_id"] == sara
    assert b.store.balance(sara).credit_rial == 30_000  # imported with her points

    row = b.pay(20_000, "B-1", member_id=sara, use_points=False)
    assert (row["credit_rial"], row["to_pay_rial"]) == (20_000, 0)
    row = b.pay(50_000, "B-2", member_id=sara, use_points=False)
    assert (row["credit_rial"], row["to_pay_rial"]) == (10_000, 40_000)  # what is left, not a rial more
    assert b.store.balance(sara).credit_rial == 0
    b.sync()
    assert chain(cloud, sara)["credit_rial"] == 0

    # A still holds 30,000 until the member shows up there: the tap's reconcile brings the chain's figure.
    a.tap()
    a.sync()
    assert a.store.balance(sara).credit_rial == 0
    quote = a.flows.till.quote({"bill_rial": 10_000, "member_id": sara, "use_points": False})
    assert quote.credit_rial == 0

    # Earned at B, spent at A: the credit follows her the other way too.
    b.service.earn(sara, 1_000_000)  # 10,000 rial of cashback at B
    b.sync()
    a.tap()
    a.sync()
    assert a.store.balance(sara).credit_rial == 10_000
    a.pay(10_000, "A-1", member_id=sara, use_points=False)
    a.sync()
    assert chain(cloud, sara)["credit_rial"] == 0
    assert a.store.verify() == [] and b.store.verify() == []
    assert kioskctl(a.config, "verify").returncode == 0


def test_another_branchs_coupon_is_refused_with_a_reason_when_the_cloud_cannot_be_asked(cloud, branches):
    a, b = branches("kiosk-a", "tehran-01"), branches("kiosk-b", "shiraz-02")
    sara = sara_at(a)
    mine, theirs = (coupons.redeem(a.service, sara, "coffee").code for _ in range(2))
    a.sync()
    b.tap()
    b.service.link = "offline"
    a.service.link = "offline"

    offline = refusal(b, theirs)
    assert (offline.reason, offline.status) == ("coupon_offline", 503)
    assert "once the kiosk is online" in str(offline)
    # A kiosk's own coupon offline: its own ledger decides, and the use reaches the chain later.
    a.pay(100_000, "A-1", coupon_code=mine, use_points=False)
    a.service.link = "online"
    a.sync()
    b.service.link = "online"
    assert refusal(b, mine).reason == "coupon_used"


def test_a_voided_commit_gives_another_branchs_coupon_back_to_the_chain(cloud, branches):
    a, b = branches("kiosk-a", "tehran-01"), branches("kiosk-b", "shiraz-02")
    sara = sara_at(a)
    code = coupons.redeem(a.service, sara, "coffee").code
    a.sync()
    b.tap()
    b.pay(100_000, "B-1", coupon_code=code, use_points=False)
    b.flows.till.void("B-1")
    b.sync()
    assert b.store.chain_coupon(code)["used_at"] is None
    row = a.pay(100_000, "A-1", coupon_code=code, use_points=False)  # free again, used at its own branch
    assert row["coupon"] == code
    a.sync()
    assert refusal(b, code).reason == "coupon_used"


def test_two_tills_claiming_one_coupon_at_once_get_it_exactly_once(cloud, branches):
    a, b = branches("kiosk-a", "tehran-01"), branches("kiosk-b", "shiraz-02")
    sara = sara_at(a)
    code = coupons.redeem(a.service, sara, "coffee").code
    a.sync()
    outcomes: dict[str, str] = {}
    lock = threading.Lock()

    def claim(kiosk: Branch, key: str) -> None:
        try:
            kiosk.coupons.claim(code, sara, key)
            result = "claimed"
        except SpendRefused as exc:
            result = exc.reason
        except ChainUnreachable as exc:
            result = f"unreachable: {exc}"
        with lock:
            outcomes[key] = result

    tills = {f"{k.name}-{n}": k for n in range(3) for k in (a, b)}
    # A kiosk asks the cloud one question at a time and each claim's wait counts from when it was asked, so
    # three tills on one kiosk queue behind each other: the third may wait for three answers.
    for kiosk in (a, b):
        kiosk.coupons.timeout = 3 * TIMEOUT
    threads = [threading.Thread(target=claim, args=(kiosk, key)) for key, kiosk in tills.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == ["claimed"] + ["coupon_used"] * 5
    winner = next(key for key, result in outcomes.items() if result == "claimed")
    assert _used_key(cloud, code) == winner
    assert tills[winner].coupons.claim(code, sara, winner)["code"] == code  # a retried claim is the same claim


def _used_key(cloud: RunningCloud, code: str) -> str | None:
    from sqlalchemy import select

    from cloud.db.schema import coupons as table
    with cloud.store.db.read() as conn:
        return conn.execute(select(table.c.used_key).where(table.c.code == code)).scalar()


def test_the_coupon_endpoints_refuse_bad_requests_other_members_and_unsigned_callers(cloud, branches):
    import requests

    from kiosk.sync.errors import CloudRefused

    a = branches("kiosk-a", "tehran-01")
    sara = sara_at(a)
    code = coupons.redeem(a.service, sara, "coffee").code
    a.sync()
    client = a.worker.client
    assert client.coupon("7K3M-Q9XD-2HVB-R") is None  # well formed, never issued
    assert a.coupons.claim("7K3M-Q9XD-2HVB-R", sara, "T-1") is None
    with pytest.raises(CloudRefused) as bad_code:
        client.coupon("7k3m q9xd")
    assert (bad_code.value.status, bad_code.value.code) == (400, "bad_request")
    with pytest.raises(CloudRefused) as bad_key:
        client.use_coupon(code, sara, "no spaces allowed")
    assert bad_key.value.status == 400
    with pytest.raises(SpendRefused) as other:
        a.coupons.claim(code, "someone-else", "T-1")
    assert other.value.reason == "coupon_other_member"
    unsigned = requests.post(f"{cloud.url}/v1/devices/{client.device_id}/coupons/{code}/use",
                             json={"member_id": sara, "use_key": "T-1"}, timeout=5)
    assert unsigned.status_code == 401
    assert _used_key(cloud, code) is None  # none of it claimed the coupon

