"""Surveys and complaints in the real cloud (SQLite and PostgreSQL): the console saves a survey into the branch
configs, answers and complaints arrive as signed events, results and the queue show per branch and role, and a
tracking-code look-up is rate-limited per kiosk and answers a wrong code and a wrong phone alike."""
from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest

from cloud import complaints
from cloud.audit import recent
from kiosk import protocol
from kiosk.sync.errors import CloudUnavailable

BASE = {"rules": {}, "tiers": [{"name": "bronze", "min_points": 0, "multiplier_percent": 100}], "rewards": [],
        "campaigns": []}
FORM = {"id": "service", "title_fa": "نظر شما", "title_en": "Your opinion", "active": "1", "reward_points": "20",
        "target_kind": "all", "q0_type": "stars", "q0_text_en": "How was the service?", "q0_text_fa": "خدمات؟",
        "q1_type": "yes_no", "q1_text_en": "Would you come again?",
        "q2_type": "choice", "q2_text_en": "Best thing?", "q2_choices_en": "Price\nStaff\nRange",
        "q3_type": "text", "q3_text_en": "Anything else?"}


def answers(cloud, branch: str, rows: list[tuple[str, dict, timedelta]]) -> None:
    now = cloud.clock()
    with cloud.registered_client(branch) as client:
        client.send_batch([json.dumps(protocol.make_event("survey_answered", member, now - ago, survey_id="service",
                                                          answers=given)) for member, given, ago in rows])


def test_a_marketer_saves_a_survey_the_branch_configs_carry_it_and_results_count_each_member_once(cloud, console):
    for branch in ("tehran-01", "shiraz-02"):
        cloud.store.set_config(branch, BASE)
    marketer = console("marketer")
    saved = marketer.post("/surveys/edit", FORM, csrf_from="/surveys/edit")
    assert saved.status_code == 302, saved.text
    for branch in ("tehran-01", "shiraz-02"):
        (survey,) = json.loads(cloud.store.config(branch).body)["surveys"]
        assert survey["id"] == "service" and survey["questions"][2]["choices"][1] == {"en": "Staff"}
    assert any(e.action == "survey.save" and e.actor == "marketer" for e in recent(cloud.store.db))
    broken = marketer.post("/surveys/edit", {**FORM, "q2_choices_en": "Only one"}, csrf_from="/surveys/edit")
    assert broken.status_code == 422 and "2 to 6 choices" in broken.text

    answers(cloud, "tehran-01", [("m-ali", {"q1": 5, "q2": True, "q3": 1, "q4": "<b>more</b>"}, timedelta(days=8)),
                                 ("m-zahra", {"q1": 3, "q2": False}, timedelta(days=1)),
                                 ("m-ali", {"q1": 1}, timedelta(0))])  # a second answer (offline kiosks): not counted
    answers(cloud, "shiraz-02", [("m-reza", {"q1": 4}, timedelta(0))])
    page = marketer.get("/surveys/service/results?lang=en").text
    assert page.count('data-branch="tehran-01"') == 1 and page.count('data-branch="shiraz-02"') == 1
    tehran = page.split('data-branch="tehran-01"')[1].split("</table>")[0]
    assert '<td class="n count">2</td>' in tehran and '<td class="n average">4.0</td>' in tehran
    assert "&lt;b&gt;more&lt;/b&gt;" in tehran and "<b>more</b>" not in tehran  # a shopper's markup is text
    assert "Staff: 1" in tehran and "yes: 1 · no: 1" in tehran
    assert "Trend by week" in page

    manager = console("tehran-manager")
    mine = manager.get("/surveys/service/results?lang=en").text
    assert 'data-branch="tehran-01"' in mine and 'data-branch="shiraz-02"' not in mine
    assert manager.post("/surveys/edit", FORM, csrf_from="/surveys").status_code == 403
    rows = list(csv.reader(io.StringIO(marketer.get("/surveys/service/results.csv").text)))
    assert rows[0] == ["answered_at", "branch", "device_id", "member_id", "question", "answer"]
    assert [(r[1], r[3], r[5]) for r in rows[1:] if r[4] == "q4"] == [("tehran-01", "m-ali", "<b>more</b>")]
    assert len(rows) == 1 + 4 + 2 + 1


def file(cloud, branch: str, code: str, phone: str = "+989121234567", text: str = "the queue was long") -> None:
    with cloud.registered_client(branch) as client:
        client.send_batch([json.dumps(protocol.make_event("complaint_filed", "guest", cloud.clock(), code=code,
                                                          phone_e164=phone, subject="service", text=text))])


