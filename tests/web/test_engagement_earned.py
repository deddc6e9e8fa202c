"""What a shopper earns in draws and games by answering a survey or by buying: free entries and free plays.

Through Flask's test client over the real flows and store, with the draw and game as the cloud sends them.
"""
from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from kiosk.clock import iso

SURVEY = {"id": "service", "title": {"en": "Your opinion"}, "reward_points": 20, "target": {"kind": "all"},
          "questions": [{"id": "q1", "type": "stars", "text": {"en": "How was the service?"}}]}
CONFIG = {"rules": {}, "tiers": [{"name": "bronze", "min_points": 0, "multiplier_percent": 100}], "rewards": [],
          "campaigns": [], "surveys": [SURVEY]}


def open_draw(club, **free: int) -> None:
    now = club.service.now()
    club.service.store.replace_engagement(
        draws=[{"draw_id": "spring", "name": "Spring", "names": {}, "prizes": ["Bicycle"], "price_points": 50,
                "free_per_purchase": 0, "free_per_survey": 0, **free, "starts_at": iso(now - timedelta(hours=1)),
                "ends_at": iso(now + timedelta(days=1)), "seed_hash": "a" * 64, "seed": None}],
        games=[], wins=[], grants=[])


@pytest.fixture
def club(counter):
    counter.service.apply_config(CONFIG)
    return counter


def session_of(club) -> str:
    return club.app.extensions["kiosk_flows"].tokens.seal("member", club.sara)


def queued_entries(club) -> list[dict]:
    payloads = [json.loads(i.payload) for i in club.service.store.outbox_batch(500, 10**7, club.service.now())]
    return [p for p in payloads if p["kind"] == "draw_entry"]


def test_an_answered_survey_gives_the_draws_free_entries_once_per_answer_and_charges_nothing(club):
    open_draw(club, free_per_survey=2)
    before = club.service.store.balance(club.sara).points
    body = {"session": session_of(club), "survey_id": "service", "answer_id": str(uuid.uuid4()), "answers": {"q1": 4}}
    first = club.post("/api/surveys/answer", body).get_json()
    assert first["free_entries"] == 2 and first["reward_points"] == 20
    resent = club.post("/api/surveys/answer", body).get_json()  # the page's resend after a lost reply
    assert resent["repeat"] and resent["free_entries"] == 2
    assert club.service.store.draw_entries_of(club.sara) == {"spring": 2}
    assert club.service.store.balance(club.sara).points == before + 20  # the reward only: the entries were free
    (entry,) = queued_entries(club)
    assert (entry["source"], entry["entries"], entry["draw_id"]) == ("survey", 2, "spring")
    assert club.service.store.verify() == []


def test_a_survey_gives_no_entries_when_no_open_draw_offers_them(club):
    open_draw(club, free_per_purchase=1)
    body = {"session": session_of(club), "survey_id": "service", "answer_id": str(uuid.uuid4()), "answers": {"q1": 4}}
    assert club.post("/api/surveys/answer", body).get_json()["free_entries"] == 0
    assert club.service.store.draw_entries_of(club.sara) == {} and queued_entries(club) == []
