"""The web layer's HTTP answers, through Flask's test client against built flows (no server, no browser):
the till's API, staff mode's PIN and token, the shopper API's guards, and the headers every page carries."""
from __future__ import annotations

from tests.web.conftest import ALI, POS_TOKEN, STAFF_PIN

TILL = {"Authorization": f"Bearer {POS_TOKEN}"}


def purchase(counter, body: dict, headers: dict | None = None):
    return counter.client.post("/pos/v1/purchases", json=body, headers=TILL if headers is None else headers)


# --- the till ------------------------------------------------------------------------------------------


def test_the_till_api_refuses_a_missing_or_wrong_token_and_says_how_to_send_it(counter):
    for headers in ({}, {"Authorization": "Bearer " + "wrong" * 5}, {"Authorization": POS_TOKEN}):
        answer = purchase(counter, {"receipt_id": "T-1", "amount_rial": 1000}, headers)
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"] == 'Bearer realm="kiosk-pos"'
        assert "Authorization: Bearer" in answer.get_json()["error"]
    assert counter.flows.pos.status("T-1") is None


def test_the_till_api_refuses_a_bad_amount_or_receipt_id_naming_the_field(counter):
    for body, field in (({"receipt_id": "T-1", "amount_rial": 12.5}, "amount_rial"),
                        ({"receipt_id": "T-1", "amount_rial": True}, "amount_rial"),
                        ({"receipt_id": "T-1", "amount_rial": -5}, "amount_rial"),
                        ({"receipt_id": "bad id!", "amount_rial": 1000}, "receipt_id"),
                        ({"amount_rial": 1000}, "receipt_id")):
        answer = purchase(counter, body)
        assert answer.status_code == 400 and field in answer.get_json()["error"], body


def test_a_till_purchase_waits_for_a_tap_earns_once_and_a_changed_amount_is_a_conflict(counter):
    before = counter.service.store.balance(counter.ali).points
    first = purchase(counter, {"receipt_id": "POS-77", "amount_rial": 5_000_000})
    assert (first.status_code, first.get_json()["state"]) == (201, "pending")
    assert purchase(counter, {"receipt_id": "POS-77", "amount_rial": 5_000_000}).status_code == 200

    counter.tap("C0FFEE0001")  # not a member card: the purchase keeps waiting
    assert counter.client.get("/pos/v1/purchases/POS-77", headers=TILL).get_json()["state"] == "pending"
    counter.tap(ALI)

    status = counter.client.get("/pos/v1/purchases/POS-77", headers=TILL).get_json()
    assert (status["state"], status["points"], status["balance"]) == ("earned", 500, before + 500)
    again = purchase(counter, {"receipt_id": "POS-77", "amount_rial": 5_000_000})
    assert (again.status_code, again.get_json()["state"]) == (200, "earned")
    assert purchase(counter, {"receipt_id": "POS-77", "amount_rial": 9}).status_code == 409
    assert sum(1 for r in counter.service.store.history(counter.ali) if r.receipt_id == "POS-77") == 1


def test_a_till_can_cancel_a_pending_purchase_and_an_unknown_receipt_is_not_found(counter):
    purchase(counter, {"receipt_id": "POS-9", "amount_rial": 1_000_000})
    cancelled = counter.client.delete("/pos/v1/purchases/POS-9", headers=TILL)
    assert cancelled.get_json()["state"] == "cancelled"
    counter.tap(ALI)
    assert counter.client.get("/pos/v1/purchases/POS-9", headers=TILL).get_json()["state"] == "cancelled"
    assert counter.client.get("/pos/v1/purchases/NOPE", headers=TILL).status_code == 404
    assert counter.client.delete("/pos/v1/purchases/NOPE", headers=TILL).status_code == 404


def test_the_till_api_needs_no_csrf_token_but_sets_no_cookie(counter):
    answer = purchase(counter, {"receipt_id": "POS-10", "amount_rial": 1_000_000})
    assert answer.status_code == 201 and "Set-Cookie" not in answer.headers


# --- staff mode ----------------------------------------------------------------------------------------


def test_a_wrong_pin_says_how_many_tries_are_left_and_the_fifth_locks_staff_mode(counter):
    lefts = []
    for _ in range(counter.service.settings.staff.max_attempts):
        answer = counter.post("/staff/api/pin", {"pin": "0000"})
        lefts.append(answer.get_json().get("attempts_left"))
    assert lefts[:-1] == list(range(counter.service.settings.staff.max_attempts - 1, 0, -1))
    locked = counter.post("/staff/api/pin", {"pin": STAFF_PIN})
    assert locked.status_code == 423 and locked.get_json()["error"] == "locked"


def test_the_right_pin_gives_a_staff_token_that_opens_the_device_status(counter):
    token = counter.post("/staff/api/pin", {"pin": STAFF_PIN}).get_json()["token"]
    status = counter.post("/staff/api/status", {}, **{"X-Staff-Token": token})
    assert status.status_code == 200
    data = status.get_json()
    assert (data["device_id"], data["outbox_depth"]) == (counter.service.settings.device.id, 3 + 2 + 1 + 1)
    assert counter.post("/staff/api/status", {}, **{"X-Staff-Token": data["token"]}).status_code == 200


def test_staff_actions_need_a_staff_token_and_the_csrf_token(counter):
    assert counter.post("/staff/api/status", {}).status_code == 401
    assert counter.post("/staff/api/status", {}, **{"X-Staff-Token": "forged"}).status_code == 401
    token = counter.post("/staff/api/pin", {"pin": STAFF_PIN}).get_json()["token"]
    no_csrf = counter.post("/staff/api/adjust", {"phone": "+989353334455", "points": 5, "reason": "x"},
                           csrf=False, **{"X-Staff-Token": token})
    assert no_csrf.status_code == 400 and no_csrf.get_json()["error"] == "csrf"


# --- the shopper's API and the page ----------------------------------------------------------------------


def test_a_shopper_action_without_the_csrf_token_is_refused_and_changes_nothing(counter):
    before = counter.service.store.balance(counter.sara).points
    answer = counter.post("/api/rewards/redeem", {"session": "x", "reward_id": "coffee"}, csrf=False)
    assert answer.status_code == 400 and answer.get_json()["error"] == "csrf"
    assert counter.service.store.balance(counter.sara).points == before


def test_a_forged_member_session_cannot_redeem(counter):
    answer = counter.post("/api/rewards/redeem", {"session": "forged.token", "reward_id": "coffee"})
    assert answer.status_code == 403 and answer.get_json()["error"] == "bad_token"


def test_the_page_and_the_health_check_answer_with_headers_that_allow_nothing_remote(counter):
    page = counter.client.get("/?lang=fa")
    assert page.status_code == 200
    assert 'dir="rtl"' in page.get_data(as_text=True)
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "http" not in policy and "'unsafe-inline'" not in policy.split(
        "script-src")[-1].split(";")[0]
    health = counter.client.get("/healthz").get_json()
    assert health["status"] == "ok" and health["device_id"] == counter.service.settings.device.id
