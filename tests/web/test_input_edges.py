"""Input that used to be accepted and break later is refused where it enters, with a JSON reason."""
from __future__ import annotations

from tests.web.conftest import POS_TOKEN, STAFF_PIN


def test_enrolment_refuses_a_landline_naming_the_phone_field_and_stores_nothing(counter):
    before = counter.service.store.counts()
    for path in ("/api/enroll/phone", "/api/enroll"):
        answer = counter.post(path, {"phone": "021 8888 8888", "first_name": "Reza", "consent": True})
        body = answer.get_json()
        assert answer.status_code == 422, (path, body)
        assert body["field"] == "phone" and "not a mobile number" in body["message"]
    assert counter.service.store.counts() == before


def test_leaving_staff_mode_needs_the_staff_token_and_a_request_without_it_keeps_the_claim(counter):
    counter.flows.claims.claim("staff-card", lambda tap: True, 60)
    for headers in ({}, {"X-Staff-Token": "forged"}):
        refused = counter.post("/staff/api/leave", **headers)
        assert refused.status_code == 401 and refused.get_json()["error"] == "staff_timed_out"
        assert counter.flows.claims.owner() == "staff-card"
    token = counter.post("/staff/api/pin", {"pin": STAFF_PIN}).get_json()["token"]
    left = counter.post("/staff/api/leave", **{"X-Staff-Token": token})
    assert left.status_code == 200 and left.get_json() == {"ok": True}
    assert counter.flows.claims.owner() is None


# --- body limits and JSON errors -------------------------------------------------------------------------

TILL = {"Authorization": f"Bearer {POS_TOKEN}"}
JSON_APIS = ("/api/reset", "/staff/api/leave", "/api/enroll/code/send", "/pos/v1/purchases")


def test_a_body_over_the_size_limit_is_refused_413_in_json_and_nothing_is_stored(counter):
    before = counter.service.store.counts()
    huge = {"receipt_id": "BIG-1", "amount_rial": 1000, "note": "x" * (2 * 1024 * 1024)}
    for path in JSON_APIS:
        answer = counter.client.post(path, json=huge, headers={**TILL, "X-CSRFToken": counter.csrf()})
        assert answer.status_code == 413, path
        assert answer.is_json and "larger than" in (answer.get_json().get("message") or answer.get_json()["error"])
    assert counter.flows.pos.status("BIG-1") is None
    assert counter.service.store.counts() == before


def test_deeply_nested_json_is_refused_400_in_json_naming_the_depth(counter):
    deep = "[" * 10_000 + "]" * 10_000  # 20 KB, under the size limit; past Python's recursion limit
    for path in JSON_APIS:
        answer = counter.client.post(path, data=deep, content_type="application/json",
                                     headers={**TILL, "X-CSRFToken": counter.csrf()})
        assert answer.status_code == 400 and answer.is_json, path
        assert "nests deeper than" in str(answer.get_json())


def test_every_json_api_answers_404_and_405_in_json_with_a_reason(counter):
    for path in ("/api/nope", "/staff/api/nope", "/api/enroll/code/nope", "/pos/v1/nope"):
        answer = counter.client.get(path, headers=TILL)
        assert (answer.status_code, answer.is_json) == (404, True), path
    wrong_method = counter.client.get("/api/reset")
    assert (wrong_method.status_code, wrong_method.get_json()["error"]) == (405, "method_not_allowed")
    assert "POST" in wrong_method.headers["Allow"]
    till = counter.client.put("/pos/v1/purchases", headers=TILL)
    assert till.status_code == 405 and "method" in till.get_json()["error"]
    assert not counter.client.get("/no-such-page").is_json  # pages keep their HTML errors


def test_an_unexpected_error_in_a_json_api_answers_500_in_json(counter, monkeypatch):
    counter.app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the error handler answers

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(counter.flows.receipts, "check", broken)
    monkeypatch.setattr(counter.flows.pos, "post", broken)
    for path, body, headers in (("/api/receipt", {"code": "X"}, {"X-CSRFToken": counter.csrf()}),
                                ("/pos/v1/purchases", {"receipt_id": "T-5", "amount_rial": 1000}, TILL)):
        answer = counter.client.post(path, json=body, headers=headers)
        assert (answer.status_code, answer.is_json) == (500, True), path
        assert "disk on fire" not in answer.get_data(as_text=True)


