"""The kiosk's wallet travels to the cloud: credit moves and coupon uses go out through the outbox as wire
events, a correction never does, and a kiosk upgraded from schema 6 keeps its purchase-credit ledger."""
from __future__ import annotations

import json
import secrets

import pytest

from kiosk import protocol
from kiosk.rules import coupon_reasons
from kiosk.errors import SpendRefused
from kiosk.rules.rewards import coupon_code
from kiosk.store import Store
from kiosk.store.migrations import MIGRATIONS


def wire(store: Store, kind: str) -> list[dict]:
    rows = store.query("SELECT payload FROM outbox WHERE json_extract(payload, '$.kind') = ? ORDER BY rowid", (kind,))
    return [protocol.event_from_outbox(r["payload"]) for r in rows]


def member_with_credit(store: Store) -> str:
    member = store.add_member("+989121234567", "Sara")
    store.record_purchase(member.id, 2_000_000, 200, reason="purchase", cashback_rial=20_000, receipt_id="R-1")
    return member.id


def commit(member_id: str, key: str, **changes: object) -> dict:
    return {"idempotency_key": key, "quote_id": "q-" + key, "member_id": member_id, "bill_rial": 50_000, "points": 0,
            "points_rial": 0, "credit_rial": 0, "discount_rial": 0, "coupon": None, "to_pay_rial": 50_000,
            "approved_by": None, **changes}


def test_every_credit_move_goes_to_the_cloud_as_a_checked_credit_moved_event(tmp_path):
    with Store(tmp_path / "k.db", device_id="dev-1") as store:
        sara = member_with_credit(store)
        store.commit_spend(commit(sara, "T-1", credit_rial=15_000, to_pay_rial=35_000))
        store.void_spend("T-1")
        moves = wire(store, "credit_moved")
        assert [(e["move"], e["amount_rial"]) for e in moves] == [("cashback", 20_000), ("spend", -15_000),
                                                                  ("reversal", 15_000)]
        assert moves[0]["receipt_id"] == "R-1" and all(e["member_id"] == sara for e in moves)


def test_a_credit_correction_moves_the_wallet_but_is_never_sent_and_cannot_go_below_zero(tmp_path):
    with Store(tmp_path / "k.db", device_id="dev-1") as store:
        sara = member_with_credit(store)
        assert store.correct_credit(sara, -5_000, "cloud_correction: chain credit 15000") == 15_000
        with pytest.raises(SpendRefused):
            store.correct_credit(sara, -16_000, "cloud_correction: chain credit 0")
        assert store.balance(sara).credit_rial == 15_000
        assert len(wire(store, "credit_moved")) == 1  # the cashback only
        assert store.verify() == []


def test_a_coupon_used_and_given_back_at_the_till_is_told_to_the_cloud(tmp_path):
    with Store(tmp_path / "k.db", device_id="dev-1") as store:
        sara = member_with_credit(store)
        store.upsert_reward("coffee", "Coffee", 50)
        code = coupon_code(secrets.token_bytes(8))
        store.redeem_reward(sara, "coffee", code)
        store.commit_spend(commit(sara, "T-1", coupon=code))
        store.void_spend("T-1")
        store.void_spend("T-1")  # a repeated void gives nothing back twice
        assert [(e["kind"], e["code"], e["use_key"]) for e in wire(store, "coupon_used") + wire(store, "coupon_released")] \
            == [("coupon_used", code, "T-1"), ("coupon_released", code, "T-1")]
        # The coupon's issue reaches the cloud as its redeem event, whose reason names it.
        assert [coupon_reasons.coupon_in_reason(e.get("reason")) for e in wire(store, "redeem")] == [("coffee", code)]


def test_the_wire_refuses_wallet_events_that_break_the_schema():
    now = protocol.parse_time("2026-03-01T10:00:00Z")
    for kind, fields, problem in [
        ("credit_moved", {"amount_rial": 0, "move": "cashback"}, "other than 0"),
        ("credit_moved", {"amount_rial": 5, "move": "spend"}, "spend out of it"),
        ("credit_moved", {"amount_rial": -5, "move": "cashback"}, "cashback moves credit into"),
        ("credit_moved", {"amount_rial": 5, "move": "gift"}, "move must be one of"),
        ("coupon_used", {"code": "not-a-code", "use_key": "T-1"}, "code must be a coupon code"),
        ("coupon_used", {"code": "7K3M-Q9XD-2HVB-R", "use_key": "T 1"}, "use_key must be"),
        ("coupon_released", {"code": "7K3M-Q9XD-2HVB-R"}, r"missing \['use_key'\]"),
    ]:
        with pytest.raises(protocol.InvalidEvent, match=problem):
            protocol.make_event(kind, "m-1", now, **fields)
    assert protocol.make_event("credit_moved", "m-1", now, amount_rial=-5, move="reversal")["move"] == "reversal"


def test_a_kiosk_upgraded_from_schema_6_keeps_its_credit_ledger_and_takes_corrections(tmp_path):
    path = tmp_path / "k.db"
    with Store(path, device_id="dev-1", migrations=MIGRATIONS[:6]) as old:
        sara = member_with_credit(old)
    with Store(path, device_id="dev-1") as store:
        assert store.balance(sara).credit_rial == 20_000
        rows = store.query("SELECT kind, amount_rial FROM credit_ledger")
        assert [tuple(r) for r in rows] == [("cashback", 20_000)]
        store.correct_credit(sara, 1_000, "cloud_correction: chain credit 21000")
        assert store.verify() == []
        with pytest.raises(Exception, match="append-only"):
            store.write(lambda db: db.execute("DELETE FROM credit_ledger"))
        assert json.loads(store.query("SELECT payload FROM outbox ORDER BY rowid DESC LIMIT 1")[0][0])["kind"] \
            == "credit_moved"
