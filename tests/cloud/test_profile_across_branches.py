"""A profile edited at a kiosk reaches the cloud (member_updated through the outbox) and the next branch that
imports the member, end to end (a real cloud on loopback, SQLite and PostgreSQL, and two kiosks)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from cloud.db.schema import members
from kiosk import protocol
from kiosk.chain_card import chain_profile_from_reply
from kiosk.sync.reconcile import reconcile_member

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


def test_a_profile_edited_at_branch_a_reaches_branch_b_that_imported_the_member_long_before(cloud, branches):
    a, b = branches("kiosk-a", "tehran-01"), branches("kiosk-b", "shiraz-02")
    sara = sara_at(a)
    a.sync()
    assert b.tap()["profile_complete"] is False  # imported at B as enrolled: no last name, no birthday
    b.sync()
    cloud.clock.advance(timedelta(minutes=5))
    a.flows.enrollment.complete_profile(sara, "Ahmadi", "1995-03-21", language="ar")
    a.sync()

    first = b.tap()  # still B's copy: this tap's reconcile is what brings the chain's profile
    assert (first["profile_complete"], first["language"]) == (False, "en")
    b.sync()
    member = b.store.member(sara)
    assert (member.first_name, member.last_name, member.birthday, member.language) == (
        "Sara", "Ahmadi", "1995-03-21", "ar")
    tap = b.tap()
    assert (tap["first_name"], tap["profile_complete"], tap["language"]) == ("Sara", True, "ar")
    assert _profile_event_ids(b) == set()  # taken, not edited at B: nothing goes back to the chain
    assert a.store.verify() == [] and b.store.verify() == []


def test_an_edit_at_branch_b_not_yet_sent_survives_a_stale_cloud_answer_and_then_wins_everywhere(cloud, branches):
    a, b = branches("kiosk-a", "tehran-01"), branches("kiosk-b", "shiraz-02")
    sara = sara_at(a)
    a.flows.enrollment.complete_profile(sara, "Old", "1990-01-01", language="fa")
    a.sync()  # the cloud now holds A's edit
    b.tap()
    b.sync()
    points = b.store.balance(sara).points
    cloud.clock.advance(timedelta(minutes=1))
    b.flows.enrollment.complete_profile(sara, "Karimi", "1995-03-21", language="ar")  # later, not sent yet
    assert b.store.balance(sara).points == points  # her profile was complete: no second profile bonus at B

    assert reconcile_member(b.store, b.worker.client, sara) is None  # the cloud answers A's older edit
    member = b.store.member(sara)
    assert (member.last_name, member.birthday, member.language) == ("Karimi", "1995-03-21", "ar")
    assert cloud_profile(cloud, sara) == ("Sara Old", "sara old", "1990-01-01", "fa")

    b.sync()  # B's edit reaches the cloud, which keeps it (made later), and A takes it at her next tap there
    assert cloud_profile(cloud, sara) == ("Sara Karimi", "sara karimi", "1995-03-21", "ar")
    a.tap()
    a.sync()
    member = a.store.member(sara)
    assert (member.last_name, member.birthday, member.language) == ("Karimi", "1995-03-21", "ar")
    assert a.store.verify() == [] and b.store.verify() == []


def test_a_garbled_profile_in_the_cloud_answer_is_refused_naming_it_and_changes_nothing(cloud, branches):
    reply = {"member": {"member_id": "m-1", "name": "Sara Ahmadi", "profile_at": "2026-01-02T03:04:05Z",
                        "birthday": "1995-03-21", "language": "ar"}}
    profile = chain_profile_from_reply(reply, "m-1")
    assert (profile.first_name, profile.last_name, profile.birthday, profile.language) == (
        "Sara", "Ahmadi", "1995-03-21", "ar")
    assert chain_profile_from_reply({"member": {**reply["member"], "profile_at": None}}, "m-1") is None  # undated
    for member, complaint in (({"profile_at": "yesterday"}, "profile_at"), ({"name": ""}, "name"),
                              ({"name": "x" * 101}, "name"), ({"member_id": "m-2"}, "another member")):
        with pytest.raises(protocol.ProtocolError, match=complaint):
            chain_profile_from_reply({"member": {**reply["member"], **member}}, "m-1")

    a = branches("kiosk-a", "tehran-01")
    sara = sara_at(a)
    a.sync()
    with cloud.store.db.write() as conn:  # a cloud bug: a profile dated in the future, with no name
        conn.execute(update(members).where(members.c.member_id == sara).values(
            name=" ", profile_at="2099-01-01T00:00:00.000000Z"))
    reconcile_member(a.store, a.worker.client, sara)
    member = a.store.member(sara)
    assert (member.first_name, member.language, member.profile_at) == ("Sara", "en", None)


def _profile_event_ids(kiosk: Branch) -> set[str]:
    return {r["event_id"] for r in kiosk.store.query(
        "SELECT event_id FROM outbox WHERE json_extract(payload, '$.kind') = 'member_updated'")}
