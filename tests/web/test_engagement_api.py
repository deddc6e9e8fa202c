"""The survey and complaint APIs of the kiosk page, through Flask's test client over the real flows and store."""
from __future__ import annotations

import uuid

import pytest

SURVEY = {"id": "service", "title": {"fa": "نظر شما", "en": "Your opinion"}, "reward_points": 20,
          "target": {"kind": "all"},
          "questions": [{"id": "q1", "type": "stars", "text": {"en": "How was the service?"}},
                        {"id": "q2", "type": "text", "text": {"en": "Anything else?"}}]}
CONFIG = {"rules": {}, "tiers": [{"name": "bronze", "min_points": 0, "multiplier_percent": 100}], "rewards": [],
          "campaigns": [], "surveys": [SURVEY],
          "complaint_subjects": [{"id": "service", "name": {"en": "Service"}, "texts": [{"en": "Long queue"}]}]}


@pytest.fixture
def club(counter):
    counter.service.apply_config(CONFIG)
    return counter


def session_of(club) -> str:
    """The member token the balance screen holds, as the bridge seals it."""
    return club.app.extensions["kiosk_flows"].tokens.seal("member", club.sara)


def test_a_member_is_offered_the_survey_answers_it_once_and_a_second_answer_is_refused_clearly(club):
    session = session_of(club)
    offered = club.post("/api/surveys/offer", {"session": session, "lang": "en"}).get_json()["survey"]
    assert offered["title"] == "Your opinion" and [q["type"] for q in offered["questions"]] == ["stars", "text"]
    before = club.service.store.balance(club.sara).points
    answer_id = str(uuid.uuid4())
    body = {"session": session, "survey_id": "service", "answer_id": answer_id, "answers": {"q1": 5, "q2": "<i>fine</i>"}}
    first = club.post("/api/surveys/answer", body)
    assert first.status_code == 200 and first.get_json()["reward_points"] == 20
    resent = club.post("/api/surveys/answer", body).get_json()  # the page's "Send again" after a lost reply
    assert resent["repeat"] is True and resent["balance"] == before + 20
    second = club.post("/api/surveys/answer", {**body, "answer_id": str(uuid.uuid4())})
    assert second.status_code == 409 and second.get_json()["error"] == "already_answered"
    assert club.service.store.balance(club.sara).points == before + 20 and club.service.store.verify() == []
    assert club.post("/api/surveys/offer", {"session": session}).get_json()["survey"] is None


def test_answers_that_do_not_fit_are_refused_with_the_question_and_nothing_is_paid(club):
    body = {"session": session_of(club), "survey_id": "service", "answer_id": str(uuid.uuid4()), "answers": {"q1": 9}}
    refused = club.post("/api/surveys/answer", body)
    assert refused.status_code == 422 and refused.get_json()["field"] == "q1"
    assert club.post("/api/surveys/answer", {**body, "answer_id": "not-a-uuid", "answers": {"q1": 3}}).status_code == 422
    assert club.post("/api/surveys/answer", {**body, "survey_id": "gone", "answers": {"q1": 3}}).status_code == 422
    assert club.service.store.surveys_answered(club.sara) == set()


def test_a_complaint_of_ten_thousand_characters_is_refused_at_the_edge_with_the_limit(club):
    body = {"phone": "09121234567", "subject": "service", "text": "ب" * 10_000, "request_key": str(uuid.uuid4())}
    queued = club.service.store.outbox_depth()
    refused = club.post("/api/complaints", body)
    assert refused.status_code == 422
    assert refused.get_json()["error"] == "text_too_long" and refused.get_json()["max_text"] == 1000
    assert club.service.store.outbox_depth() == queued
    assert club.service.store.query("SELECT COUNT(*) FROM complaints")[0][0] == 0


def test_a_complaint_with_markup_gets_a_code_and_keeps_the_markup_as_plain_text(club):
    key = str(uuid.uuid4())
    body = {"phone": "09351112233", "subject": "service", "text": "<script>alert(1)</script> cold", "request_key": key,
            "lang": "en"}
    filed = club.post("/api/complaints", body).get_json()
    assert len(filed["code"]) == 11 and filed["code"][5] == "-"
    assert club.post("/api/complaints", body).get_json() == {**filed, "repeat": True}
    (text,) = club.service.store.query("SELECT text FROM complaints")[0]
    assert text == "<script>alert(1)</script> cold"
    for bad, error in (({"subject": "weather"}, "invalid_subject"), ({"phone": "12"}, "invalid_phone"),
                       ({"text": "  "}, "text_too_short")):
        answer = club.post("/api/complaints", {**body, "request_key": str(uuid.uuid4()), **bad})
        assert answer.status_code == 422 and answer.get_json()["error"] == error


def test_a_kiosk_without_a_cloud_says_it_cannot_look_a_code_up_and_a_malformed_code_is_named(club):
    assert club.post("/api/complaints/lookup", {"code": "ABCDE-12345", "phone_last4": "4567"}).get_json()["error"] \
        == "lookup_offline"
    assert club.post("/api/complaints/lookup", {"code": "ABC", "phone_last4": "4567"}).get_json()["error"] \
        == "invalid_code"
    subjects = club.post("/api/complaints/subjects", {"lang": "en"}).get_json()
    assert subjects["subjects"] == [{"id": "service", "name": "Service", "texts": ["Long queue"]}]


def test_the_survey_answer_needs_the_members_screen_token(club):
    refused = club.post("/api/surveys/answer", {"session": "forged", "survey_id": "service",
                                                "answer_id": str(uuid.uuid4()), "answers": {"q1": 3}})
    assert refused.status_code == 403 and refused.get_json()["error"] == "bad_token"
    assert club.service.store.surveys_answered(club.sara) == set()
