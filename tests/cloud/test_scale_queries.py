"""The console's search and the kiosks' look-up in the shape benchmarks/cloud_scale.py made them take (one index read
for a card, two statements for a look-up), on both engines: what they answer must not change with their shape."""

from __future__ import annotations

from datetime import datetime, timezone

from cloud import members
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
