"""End to end on loopback: the club's config set in the real cloud changes what a purchase earns at a real
kiosk (emulated reader, sync thread, web server), and the till spends credit, points and a coupon through
the POS API, once only, and can void a commit and refund a purchase exactly."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest

from appliance.runtime import Runtime
from kiosk.flows import coupons
from kiosk.flows.staff import hash_pin
from kiosk.identity import card_ref
from tests.cloud.conftest import SYNC_WAIT_S
from tests.conftest import kioskctl, wait_until

UID, OTHER_UID, STAFF_UID = "0A1B2C3D4E", "1122334455", "5566778899"
TOKEN = "till-token-" + "y" * 24
PIN = "2468"
CONFIG = {
    "rules": {"cashback_basis_points": 100, "max_points_percent": 50, "staff_approval_rial": 100_000,
              "expiry_days": 0},
    "tiers": [{"name": "bronze", "min_points": 0, "multiplier_percent": 100},
              {"name": "gold", "min_points": 5000, "multiplier_percent": 125}],
    "rewards": [{"id": "coffee", "name": {"fa": "قهوه", "en": "Coffee"}, "cost_points": 50}],
    "campaigns": [
        {"id": "double", "type": "multiplier", "name": {"en": "Double points"}, "starts_on": "2020-01-01",
         "ends_on": "2099-12-31", "earn_multiplier_percent": 200},
        {"id": "ten-off", "type": "discount", "name": {"en": "Ten off"}, "starts_on": "2020-01-01",
         "ends_on": "2099-12-31", "discount_percent": 10},
    ],
}


def pos(rt: Runtime, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(rt.url.rstrip("/") + "/pos/v1" + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def kiosk(cloud, tmp_path: Path):
    staff_ref = card_ref(bytes.fromhex("cd" * 32), "rfid125", STAFF_UID)
    rt, config = cloud.start_kiosk(tmp_path / "kiosk", {"chain_secret": "cd" * 32, "pos_token": TOKEN,
                                                        "staff_pin_hash": hash_pin(PIN)},
                                   config=CONFIG, extra=f'\n[staff]\ncards = {{ maryam = "{staff_ref}" }}\n')
    rt.config_path = config
    try:
        wait_until(lambda: rt.service.campaigns, timeout_s=SYNC_WAIT_S, what="the kiosk to pull the cloud's config")
        wait_until(lambda: rt.service.reader_status.get("counter"), what="the emulated reader")
        yield rt
    finally:
        rt.close()
    assert kioskctl(config, "verify").returncode == 0


def earn_by_tap(rt: Runtime, receipt: str, amount: int, uid: str = UID) -> dict:
    assert pos(rt, "POST", "/purchases", {"receipt_id": receipt, "amount_rial": amount})[0] == 201
    rt.emulators["counter"].tap(uid)
    return wait_until(lambda: (lambda r: r if r["state"] == "earned" else None)(pos(rt, "GET", f"/purchases/{receipt}")[1]),
                      what="the tap to earn the purchase")


def test_a_cloud_campaign_earns_at_the_kiosk_and_the_till_spends_credit_and_points_once(cloud, kiosk):
    rt = kiosk
    sara = rt.service.enroll("+989121234567", "Sara", language="en")
    rt.service.bind(sara.id, "rfid125", UID)
    earned = earn_by_tap(rt, "R-1", 2_000_000)
    assert earned["points"] == 400 and earned["member_id"] == sara.id  # 200 at bronze, doubled by the campaign
    assert earned["campaigns"] == [{"id": "double", "name": "Double points", "names": {"en": "Double points"}, "points": 200}]
    assert rt.store.balance(sara.id).credit_rial == 20_000  # 1 % cashback

    status, quote = pos(rt, "POST", "/quotes", {"bill_rial": 300_000, "member_id": sara.id})
    assert status == 201
    # 10 % off, then the 20,000 rial of credit, then points for at most half of what is left (125 points)
    assert (quote["discount_rial"], quote["credit_rial"], quote["points"], quote["to_pay_rial"]) == (
        30_000, 20_000, 125, 125_000)
    assert (quote["tier"], quote["multiplier_percent"], quote["needs_staff"]) == ("bronze", 200, True)
    commit = {"quote_id": quote["quote_id"], "idempotency_key": "T-1", "bill_rial": 300_000}
    status, body = pos(rt, "POST", "/commits", commit)
    assert (status, body["reason"]) == (403, "staff_required")
    status, body = pos(rt, "POST", "/commits", {**commit, "staff_pin": PIN})
    assert status == 201 and body["to_pay_rial"] == 125_000
    assert pos(rt, "POST", "/commits", {**commit, "staff_pin": PIN})[0] == 200  # a replay changes nothing
    status, body = pos(rt, "POST", "/commits", {**commit, "bill_rial": 400_000})
    assert (status, body["reason"]) == (409, "replay_mismatch")
    balance = rt.store.balance(sara.id)
    assert (balance.points, balance.credit_rial) == (100 + 400 - 125, 0)
    status, body = pos(rt, "POST", "/commits", {**commit, "idempotency_key": "T-2", "staff_pin": PIN})
    assert (status, body["reason"]) == (404, "quote_unknown")  # a committed quote cannot be spent again

    status, late = pos(rt, "POST", "/quotes", {"bill_rial": 10_000, "member_id": sara.id, "use_points": False})
    cloud.clock.advance(timedelta(seconds=121))
    status, body = pos(rt, "POST", "/commits", {"quote_id": late["quote_id"], "idempotency_key": "T-3",
                                                "bill_rial": 10_000})
    assert (status, body["reason"]) == (409, "quote_expired")

    voided = pos(rt, "POST", "/commits/T-1/void")[1]
    assert voided["voided_at"] is not None
    balance = rt.store.balance(sara.id)
    assert (balance.points, balance.credit_rial) == (500, 20_000)
    wait_until(lambda: rt.store.outbox_depth() == 0, timeout_s=SYNC_WAIT_S, what="the kiosk to send its events")
    assert cloud.store.lookup(member_id=sara.id)["balance"] == 500


def test_a_coupon_is_validated_and_used_once_at_the_till_and_not_by_another_member(kiosk):
    rt = kiosk
    sara = rt.service.enroll("+989121234567", "Sara", language="en")
    ali = rt.service.enroll("+989121111111", "Ali", language="en")
    coupon = coupons.redeem(rt.service, sara.id, "coffee")
    status, checked = pos(rt, "GET", f"/coupons/{coupon.code.lower()}")
    assert status == 200 and checked["valid"] and checked["reward"] == "قهوه" and checked["member_id"] == sara.id
    status, body = pos(rt, "POST", "/quotes", {"bill_rial": 50_000, "member_id": ali.id, "coupon_code": coupon.code})
    assert (status, body["reason"]) == (409, "coupon_other_member")
    status, quote = pos(rt, "POST", "/quotes", {"bill_rial": 50_000, "coupon_code": coupon.code, "use_points": False})
    assert status == 201 and quote["member_id"] == sara.id and quote["coupon_reward"] == "Coffee"
    second = pos(rt, "POST", "/quotes", {"bill_rial": 50_000, "coupon_code": coupon.code, "use_points": False})[1]
    assert pos(rt, "POST", "/commits", {"quote_id": quote["quote_id"], "idempotency_key": "C-1",
                                        "bill_rial": 50_000})[0] == 201
    status, body = pos(rt, "POST", "/commits", {"quote_id": second["quote_id"], "idempotency_key": "C-2",
                                                "bill_rial": 50_000})
    assert (status, body["reason"]) == (409, "coupon_used")  # two quotes of one coupon: only one commit wins
    assert pos(rt, "GET", f"/coupons/{coupon.code}")[1]["valid"] is False
    status, body = pos(rt, "POST", "/quotes", {"bill_rial": 50_000, "coupon_code": coupon.code})
    assert (status, body["reason"]) == (409, "coupon_used")
    assert rt.service.summary(sara.id)["coupons"] == []
    status, body = pos(rt, "POST", "/quotes", {"bill_rial": 50_000, "member_id": sara.id, "tip": 5})
    assert (status, body["reason"]) == (400, "bad_request") and "'tip'" in body["error"]


def test_a_reward_and_a_campaign_removed_in_the_cloud_stop_at_the_kiosk_at_the_next_pull(cloud, kiosk):
    rt = kiosk
    assert rt.store.reward("coffee") is not None and [c.campaign_id for c in rt.service.campaigns] == ["double",
                                                                                                       "ten-off"]
    cloud.store.set_config("tehran-01", {**CONFIG, "rewards": [], "campaigns": CONFIG["campaigns"][1:]})
    assert rt.sync.pull_config() is True
    assert rt.store.reward("coffee") is None and [c.campaign_id for c in rt.service.campaigns] == ["ten-off"]
    sara = rt.service.enroll("+989121234567", "Sara", language="en")
    assert rt.service.earn(sara.id, 1_000_000).row.points == 100  # no double points any more


def test_a_refund_reverses_exactly_what_the_purchase_earned_and_never_more(kiosk):
    rt = kiosk
    sara = rt.service.enroll("+989121234567", "Sara", language="en")
    rt.service.bind(sara.id, "rfid125", OTHER_UID)
    earn_by_tap(rt, "R-9", 1_500_001, uid=OTHER_UID)
    before = rt.store.balance(sara.id)
    assert (before.points, before.credit_rial) == (100 + 300, 15_000)
    status, first = pos(rt, "POST", "/purchases/R-9/refunds", {"refund_id": "F-1", "amount_rial": 500_000})
    assert status == 201 and (first["points"], first["credit_rial"]) == (99, 4_999)
    assert pos(rt, "POST", "/purchases/R-9/refunds", {"refund_id": "F-1", "amount_rial": 500_000})[0] == 200
    status, body = pos(rt, "POST", "/purchases/R-9/refunds", {"refund_id": "F-1", "amount_rial": 7})
    assert (status, body["reason"]) == (409, "replay_mismatch")
    status, body = pos(rt, "POST", "/purchases/R-9/refunds", {"refund_id": "F-2", "amount_rial": 1_000_002})
    assert (status, body["reason"]) == (409, "refund_too_large")
    status, rest = pos(rt, "POST", "/purchases/R-9/refunds", {"refund_id": "F-3", "amount_rial": 1_000_001})
    assert status == 201 and first["points"] + rest["points"] == 300 and first["credit_rial"] + rest["credit_rial"] == 15_000
    after = rt.store.balance(sara.id)
    assert (after.points, after.credit_rial) == (100, 0)
    status, body = pos(rt, "POST", "/purchases/NOPE/refunds", {"refund_id": "F-4", "amount_rial": 1})
    assert (status, body["reason"]) == (404, "not_earned")


def test_a_quote_by_tap_waits_for_the_members_card_and_then_quotes_their_rate(kiosk):
    rt = kiosk
    sara = rt.service.enroll("+989121234567", "Sara", language="en")
    rt.service.bind(sara.id, "rfid125", UID)
    status, body = pos(rt, "POST", "/quotes", {"bill_rial": 100_000, "member": "card"})
    assert (status, body["reason"]) == (400, "bad_request")
    status, pending = pos(rt, "POST", "/quotes", {"bill_rial": 100_000, "member": "tap"})
    assert (status, pending["state"]) == (202, "pending")
    assert pos(rt, "GET", f"/quotes/{pending['quote_id']}")[1]["state"] == "pending"
    status, body = pos(rt, "POST", "/commits", {"quote_id": pending["quote_id"], "idempotency_key": "P-1",
                                                "bill_rial": 100_000})
    assert (status, body["reason"]) == (404, "quote_unknown")  # nothing to commit before the tap
    rt.emulators["counter"].tap(UID)
    ready = wait_until(lambda: (lambda q: q if q["state"] == "ready" else None)(
        pos(rt, "GET", f"/quotes/{pending['quote_id']}")[1]), what="the tap to fill in the quote")
    assert (ready["member_id"], ready["multiplier_percent"], ready["discount_rial"], ready["points"]) == (
        sara.id, 200, 10_000, 45)  # 10 % off, then points for half of the 90,000 left
    assert pos(rt, "POST", "/commits", {"quote_id": ready["quote_id"], "idempotency_key": "P-1",
                                        "bill_rial": 100_000})[0] == 201
    assert rt.store.balance(sara.id).points == 100 - 45


def test_a_staff_card_tapped_at_the_kiosk_approves_a_big_quote_instead_of_the_pin_and_the_commit_keeps_who(kiosk):
    rt = kiosk
    seen: list[tuple[str, dict]] = []
    rt.service.subscribe(lambda name, payload: seen.append((name, payload)))
    sara = rt.service.enroll("+989121234567", "Sara", language="en")
    rt.service.bind(sara.id, "rfid125", UID)
    earn_by_tap(rt, "R-1", 2_000_000)
    status, quote = pos(rt, "POST", "/quotes", {"bill_rial": 300_000, "member_id": sara.id})
    assert status == 201 and quote["needs_staff"]
    path = f"/quotes/{quote['quote_id']}/staff-card"
    assert pos(rt, "GET", path) == (200, {"quote_id": quote["quote_id"], "state": "not_asked"})
    assert pos(rt, "POST", path)[1]["state"] == "awaiting_staff_card"
    assert ("till_approval", {"state": "waiting", "discount_rial": 175_000}) in seen
    rt.emulators["counter"].tap(UID)  # a shopper's card is not a staff card: nothing approved
    rt.emulators["counter"].tap(STAFF_UID)
    approved = wait_until(lambda: (lambda r: r if r[1]["state"] == "approved" else None)(pos(rt, "GET", path)),
                          what="the staff card to approve the quote")
    assert approved[1]["approved_by"] == "maryam"
    assert ("staff_enter", {"staff_id": "maryam"}) not in seen, "the card approved the quote, it opened no staff mode"
    status, body = pos(rt, "POST", "/commits", {"quote_id": quote["quote_id"], "idempotency_key": "T-1",
                                                "bill_rial": 300_000})
    assert status == 201 and body["approved_by"] == "maryam"
    assert rt.store.till_commit("T-1")["approved_by"] == "maryam"


def test_a_staff_card_approves_only_the_quote_that_asked_for_it_and_then_opens_staff_mode_again(cloud, kiosk):
    rt = kiosk
    seen: list[tuple[str, dict]] = []
    rt.service.subscribe(lambda name, payload: seen.append((name, payload)))
    sara = rt.service.enroll("+989121234567", "Sara", language="en")
    rt.service.bind(sara.id, "rfid125", UID)
    earn_by_tap(rt, "R-1", 2_000_000)
    small = pos(rt, "POST", "/quotes", {"bill_rial": 10_000, "member_id": sara.id, "use_points": False,
                                        "use_credit": False})[1]
    assert not small["needs_staff"]
    assert pos(rt, "POST", f"/quotes/{small['quote_id']}/staff-card")[1]["reason"] == "staff_not_needed"
    big = pos(rt, "POST", "/quotes", {"bill_rial": 300_000, "member_id": sara.id})[1]
    assert pos(rt, "POST", f"/quotes/{big['quote_id']}/staff-card")[0] == 202
    cloud.clock.advance(timedelta(seconds=121))  # the quote expires before anyone taps
    rt.emulators["counter"].tap(STAFF_UID)
    wait_until(lambda: ("staff_enter", {"staff_id": "maryam"}) in seen, what="the staff card to open staff mode")
    status, body = pos(rt, "POST", "/commits", {"quote_id": big["quote_id"], "idempotency_key": "T-9",
                                                "bill_rial": 300_000})
    assert (status, body["reason"]) == (409, "quote_expired")
    assert rt.store.till_commit("T-9") is None
