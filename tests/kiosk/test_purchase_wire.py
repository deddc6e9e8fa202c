"""A purchase tells the cloud which campaigns added points to it and the cashback it gave, in its own event (what
the console's campaign results and weekly reports count); a plain purchase's event is unchanged."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from kiosk import protocol
from tests.kiosk.test_club_service import campaign, club, config, make_gold, member  # noqa: F401 - the fixture

__all__ = ["club"]
AT = datetime(2026, 5, 1, tzinfo=timezone.utc)


def wire_event(service, event_id: str) -> dict:
    payload = service.store.query("SELECT payload FROM outbox WHERE event_id = ?", (event_id,))[0]["payload"]
    return protocol.event_from_outbox(payload)


def test_a_campaign_purchase_with_cashback_sends_the_campaign_its_points_and_the_cashback(club):
    club.apply_config(config(campaign("yalda", target_tiers=["gold"]), cashback_basis_points=100))
    gold = member(club)
    make_gold(club, gold.id)
    earned = club.earn(gold.id, 1_000_000, receipt_id="R1")
    event = wire_event(club, earned.row.event_id)
    assert event["campaigns"] == [{"id": "yalda", "points": 100}]
    assert event["cashback"] == earned.cashback_rial > 0
    assert event["points"] == earned.row.points  # the total, as before


def test_a_plain_purchase_sends_neither_campaigns_nor_cashback(club):
    club.apply_config(config())
    bronze = member(club)
    event = wire_event(club, club.earn(bronze.id, 1_000_000).row.event_id)
    assert "campaigns" not in event and "cashback" not in event


@pytest.mark.parametrize("bad, reason", [
    ([{"id": "a", "points": 1}, {"id": "a", "points": 2}], "listed twice"), ([{"id": "", "points": 1}], "1-64 chars"),
    ("yalda", "a list"), ([{"id": "a", "points": 1, "name": "x"}], "exactly id and points"),
    ([{"id": "a", "points": -1}], "integer >= 0")])
def test_an_applied_campaign_list_that_breaks_the_schema_is_refused_with_the_reason(bad, reason):
    with pytest.raises(protocol.InvalidEvent, match=re.escape(reason)):
        protocol.make_event("earn", "m1", AT, points=5, amount=10, campaigns=bad)


def test_a_negative_cashback_or_campaigns_on_a_redemption_are_refused():
    with pytest.raises(protocol.InvalidEvent, match="cashback must be an integer >= 0"):
        protocol.make_event("earn", "m1", AT, points=5, amount=10, cashback=-1)
    with pytest.raises(protocol.InvalidEvent, match="unknown keys"):
        protocol.make_event("redeem", "m1", AT, points=-5, campaigns=[{"id": "a", "points": 1}])
