"""Input that used to be accepted and break later is refused where it enters, with a JSON reason."""
from __future__ import annotations


def test_enrolment_refuses_a_landline_naming_the_phone_field_and_stores_nothing(counter):
    before = counter.service.store.counts()
    for path in ("/api/enroll/phone", "/api/enroll"):
        answer = counter.post(path, {"phone": "021 8888 8888", "first_name": "Reza", "consent": True})
        body = answer.get_json()
        assert answer.status_code == 422, (path, body)
        assert body["field"] == "phone" and "not a mobile number" in body["message"]
    assert counter.service.store.counts() == before
