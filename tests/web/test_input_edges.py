"""Input that used to be accepted and break later is refused where it enters, with a JSON reason."""
from __future__ import annotations

from tests.web.conftest import STAFF_PIN


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
