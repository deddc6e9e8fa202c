"""Surveys and complaints in the kiosk core: the shared rules, and the store's writes keyed by the page's ids."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
import textwrap
import uuid

import pytest

from kiosk import protocol
from kiosk.errors import ConfigError
from kiosk.rules import complaints as rc
from kiosk.rules.cloud_config import branch_config_from_cloud
from kiosk.rules.surveys import (AlreadyAnswered, AnswerRefused, Shopper, check_answers, offer, survey_from_mapping,
                                 surveys_from_config)
from kiosk.store import Store

SURVEY = {"id": "service", "title": {"fa": "نظر شما", "en": "Your opinion"}, "reward_points": 20,
          "target": {"kind": "all"},
          "questions": [{"id": "q1", "type": "stars", "text": {"fa": "خدمات؟", "en": "Service?"}},
                        {"id": "q2", "type": "yes_no", "text": {"en": "Again?"}},
                        {"id": "q3", "type": "choice", "text": {"en": "Best?"},
                         "choices": [{"en": "Price"}, {"en": "Staff"}, {"en": "Range"}]},
                        {"id": "q4", "type": "text", "text": {"en": "Anything else?"}}]}


def test_a_tracking_code_is_ten_readable_symbols_and_typing_mistakes_read_as_the_same_code():
    codes = {rc.new_code(secrets.token_bytes(rc.CODE_BYTES)) for _ in range(2000)}
    assert len(codes) == 2000
    for code in list(codes)[:50]:
        assert len(code) == 10 and not set(code) & set("ILOU")
        typed = rc.spoken(code).lower().replace("0", "o").replace("1", "l")
        assert rc.parse_code(typed) == code
    assert rc.parse_code("۱۲۳۴۵-۶۷۸۹A") == "123456789A"
    assert rc.parse_code("12345") is None and rc.parse_code("U2345-67890") is None and rc.parse_code(None) is None


def test_a_complaint_text_keeps_markup_as_typed_drops_control_characters_and_refuses_ten_thousand_characters():
    assert rc.clean_text("<b>cold</b>\x00 coffee\n\nagain") == "<b>cold</b> coffee again"
    with pytest.raises(rc.ComplaintRefused) as refused:
        rc.clean_text("x" * 10_000)
    assert refused.value.code == "text_too_long" and "at most 1000" in str(refused.value)
    with pytest.raises(rc.ComplaintRefused) as short:
        rc.clean_text(" a ")
    assert short.value.code == "text_too_short"


def test_a_survey_is_checked_like_the_rest_of_the_branch_config():
    survey = survey_from_mapping(SURVEY)
    assert survey_from_mapping(survey.as_document()) == survey
    for bad, why in ((dict(SURVEY, id="Bad Id"), "id"), (dict(SURVEY, questions=[]), "1 to 8 questions"),
                     (dict(SURVEY, target={"kind": "tier"}), "non-empty list 'tiers'"),
                     (dict(SURVEY, reward_points=-1), "reward_points"),
                     (dict(SURVEY, questions=[{"id": "q1", "type": "choice", "text": "x", "choices": ["a"]}]), "2 to 6")):
        with pytest.raises(ConfigError, match=why):
            survey_from_mapping(bad)
    with pytest.raises(ConfigError, match="same id"):
        surveys_from_config([SURVEY, SURVEY])
    config = branch_config_from_cloud({"rules": {}, "tiers": [{"name": "bronze", "min_points": 0, "multiplier_percent": 100}], "rewards": [],
                                       "campaigns": [], "surveys": [SURVEY]})
    assert config.surveys == (survey,) and config.complaint_subjects == rc.DEFAULT_SUBJECTS


def test_answers_must_fit_their_questions_and_one_question_at_least_is_answered():
    survey = survey_from_mapping(SURVEY)
    assert check_answers(survey, {"q1": 4, "q2": False, "q3": 2, "q4": "  too\nslow "}) == \
        {"q1": 4, "q2": False, "q3": 2, "q4": "too slow"}
    for bad, field in (({"q1": 6}, "q1"), ({"q1": True}, "q1"), ({"q2": 1}, "q2"), ({"q3": 3}, "q3"),
                       ({"q4": "x" * 201}, "q4"), ({"q9": 1}, "q9"), ({}, "survey"), ({"q4": ""}, "survey")):
        with pytest.raises(AnswerRefused) as refused:
            check_answers(survey, bad)
        assert refused.value.field == field


def test_a_target_decides_who_is_offered_a_survey_and_an_answered_one_is_not_offered_again():
    by_tier = survey_from_mapping(dict(SURVEY, id="gold", target={"kind": "tier", "tiers": ["gold"]}))
    after = survey_from_mapping(dict(SURVEY, id="after", target={"kind": "purchase", "branches": ["tehran-01"]}))
    anyone = survey_from_mapping(dict(SURVEY, id="all"))
    bronze = Shopper("bronze", "new", "tehran-01", just_bought=False)
    assert offer([by_tier, after, anyone], bronze, []) == anyone
    assert offer([by_tier, after, anyone], Shopper("gold", "new", "tehran-01", False), []) == by_tier
    assert offer([by_tier, after], Shopper("bronze", "new", "tehran-01", True), []) == after
    assert offer([after], Shopper("bronze", "new", "shiraz-02", True), []) is None
    assert offer([anyone], bronze, ["all"]) is None


def test_the_events_of_an_answer_and_a_complaint_follow_the_protocol_and_refuse_what_does_not():
    when = protocol.parse_time("2026-03-01T10:00:00Z")
    protocol.make_event("survey_answered", "m1", when, survey_id="service", answers={"q1": 5, "q4": "ok"})
    protocol.make_event("complaint_filed", "guest", when, code="ABCDE12345", phone_e164="+989121234567",
                        subject="service", text="<script>x</script>")
    for kind, fields in (("survey_answered", {"survey_id": "service", "answers": {}}),
                         ("survey_answered", {"survey_id": "service", "answers": {"q1": 9}}),
                         ("complaint_filed", {"code": "ABC", "phone_e164": "+989121234567", "subject": "s", "text": "abc"}),
                         ("complaint_filed", {"code": "ABCDE12345", "phone_e164": "+989121234567", "subject": "s",
                                              "text": "x" * 1001})):
        with pytest.raises(protocol.InvalidEvent):
            protocol.make_event(kind, "m1", when, **fields)


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "kiosk.db", device_id="k1") as s:
        yield s


def test_a_survey_answered_twice_pays_once_refuses_the_second_and_a_resend_returns_the_first(store):
    member = store.add_member("+989121234567", "Sara")
    first = str(uuid.uuid4())
    done = store.record_survey_answer(first, member.id, "service", {"q1": 5}, reward_points=20, language="fa")
    assert (done.reward_points, done.balance, done.repeat) == (20, 20, False)
    again = store.record_survey_answer(first, member.id, "service", {"q1": 5}, reward_points=20, language="fa")
    assert (again.reward_points, again.balance, again.repeat) == (20, 20, True)
    with pytest.raises(AlreadyAnswered):
        store.record_survey_answer(str(uuid.uuid4()), member.id, "service", {"q1": 1}, reward_points=20, language="fa")
    assert store.balance(member.id).points == 20 and store.verify() == []
    kinds = sorted(json_kind(item.payload) for item in store.outbox_batch(50, 10**6, store._clock()))
    assert kinds == ["bonus", "member_enrolled", "survey_answered"]
    for item in store.outbox_batch(50, 10**6, store._clock()):
        protocol.event_from_outbox(item.payload)  # every queued payload is a valid wire event


def json_kind(payload: str) -> str:
    import json

    return json.loads(payload)["kind"]


def test_a_complaint_sent_twice_with_one_key_is_one_complaint_with_one_code(store):
    key = str(uuid.uuid4())
    one = store.file_complaint(key, "ABCDE12345", member_id=None, phone="+989121234567", subject="service",
                               text="cold coffee", language="en")
    two = store.file_complaint(key, "ZZZZZ99999", member_id=None, phone="+989121234567", subject="service",
                               text="cold coffee", language="en")
    assert (one.code, one.repeat, two.code, two.repeat) == ("ABCDE12345", False, "ABCDE12345", True)
    assert store.outbox_depth() == 1
    event = protocol.event_from_outbox(store.outbox_batch(5, 10**6, store._clock())[0].payload)
    assert event["member_id"] == "guest" and event["code"] == "ABCDE12345" and "device_id" not in event


KILLED_AFTER_COMMIT = textwrap.dedent("""
    import os, sys
    from kiosk.store import Store
    store = Store(sys.argv[1], device_id="k1")
    member = store.member_by_phone("+989121234567")
    store.add_listener(lambda: os._exit(9))  # the kiosk dies right after the commit, before any reply
    store.record_survey_answer(sys.argv[2], member.id, "service", {"q1": 4}, reward_points=20, language="fa")
