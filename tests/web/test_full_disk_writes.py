"""Every write path on a real full disk (a small tmpfs under the data directory, filled to its last block):
each answers a clear reason (JSON on the APIs, a screen message for the shopper), loses nothing already
recorded, and works again once space returns.

The outbox marked by the sync worker on a full disk is covered in tests/cloud/test_sync_disk_full.py.
"""
from __future__ import annotations

from dataclasses import dataclass
import pytest

from kiosk.errors import StoreError
from kiosk.receipts import Receipt, sign_receipt
from kiosk.ui_events import UiEvent
from tests.support.full_disk import SmallDisk
from tests.web.conftest import BRANCH_KEY, POS_TOKEN, STAFF_PIN, Counter, open_counter

TILL = {"Authorization": f"Bearer {POS_TOKEN}"}
NEW_CARD = "7788990011"


@dataclass
class FullShop:
    kit: Counter
    disk: SmallDisk
    events: list

    def kept(self) -> tuple:
        """What must not change while the disk is full: every count, both members' balances, a clean ledger."""
        store = self.kit.service.store
        return (store.counts(), store.outbox_depth(), store.balance(self.kit.sara).points,
                store.balance(self.kit.ali).points, store.verify())

    def emitted(self, name: str) -> list[dict]:
        return [payload for event, payload in self.events if event == name]

    def till(self, method: str, path: str, body: dict | None = None):
        return self.kit.client.open(f"/pos/v1{path}", method=method, json=body, headers=TILL)


@pytest.fixture
def shop(tmp_path):
    directory = tmp_path / "counter"
    with SmallDisk(directory / "data") as disk, open_counter(directory) as kit:
        events: list = []
        kit.service.subscribe(lambda name, payload: events.append((name, payload)))
        yield FullShop(kit, disk, events)


def assert_storage_full_json(answer, *, till: bool = False) -> None:
    body = answer.get_json()
    assert answer.status_code == 503 and answer.is_json, (answer.status_code, answer.get_data(as_text=True))
    if till:
        assert body["reason"] == "storage_full" and "is full; nothing was written" in body["error"]
    else:
        assert body["error"] == "storage_full" and "is full; nothing was written" in body["message"]


def test_enrolling_with_a_tapped_card_on_a_full_disk_tells_the_shopper_and_the_next_tap_enrols(shop):
    kit = shop.kit
    answers = {"phone": "09121110000", "first_name": "Reza", "consent": True}
    assert kit.post("/api/enroll", answers).status_code == 200  # it claims the reader for the card in one go
    before = shop.kept()
    shop.disk.fill()
    kit.tap(NEW_CARD)
    (error,) = shop.emitted(UiEvent.ERROR)
    assert error["reason"] == "storage_full" and "is full" in error["message"]
    assert shop.kept() == before and kit.service.store.member_by_phone("+989121110000") is None

    shop.disk.free()
    assert kit.post("/api/enroll", answers).status_code == 200  # the shopper sends the sign-up again
    kit.tap(NEW_CARD)
    (bound,) = shop.emitted(UiEvent.ENROLL_CARD_BOUND)
    assert (bound["first_name"], bound["points"]) == ("Reza", 100)


def test_binding_a_card_to_a_member_on_a_full_disk_tells_the_shopper_and_binds_once_space_returns(shop):
    kit = shop.kit
    before = shop.kept()
    shop.disk.fill()
    kit.flows.enrollment.await_card(kit.ali, 60)
    kit.tap(NEW_CARD)
    assert [e["reason"] for e in shop.emitted(UiEvent.ERROR)] == ["storage_full"]
    assert shop.kept() == before
    shop.disk.free()
    kit.flows.enrollment.await_card(kit.ali, 60)
    kit.tap(NEW_CARD)
    assert len(shop.emitted(UiEvent.ENROLL_CARD_BOUND)) == 1
    assert len(kit.service.store.cards_of(kit.ali)) == 2


def test_a_till_earn_on_a_full_disk_fails_with_the_reason_on_screen_and_at_the_till_then_earns(shop):
    kit = shop.kit
    before = shop.kept()
    shop.disk.fill()
    assert shop.till("POST", "/purchases", {"receipt_id": "F-1", "amount_rial": 5_000_000}).status_code == 201
    kit.tap("1122334455")
    failed = shop.till("GET", "/purchases/F-1").get_json()
    assert failed["state"] == "failed" and "is full; nothing was written" in failed["detail"]
    assert [e["reason"] for e in shop.emitted(UiEvent.POS_RESULT)] == ["storage_full"]
    assert shop.kept() == before
    shop.disk.free()
    assert shop.till("POST", "/purchases", {"receipt_id": "F-1", "amount_rial": 5_000_000}).status_code == 201
    kit.tap("1122334455")
    assert shop.till("GET", "/purchases/F-1").get_json()["state"] == "earned"