def test_a_look_up_needs_the_code_and_the_phone_answers_wrong_ones_alike_and_is_limited_per_kiosk(cloud):
    file(cloud, "tehran-01", "ABCDE12345")
    with cloud.registered_client("tehran-01") as kiosk, cloud.registered_client("tehran-01") as other:
        found = kiosk.lookup_complaint("abcde-12345", "4567")
        assert found["state"] == "new" and found["code"] == "ABCDE-12345" and found["answer"] == ""
        wrong_phone = kiosk.lookup_complaint("ABCDE12345", "0000")
        wrong_code = kiosk.lookup_complaint("ABCDE12346", "4567")
        assert wrong_phone is None and wrong_code is None
        for _ in range(complaints.LOOKUPS_PER_WINDOW - 3):
            kiosk.lookup_complaint("ZZZZZ99999", "1111")
        with pytest.raises(CloudUnavailable) as limited:
            kiosk.lookup_complaint("ABCDE12345", "4567")  # even the right code: the limit is per kiosk
        assert limited.value.status == 429 and limited.value.retry_after and limited.value.retry_after > 0
        assert other.lookup_complaint("ABCDE12345", "4567")["state"] == "new"  # another kiosk is not held up
        cloud.clock.advance(complaints.LOOKUP_WINDOW + timedelta(seconds=1))
        assert kiosk.lookup_complaint("ABCDE12345", "4567")["state"] == "new"


def test_staff_answer_a_complaint_of_their_branch_every_change_is_kept_and_the_kiosk_sees_the_answer(cloud, console):
    file(cloud, "tehran-01", "ABCDE12345", text="<img src=x onerror=alert(1)> rude")
    file(cloud, "shiraz-02", "SHRZ012345", phone="+989351110003")
    manager = console("tehran-manager")
    queue = manager.get("/complaints?lang=en").text
    assert "ABCDE-12345" in queue and "SHRZ0-12345" not in queue
    assert "&lt;img src=x onerror=alert(1)&gt;" in queue and "<img src=x" not in queue
    assert manager.get("/complaints/SHRZ0-12345").status_code == 403
    assert manager.post("/complaints/ABCDE-12345", {"state": "answered", "answer": ""},
                        csrf_from="/complaints/ABCDE-12345").status_code == 422  # an answer first
    assert manager.post("/complaints/ABCDE-12345", {"state": "in_progress", "answer": ""},
                        csrf_from="/complaints/ABCDE-12345").status_code == 302
    assert manager.post("/complaints/ABCDE-12345", {"state": "answered", "answer": "We are sorry; <b>fixed</b>."},
                        csrf_from="/complaints/ABCDE-12345").status_code == 302
    case = complaints.case(cloud.store.db, "ABCDE12345")
    assert [h["state"] for h in case.history] == ["new", "in_progress", "answered"]
    assert [h["actor"] for h in case.history][1:] == ["tehran-manager", "tehran-manager"]
    assert [e.after["state"] for e in recent(cloud.store.db) if e.action == "complaint.change"] == \
        ["answered", "in_progress"]
    with cloud.registered_client("shiraz-02") as kiosk:  # the shopper asks at another branch
        found = kiosk.lookup_complaint("ABCDE12345", "4567")
    assert found["state"] == "answered" and found["answer"] == "We are sorry; <b>fixed</b>."
    marketer = console("marketer")
    assert "SHRZ0-12345" in marketer.get("/complaints?state=new").text


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_new_complaint_gets_its_tracking_code_by_text_message_once(cloud):
    from cloud.messages import tables
    from cloud.messages.cli import engine_for
    from cloud.messages.queue import MessageQueue
    from cloud.messages.settings import MessageSettings

    file(cloud, "tehran-01", "ABCDE12345")
    engine = engine_for(cloud.store.db)
    try:
        queue = MessageQueue(engine, MessageSettings(club="Golestan"), clock=cloud.clock)
        assert complaints.queue_tracking_texts(engine, queue, "Golestan", "fa") == 1
        assert complaints.queue_tracking_texts(engine, queue, "Golestan", "fa") == 0
        with engine.connect() as conn:
            (row,) = conn.execute(tables.messages.select()).all()
        assert row.phone_e164 == "+989121234567" and "ABCDE-12345" in row.text and row.category == "transactional"
    finally:
        engine.dispose()


def test_a_branch_whose_config_is_set_after_a_survey_was_saved_gets_the_chains_surveys(cloud, console, tmp_path,
                                                                                        capsys):
    from cloud import cli
    from kiosk.rules.cloud_config import branch_config_from_cloud

    cloud.store.set_config("tehran-01", BASE)
    marketer = console("marketer")
    assert marketer.post("/surveys/edit", FORM, csrf_from="/surveys/edit").status_code == 302
    assert cloud.store.config("shiraz-02") is None  # no config yet when the survey was saved
    config_file = tmp_path / "branch.json"
    config_file.write_text(json.dumps(BASE))
    for branch in ("shiraz-02", "tehran-01"):  # a new branch's first config, and one set again from a file
        assert cli.main(["--db", cloud.database, "config", "set", "--branch", branch, "--file", str(config_file)]) == 0
        assert "with the chain's 1 survey(s)" in capsys.readouterr().out
        document = json.loads(cloud.store.config(branch).body)
        assert [s["id"] for s in document["surveys"]] == ["service"]
        assert branch_config_from_cloud(protocol.validate_config(document)).surveys[0].survey_id == "service"
