"""Purchase credit spent at two branches at the same moment, end to end (a real cloud on loopback, SQLite and
PostgreSQL, and two kiosks): every till commit that spends credit first holds it in the chain's cloud
(cloud/credit_holds.py), so the last of a member's credit is spent once; a commit that fails here gives its
hold back; credit this kiosk earned and has not sent yet is still spendable here; offline, the kiosk's own
ledger decides."""
from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
import requests
from sqlalchemy import select

from cloud.db.schema import credit_balances, credit_holds
from kiosk.errors import SpendRefused
from kiosk.sync.errors import CloudRefused
from tests.conftest import kioskctl

from .test_wallet_across_branches import Branch, branches, sara_at  # noqa: F401 (branches is a fixture)


def chain_credit(cloud: Any, member_id: str) -> tuple[int, int]:
    """(credit_rial, held_rial) the cloud keeps for the member."""
    with cloud.store.db.read() as conn:
        row = conn.execute(select(credit_balances.c.credit_rial, credit_balances.c.held_rial)
                           .where(credit_balances.c.member_id == member_id)).first()
    return (row[0], row[1]) if row else (0, 0)


def hold_states(cloud: Any) -> dict[str, str]:
    with cloud.store.db.read() as conn:
        return dict(conn.execute(select(credit_holds.c.use_key, credit_holds.c.state)).all())


def quote(kiosk: Branch, bill: int, member_id: str, **extra: Any) -> Any:
    return kiosk.flows.till.quote({"bill_rial": bill, "member_id": member_id, "use_points": False, **extra})


def commit(kiosk: Branch, ready: Any, key: str) -> dict[str, Any]:
    row, created = kiosk.flows.till.commit({"quote_id": ready.quote_id, "idempotency_key": key,
                                            "bill_rial": ready.bill_rial})
    assert created
    return row