""")


def test_a_kiosk_killed_between_recording_an_answer_and_replying_loses_nothing_and_pays_once(tmp_path):
    path = tmp_path / "kiosk.db"
    with Store(path, device_id="k1") as store:
        store.add_member("+989121234567", "Sara")
    answer_id = str(uuid.uuid4())
    killed = subprocess.run([sys.executable, "-c", KILLED_AFTER_COMMIT, str(path), answer_id],
                            cwd=os.getcwd(), capture_output=True, timeout=60)
    assert killed.returncode == 9, killed.stderr.decode()
    with Store(path, device_id="k1") as store:  # the restarted kiosk; the page sends the same answer id again
        member = store.member_by_phone("+989121234567")
        resent = store.record_survey_answer(answer_id, member.id, "service", {"q1": 4}, reward_points=20,
                                            language="fa")
        assert resent.repeat and resent.balance == 20
        assert store.balance(member.id).points == 20 and store.verify() == []
        assert store.surveys_answered(member.id) == {"service"}


KILLED_AFTER_PAYING = textwrap.dedent("""
    import os, signal, sys
    from kiosk.store import Store
    store = Store(sys.argv[1], device_id="k1")
    member = store.member_by_phone("+989121234567")
    append = store._append
    def pay_then_die(db, row):
        append(db, row)  # the entry's points are debited in the open transaction...
        os.kill(os.getpid(), signal.SIGKILL)  # ...and the kiosk dies before the entry is written
    store._append = pay_then_die
    draw = {"draw_id": "spring", "price_points": 50, "starts_at": "2000-01-01T00:00:00.000000Z",
            "ends_at": "2999-01-01T00:00:00.000000Z"}
    store.buy_draw_entries(member.id, draw, 2, sys.argv[2])
