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
    assert entry["answer_id"] == body["answer_id"]  # so the chain can take them back if the answer was a repeat
    assert club.service.store.verify() == []


def test_a_survey_gives_no_entries_when_no_open_draw_offers_them(club):
    open_draw(club, free_per_purchase=1)
    body = {"session": session_of(club), "survey_id": "service", "answer_id": str(uuid.uuid4()), "answers": {"q1": 4}}
    assert club.post("/api/surveys/answer", body).get_json()["free_entries"] == 0
    assert club.service.store.draw_entries_of(club.sara) == {} and queued_entries(club) == []


def open_game(club, **extra) -> None:
    now = club.service.now()
    club.service.store.replace_engagement(
        draws=[], wins=[],
        games=[{"game_id": "spin", "name": "Spin", "names": {}, "cost_points": 30, "budget_id": "game:spin",
                "odds": [{"reward_id": "coffee", "chance": 10_000}], "since": iso(now),
                **extra}],
        grants=[{"grant_id": "g1", "budget_id": "game:spin", "kind": "game_prizes", "units": 5,
                 "expires_at": iso(now + timedelta(hours=1))}])


def offers(club) -> dict:
    (game,) = club.post("/api/engagement/offers", {"session": session_of(club)}).get_json()["games"]
    return game


def test_a_purchase_over_the_chains_amount_earns_one_free_spin_that_costs_no_points_and_keeps_verify_clean(club):
    open_game(club, earn_over_rial=5_000_000)
    assert offers(club)["free_plays"] == 0  # the fixture's purchase came before the game started
    club.service.earn(club.sara, 4_000_000)  # under the amount: no spin
    bought = club.service.earn(club.sara, 6_000_000)
    assert offers(club)["free_plays"] == 1
    before = club.service.store.balance(club.sara).points
    ledger_rows = len(club.service.store.history(club.sara))
    played = club.post("/api/engagement/games/play", {"session": session_of(club), "game_id": "spin",
                                                      "play_id": "free-play-0001", "earned": True})
    assert played.status_code == 200 and played.get_json()["won"] and played.get_json()["balance"] == before
    assert club.service.store.balance(club.sara).points == before
    assert len(club.service.store.history(club.sara)) == ledger_rows  # no ledger row: the purchase is the event
    (coupon,) = club.service.store.query("SELECT event_id FROM coupons WHERE code = ?", (played.get_json()["code"],))
    assert coupon["event_id"] == bought.row.event_id
    again = club.post("/api/engagement/games/play", {"session": session_of(club), "game_id": "spin",
                                                     "play_id": "free-play-0002", "earned": True})
    assert again.status_code == 409 and again.get_json()["error"] == "no_free_play"
    assert offers(club)["free_plays"] == 0 and club.service.store.verify() == []
    paid = club.post("/api/engagement/games/play", {"session": session_of(club), "game_id": "spin",
                                                    "play_id": "paid-play-0001"}).get_json()
    assert paid["balance"] == before - 30  # a play not earned still costs its points


def test_a_game_without_a_purchase_amount_earns_no_free_spin(club):
    open_game(club)
    club.service.earn(club.sara, 60_000_000)
    assert offers(club)["free_plays"] == 0
    refused = club.post("/api/engagement/games/play", {"session": session_of(club), "game_id": "spin",
                                                       "play_id": "free-play-0003", "earned": True})
    assert refused.status_code == 409 and refused.get_json()["error"] == "no_free_play"
