"""The console's search and the kiosks' look-up in the shape benchmarks/cloud_scale.py made them take (one index read
for a card, two statements for a look-up), on both engines: what they answer must not change with their shape."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import partial

import pytest

from cloud import members
from cloud.names import fold_name
from cloud.store import CloudStore
from kiosk import protocol

NOW = datetime(2026, 5, 6, 12, tzinfo=timezone.utc)
CARD = "ab" * 32


def enrolled(store: CloudStore) -> None:
    device = store.device(store.register(store.create_token("tehran-01")).device_id)
    store.ingest(device, [
        protocol.make_event("member_enrolled", "m-sara", NOW, phone_e164="+989121234567", name="سارا کریمی"),
        protocol.make_event("card_bound", "m-sara", NOW, card_ref=CARD),
        protocol.make_event("earn", "m-sara", NOW, points=40, amount=400_000),
        # A member whose name holds the card ref's text: a card search must not find them.
        protocol.make_event("member_enrolled", "m-hex", NOW, phone_e164="+989121234568", name=f"x{CARD}x"),
        # Points of a member the cloud has no enrolment of (it was lost): the look-up still answers the balance.
        protocol.make_event("earn", "m-unknown", NOW, points=7, amount=70_000),
    ])


def test_a_card_ref_typed_into_the_search_finds_only_that_cards_member_in_either_case(database):
    with CloudStore(database, clock=lambda: NOW) as store:
        enrolled(store)
        for typed in (CARD, CARD.upper(), f"  {CARD} "):
            found = members.search(store.db, typed)
            assert [(m["member_id"], m["points"]) for m in found] == [("m-sara", 40)], typed
        assert members.search(store.db, "cd" * 32) == []
        assert [m["member_id"] for m in members.search(store.db, "کريمي")] == ["m-sara"]  # Arabic yeh still folds


def test_a_look_up_by_card_or_by_member_answers_the_card_profile_balance_and_credit(database):
    with CloudStore(database, clock=lambda: NOW) as store:
        enrolled(store)
        by_card = store.lookup(card_ref=CARD)
        assert by_card["member_id"] == "m-sara" and by_card["card"]["state"] == "active"
        assert by_card["card"]["member_id"] == "m-sara" and by_card["member"]["name"] == "سارا کریمی"
        assert (by_card["balance"], by_card["ledger_events"], by_card["credit_rial"]) == (40, 1, 0)
        by_member = store.lookup(member_id="m-sara")
        assert by_member["card"] is None and by_member["member"] == by_card["member"]
        assert by_member["balance"] == 40 and by_member["coupons"] == []
        lost = store.lookup(member_id="m-unknown")
        assert lost["member"] is None and lost["balance"] == 7
        assert store.lookup(member_id="m-nobody") is None
        assert store.lookup(card_ref="cd" * 32) is None


def names_enrolled(store: CloudStore, names: list[tuple[str, str]]) -> None:
    """Members m00, m01, ... of the given names and branches (one device per branch, one batch each)."""
    devices = {branch: store.device(store.register(store.create_token(branch)).device_id)
               for branch in sorted({branch for _name, branch in names})}
    for branch, device in devices.items():
        store.ingest(device, [protocol.make_event("member_enrolled", f"m{i:02d}", NOW, phone_e164=f"+98912000{i:04d}",
                                                  name=name) for i, (name, at) in enumerate(names) if at == branch])


# Enrolled out of name order, so an order by member id is not an order by name.
NAMES = [("نیما نوری", "shiraz-02"), ("بیژن کریمی", "tehran-01"), ("آرش کریمی", "tehran-01"),
         ("سارا کریمی", "tehran-01"), ("زهرا نوری", "tehran-01"), ("بهرام کریمی", "shiraz-02")]


@pytest.mark.parametrize("walk", [1, 3, 6, 100])
def test_a_name_search_answers_the_same_first_page_by_name_however_far_it_walks_the_name_index(database, walk):
    with CloudStore(database, clock=lambda: NOW) as store:
        names_enrolled(store, NAMES)
        search = partial(members.search, store.db, limit=2, walk=walk)
        assert [m["name"] for m in search("كريمي")] == ["آرش کریمی", "بهرام کریمی"]
        assert [m["member_id"] for m in search("نوری")] == ["m04", "m00"]
        assert [m["member_id"] for m in search("نوری", frozenset({"shiraz-02"}))] == ["m00"]
        assert [m["member_id"] for m in search("کریمی", frozenset({"tehran-01"}))] == ["m02", "m01"]
        assert search("هیچکس") == []
        assert search("زهرا")[0] == {
            "member_id": "m04", "name": "زهرا نوری", "phone_e164": "+989120000004", "branch": "tehran-01",
            "enrolled_at": protocol.format_time(NOW), "points": None}


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_on_postgresql_the_walk_in_name_order_finds_a_full_page_only_within_its_reach(database):
    with CloudStore(database, clock=lambda: NOW) as store:
        names_enrolled(store, NAMES)
        first_by_name = partial(members._first_by_name, store.db, branches=None, limit=2)
        assert [m["member_id"] for m in first_by_name(fold_name("کریمی"), walk=2)] == ["m02", "m05"]
        # The first three by name hold no "نوری", the first four one of the two: short, so the search asks the trigram
        # index.
        assert [m["member_id"] for m in first_by_name(fold_name("نوری"), walk=4)] == ["m04"]
        assert [m["member_id"] for m in first_by_name(fold_name("نوری"), walk=3)] == []


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_the_walk_is_taken_only_for_a_word_the_planner_expects_often_enough_to_fill_a_page_within_it(database):
    from sqlalchemy import text

    firsts = ("آرش", "بهرام", "بیژن", "زهرا", "سارا", "نیما", "کاوه", "مینا")
    with CloudStore(database, clock=lambda: NOW) as store:
        names_enrolled(store, [(f"{firsts[i % len(firsts)]} کریمی", "tehran-01") for i in range(119)]
                       + [("نادر نوری", "tehran-01")])
        with store.db.read() as conn:
            # Analysed now, not whenever autovacuum gets to it: the estimate is the same in every run.
            conn.execute(text("ANALYZE members"))
            assert members.walk_pays(conn, fold_name("کریمی"), limit=50, walk=60)
            assert not members.walk_pays(conn, fold_name("نوری"), limit=50, walk=60)
            assert not members.walk_pays(conn, fold_name("کریمی"), limit=50, walk=20)
        # The search answers the same either way.
        assert [m["name"] for m in members.search(store.db, "نوری")] == ["نادر نوری"]
        assert len(members.search(store.db, "کریمی", walk=60)) == 50