def test_brackets_inside_strings_do_not_count_as_nesting():
    from web.json_errors import json_depth

    assert json_depth(b'{"a": [1, {"b": "[[[[{{{{\\"]]"}]}') == 3
    assert json_depth(b'"no nesting"') == 0
    assert json_depth(b"[[[]]]") == 3


# --- protocol limits where input enters --------------------------------------------------------------------


def test_a_till_receipt_id_with_a_trailing_newline_is_refused_so_one_receipt_cannot_earn_twice(counter):
    first = counter.client.post("/pos/v1/purchases", json={"receipt_id": "R-7", "amount_rial": 1_000_000},
                                headers=TILL)
    assert first.status_code == 201
    for receipt_id in ("R-7\n", "R-7\r\n", "R" * 65):
        again = counter.client.post("/pos/v1/purchases", json={"receipt_id": receipt_id, "amount_rial": 1_000_000},
                                    headers=TILL)
        assert again.status_code == 400 and "receipt_id" in again.get_json()["error"], repr(receipt_id)
        assert counter.flows.pos.status(receipt_id) is None


def test_an_enrolment_language_the_kiosk_does_not_speak_is_refused_naming_the_field(counter):
    before = counter.service.store.counts()
    for lang in ("x" * 17, "de"):
        answer = counter.post("/api/enroll", {"phone": "09121110000", "first_name": "Reza", "consent": True,
                                              "lang": lang})
        assert answer.status_code == 422 and answer.get_json()["field"] == "lang", lang
    assert counter.service.store.counts() == before
    ok = counter.post("/api/enroll", {"phone": "09121110000", "first_name": "Reza", "consent": True, "lang": "ar"})
    assert ok.status_code == 200, ok.get_json()


def test_a_staff_adjust_reason_longer_than_the_protocol_allows_is_refused_and_changes_nothing(counter):
    token = counter.post("/staff/api/pin", {"pin": STAFF_PIN}).get_json()["token"]
    before = counter.service.store.balance(counter.sara).points
    answer = counter.post("/staff/api/adjust", {"member_id": counter.sara, "points": 50, "reason": "x" * 201},
                          **{"X-Staff-Token": token})
    assert answer.status_code == 422 and answer.get_json()["field"] == "reason"
    assert "at most 200" in answer.get_json()["message"]
    assert counter.service.store.balance(counter.sara).points == before


def test_a_signed_receipt_whose_id_the_protocol_cannot_carry_is_refused_as_malformed():
    from datetime import datetime, timezone

    import pytest

    from kiosk.receipts import Receipt, ReceiptRefused, sign_receipt, verify_receipt

    now = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
    for receipt_id in ("R1\n", "R" * 101, "R 1"):
        code = sign_receipt(b"k" * 32, Receipt("b1", receipt_id, 1000, int(now.timestamp())))
        with pytest.raises(ReceiptRefused) as caught:
            verify_receipt(b"k" * 32, code, now=now, max_age_s=3600, branch="b1")
        assert caught.value.reason == "malformed"


def test_protocol_ids_and_phones_are_matched_whole_so_a_trailing_newline_is_refused():
    import pytest

    from kiosk.protocol import InvalidEvent, is_otp_code, is_receipt_id, validate_event

    base = {"event_id": "2b1e4c1e-7a51-4a3e-9d7e-0d4f4b1b9a01", "member_id": "m1",
            "created_at": "2026-11-23T12:00:00Z"}
    with pytest.raises(InvalidEvent, match="phone_e164"):
        validate_event({**base, "kind": "member_enrolled", "phone_e164": "+989121234567\n", "name": "Sara"})
    with pytest.raises(InvalidEvent, match="card_ref"):
        validate_event({**base, "kind": "card_bound", "card_ref": "a" * 64 + "\n"})
    assert not is_otp_code("123456\n") and is_otp_code("123456")
    assert not is_receipt_id("R-7\n") and is_receipt_id("R-7")


def test_the_tills_purchase_check_uses_the_protocols_whole_receipt_id():
    import pytest

    from kiosk.flows.till import PurchaseRejected, check_purchase

    assert check_purchase({"receipt_id": "R-7", "amount_rial": 1000}) == ("R-7", 1000)
    for receipt_id in ("R-7\n", "R" * 65, "R 7", 7):
        with pytest.raises(PurchaseRejected, match="receipt_id"):
            check_purchase({"receipt_id": receipt_id, "amount_rial": 1000})