def test_two_branches_spending_the_last_of_a_members_credit_at_once_get_it_exactly_once(cloud, branches):
    a, b = branches("kiosk-a", "tehran-01"), branches("kiosk-b", "shiraz-02")
    sara = sara_at(a)  # 30,000 rial of credit, earned at A
    a.sync()
    assert b.tap()["member_id"] == sara and b.store.balance(sara).credit_rial == 30_000
    quotes = {"A-1": (a, quote(a, 30_000, sara)), "B-1": (b, quote(b, 30_000, sara))}
    assert all(q.credit_rial == 30_000 for _, q in quotes.values())  # each kiosk alone would give all of it
    outcomes: dict[str, str] = {}
    lock = threading.Lock()
    start = threading.Barrier(2)

    def pay(key: str) -> None:
        kiosk, ready = quotes[key]
        start.wait(timeout=10)
        try:
            commit(kiosk, ready, key)
            result = "paid"
        except SpendRefused as exc:
            result = f"{exc.reason}: {exc}"
        with lock:
            outcomes[key] = result

    threads = [threading.Thread(target=pay, args=(key,)) for key in quotes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(o.split(":")[0] for o in outcomes.values()) == ["credit_short", "paid"], outcomes
    loser = next(key for key, o in outcomes.items() if o != "paid")
    assert "another branch" in outcomes[loser] and "ask for a new quote" in outcomes[loser]
    loser_kiosk = quotes[loser][0]
    assert loser_kiosk.store.till_commit(loser) is None  # nothing taken at the refused till
    # The refused kiosk takes the chain's figure at once (test_credit_refused_not_offered_again.py).
    assert loser_kiosk.store.balance(sara).credit_rial == 0
    a.sync()
    b.sync()
    assert chain_credit(cloud, sara) == (0, 0)  # spent once, the winner's hold settled by its spend event
    # The refused branch's wallet follows the chain at her next tap.
    loser_kiosk.tap()
    loser_kiosk.sync()
    assert loser_kiosk.store.balance(sara).credit_rial == 0
    assert quote(loser_kiosk, 30_000, sara).credit_rial == 0
    for kiosk in (a, b):
        assert kiosk.store.verify() == [] and kioskctl(kiosk.config, "verify").returncode == 0


def test_a_commit_that_fails_after_its_hold_gives_the_credit_back_to_the_chain(cloud, branches):
    a, b = branches("kiosk-a", "tehran-01"), branches("kiosk-b", "shiraz-02")
    sara = sara_at(a)  # 30,000 rial of credit and some points
    a.sync()
    b.tap()
    ready = a.flows.till.quote({"bill_rial": 100_000, "member_id": sara})
    assert ready.credit_rial == 30_000 and ready.points > 0
    a.service.redeem(sara, a.store.balance(sara).points)  # her points go before the till commits
    with pytest.raises(SpendRefused) as refused:
        commit(a, ready, "A-1")
    assert refused.value.reason == "quote_changed"
    assert hold_states(cloud) == {"A-1": "held"}  # the cloud held it before the local commit failed
    a.sync()
    assert hold_states(cloud) == {"A-1": "released"} and chain_credit(cloud, sara) == (30_000, 0)
    row = commit(b, quote(b, 30_000, sara), "B-1")  # so B may spend all of it
    assert row["credit_rial"] == 30_000
    b.sync()
    assert chain_credit(cloud, sara) == (0, 0) and hold_states(cloud)["B-1"] == "settled"


def test_credit_earned_here_and_not_sent_yet_is_spendable_here_and_a_forgotten_hold_expires(cloud, branches):
    a, b = branches("kiosk-a", "tehran-01"), branches("kiosk-b", "shiraz-02")
    sara = sara_at(a)
    a.sync()
    b.tap()
    a.service.earn(sara, 1_000_000)  # 10,000 more rial, still in A's outbox
    assert chain_credit(cloud, sara) == (30_000, 0)
    row = commit(a, quote(a, 40_000, sara), "A-1")  # the hold counts A's unsent cashback
    assert row["credit_rial"] == 40_000
    a.sync()
    assert chain_credit(cloud, sara) == (0, 0)

    # A till that held credit and never committed (it crashed) holds it only for a while.
    b.service.earn(sara, 2_000_000)
    b.sync()
    a.coupons.hold_credit(sara, 20_000, "A-lost", [])
    with pytest.raises(SpendRefused) as short:
        commit(b, quote(b, 20_000, sara), "B-1")
    assert short.value.reason == "credit_short"
    cloud.clock.advance(timedelta(minutes=11))
    b.tap()
    b.sync()  # the refusal left B's wallet at what the chain had free then; the reconcile lifts it again
    assert commit(b, quote(b, 20_000, sara), "B-2")["credit_rial"] == 20_000
    b.sync()
    assert hold_states(cloud)["A-lost"] == "expired" and chain_credit(cloud, sara) == (0, 0)


def test_offline_a_till_spends_credit_by_its_own_ledger(cloud, branches):
    a = branches("kiosk-a", "tehran-01")
    sara = sara_at(a)
    a.sync()
    a.service.link = "offline"
    assert commit(a, quote(a, 30_000, sara), "A-1")["credit_rial"] == 30_000
    assert hold_states(cloud) == {}  # nothing was asked
    a.service.link = "online"
    a.sync()
    assert chain_credit(cloud, sara) == (0, 0)


def test_the_credit_hold_endpoint_refuses_bad_requests_replays_and_unsigned_callers(cloud, branches):
    a = branches("kiosk-a", "tehran-01")
    sara = sara_at(a)
    a.sync()
    client = a.worker.client
    for bad in ({"member_id": sara, "amount_rial": 0, "use_key": "T-1"},
                {"member_id": sara, "amount_rial": 10, "use_key": "no spaces"},
                {"member_id": sara, "amount_rial": 10, "use_key": "T-1", "unsent": [["e", "10", None]]},
                {"member_id": sara, "amount_rial": 10, "use_key": "T-1", "extra": 1}):
        with pytest.raises(CloudRefused) as refused:
            client._json(client._request("POST", f"/v1/devices/{client.device_id}/credit/hold",
                                         __import__("json").dumps(bad).encode()), "credit hold")
        assert (refused.value.status, refused.value.code) == (400, "bad_request"), bad
    assert client.hold_credit(sara, 10_000, "T-1", [])["state"] == "held"
    assert client.hold_credit(sara, 10_000, "T-1", [])["held_rial"] == 10_000  # the same hold again
    with pytest.raises(CloudRefused) as replay:
        client.hold_credit(sara, 20_000, "T-1", [])
    assert replay.value.code == "replay_mismatch"
    with pytest.raises(SpendRefused) as short:
        a.coupons.hold_credit(sara, 20_001, "T-2", [])
    assert short.value.reason == "credit_short" and "20000 rial" in str(short.value)
    unsigned = requests.post(f"{cloud.url}/v1/devices/{client.device_id}/credit/hold",
                             json={"member_id": sara, "amount_rial": 1, "use_key": "T-3"}, timeout=5)
    assert unsigned.status_code == 401
    assert chain_credit(cloud, sara) == (30_000, 10_000)