def test_till_commit_void_and_refund_on_a_full_disk_answer_503_with_the_reason_and_work_once_space_returns(shop):
    kit = shop.kit
    kit.service.earn(kit.sara, 1_000_000, receipt_id="R-1")
    quote = shop.till("POST", "/quotes", {"bill_rial": 200_000, "member_id": kit.sara}).get_json()
    commit = {"quote_id": quote["quote_id"], "idempotency_key": "C-1", "bill_rial": 200_000}
    before = shop.kept()
    shop.disk.fill()
    assert shop.till("POST", "/quotes", {"bill_rial": 100_000, "member_id": kit.sara}).status_code == 201  # no write
    assert_storage_full_json(shop.till("POST", "/commits", commit), till=True)
    assert_storage_full_json(shop.till("POST", "/purchases/R-1/refunds", {"refund_id": "F-1", "amount_rial": 1000}),
                             till=True)
    assert shop.kept() == before
    shop.disk.free()
    assert shop.till("POST", "/commits", commit).status_code == 201
    shop.disk.fill()
    committed = shop.kept()
    assert_storage_full_json(shop.till("POST", "/commits/C-1/void"), till=True)
    assert shop.kept() == committed
    shop.disk.free()
    assert shop.till("POST", "/commits/C-1/void").status_code == 200
    assert shop.till("POST", "/purchases/R-1/refunds", {"refund_id": "F-1", "amount_rial": 1000}).status_code == 201


def test_redeeming_a_reward_for_a_coupon_on_a_full_disk_answers_the_reason_and_spends_nothing(shop):
    kit = shop.kit
    session = kit.app.extensions["kiosk_flows"].tokens.seal("member", kit.sara)
    before = shop.kept()
    shop.disk.fill()
    assert_storage_full_json(kit.post("/api/rewards/redeem", {"session": session, "reward_id": "coffee"}))
    assert shop.kept() == before
    shop.disk.free()
    coupon = kit.post("/api/rewards/redeem", {"session": session, "reward_id": "coffee"})
    assert coupon.status_code == 200 and coupon.get_json()["balance"] == before[2] - 200


def test_claiming_a_receipt_on_a_full_disk_answers_the_reason_by_phone_and_on_screen_by_tap(shop):
    kit = shop.kit
    now = kit.service.now()
    code = sign_receipt(BRANCH_KEY, Receipt("test-branch", "RC-1", 150_000, int(now.timestamp())))
    before = shop.kept()
    shop.disk.fill()
    assert_storage_full_json(kit.post("/api/receipt/phone", {"code": code, "phone": "09121234567"}))
    assert kit.post("/api/receipt", {"code": code}).status_code == 200  # checked, waiting for a tap
    kit.tap("0A1B2C3D4E")
    assert [e["reason"] for e in shop.emitted(UiEvent.ERROR)] == ["storage_full"]
    assert shop.kept() == before
    shop.disk.free()
    claimed = kit.post("/api/receipt/phone", {"code": code, "phone": "09121234567"})
    assert claimed.status_code == 200 and claimed.get_json()["points_earned"] > 0


def test_completing_a_profile_on_a_full_disk_keeps_the_old_profile_and_pays_the_bonus_once_space_returns(shop):
    kit = shop.kit
    session = kit.app.extensions["kiosk_flows"].tokens.seal("member", kit.sara)
    body = {"session": session, "last_name": "Ahmadi", "birthday": "1990-05-04"}
    before = shop.kept()
    shop.disk.fill()
    assert_storage_full_json(kit.post("/api/profile", body))
    assert shop.kept() == before and kit.service.store.member(kit.sara).birthday is None
    shop.disk.free()
    done = kit.post("/api/profile", body)
    assert done.status_code == 200 and done.get_json()["bonus"] == 50


def test_the_right_staff_pin_opens_staff_mode_on_a_full_disk_and_wrong_ones_still_count_toward_the_lockout(shop):
    kit = shop.kit
    shop.disk.fill()
    first = kit.post("/staff/api/pin", {"pin": "0000"})
    second = kit.post("/staff/api/pin", {"pin": "0000"})
    assert (first.status_code, second.status_code) == (401, 401)
    assert second.get_json()["attempts_left"] == first.get_json()["attempts_left"] - 1  # counted in memory
    opened = kit.post("/staff/api/pin", {"pin": STAFF_PIN})
    assert opened.status_code == 200 and opened.get_json()["token"]
    for _ in range(kit.service.settings.staff.max_attempts):
        locked = kit.post("/staff/api/pin", {"pin": "0000"})
    assert locked.status_code == 423
    assert kit.post("/staff/api/pin", {"pin": STAFF_PIN}).status_code == 423  # locked even though unsaved
    adjust = kit.post("/staff/api/adjust", {"member_id": kit.sara, "points": 5, "reason": "goodwill"},
                      **{"X-Staff-Token": opened.get_json()["token"]})
    assert_storage_full_json(adjust)
    shop.disk.free()
    assert kit.post("/staff/api/pin", {"pin": "0000"}).status_code == 423
    assert kit.flows.pin_lock.path.exists()  # the lockout reached the disk once it had room


def test_a_cloud_config_applied_on_a_full_disk_changes_nothing_and_applies_once_space_returns(shop):
    kit = shop.kit
    service = kit.service
    document = {"rules": {"expiry_days": 0, "enrollment_bonus": 7},
                "tiers": [{"name": "bronze", "min_points": 0, "multiplier_percent": 100}], "campaigns": [],
                "rewards": [{"id": "tea", "name": "Tea", "cost_points": 50}]}
    rules_before, before = service.rules, shop.kept()
    shop.disk.fill()
    with pytest.raises(StoreError, match="is full"):
        service.apply_config(document)
    assert service.rules is rules_before and shop.kept() == before
    assert [r["id"] for r in service.store.rewards()] == ["coffee"]
    shop.disk.free()
    service.apply_config(document)
    assert service.rules.enrollment_bonus == 7
    assert [r["id"] for r in service.store.rewards()] == ["tea"]

