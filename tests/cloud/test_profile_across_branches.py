"""A profile edited at a kiosk reaches the cloud (member_updated through the outbox) and the next branch that
imports the member, end to end (a real cloud on loopback, SQLite and PostgreSQL, and two kiosks)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from cloud.db.schema import members
from kiosk import protocol

from .test_wallet_across_branches import Branch, branches, sara_at  # noqa: F401 (branches is a fixture)


def cloud_profile(cloud, member_id: str) -> tuple:
    with cloud.store.db.read() as conn:
        return tuple(conn.execute(select(members.c.name, members.c.name_folded, members.c.birthday,
                                         members.c.language).where(members.c.member_id == member_id)).first())


def test_a_profile_completed_at_branch_a_is_what_branch_b_imports(cloud, branches):
    a, b = branches("kiosk-a", "tehran-01"), branches("kiosk-b", "shiraz-02")
    sara = sara_at(a)  # enrolled with a first name and language en, no birthday
    a.sync()
    assert cloud_profile(cloud, sara) == ("Sara", "sara", None, "en")
    a.flows.enrollment.complete_profile(sara, "Ahmadi", "1995-03-21")
    a.sync()
    assert cloud_profile(cloud, sara) == ("Sara Ahmadi", "sara ahmadi", "1995-03-21", "en")

    tap = b.tap()  # imported at B with the profile as edited at A
    member = b.store.member(sara)
    assert (member.first_name, member.last_name, member.birthday, member.language) == (
        "Sara", "Ahmadi", "1995-03-21", "en")
    assert tap["member_id"] == sara
    assert a.store.verify() == [] and b.store.verify() == []


def test_the_latest_edit_made_wins_whatever_order_the_edits_arrive_in(cloud, branches):
    a = branches("kiosk-a", "tehran-01")
    sara = sara_at(a)
    a.sync()
    client = a.worker.client
    now = cloud.clock()
    later = protocol.make_event("member_updated", sara, now + timedelta(minutes=2), name="Sara Karimi",
                                birthday="1995-03-21", language="fa")
    earlier = protocol.make_event("member_updated", sara, now + timedelta(minutes=1), name="Sara Old")
    for event in (later, earlier):
        assert client.send_batch([protocol.canonical_json(event)]).delivered_ids() == [event["event_id"]]
    assert cloud_profile(cloud, sara) == ("Sara Karimi", "sara karimi", "1995-03-21", "fa")