""")


def test_a_kiosk_killed_between_paying_for_an_entry_and_recording_it_charged_nothing_and_a_resend_buys_once(tmp_path):
    path = tmp_path / "kiosk.db"
    with Store(path, device_id="k1") as store:
        member = store.add_member("+989121234567", "Sara")
        store.record(member.id, "bonus", 1000, reason="welcome")
        queued = store.outbox_depth()
    killed = subprocess.run([sys.executable, "-c", KILLED_AFTER_PAYING, str(path), "entry-key-0001"],
                            cwd=os.getcwd(), capture_output=True, timeout=60)
    assert killed.returncode == -9, killed.stderr.decode()
    with Store(path, device_id="k1") as store:  # the restarted kiosk: neither the debit nor the entry is there
        assert store.balance(member.id).points == 1000 and store.draw_entries_of(member.id) == {}
        assert store.outbox_depth() == queued and store.verify() == []
        draw = {"draw_id": "spring", "price_points": 50, "starts_at": "2000-01-01T00:00:00.000000Z",
                "ends_at": "2999-01-01T00:00:00.000000Z"}
        bought = store.buy_draw_entries(member.id, draw, 2, "entry-key-0001")  # the page sends its key again
        again = store.buy_draw_entries(member.id, draw, 2, "entry-key-0001")
        assert bought["applied"] and not again["applied"] and store.balance(member.id).points == 900
        assert store.draw_entries_of(member.id) == {"spring": 2} and store.verify() == []
