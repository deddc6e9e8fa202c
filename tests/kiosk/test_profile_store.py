"""When the profile a kiosk holds was made: set by an edit here, by the chain's profile it takes, and on upgrade
from the profile edits already in the outbox; the chain's profile is taken only when it was made later."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from kiosk.chain_card import ChainProfile
from kiosk.clock import iso
from kiosk.errors import UnknownMember
from kiosk.store import Store
from kiosk.store.migrations import MIGRATIONS
from kiosk.store.profiles import take_chain_profile

EDITED = "2026-01-05T10:00:00.000000Z"


def test_a_kiosk_upgraded_from_schema_8_dates_each_profile_by_its_last_edit_in_the_outbox(tmp_path):
    path = tmp_path / "k.db"
    with Store(path, device_id="dev-1", migrations=MIGRATIONS[:8]) as old:
        sara = old.add_member("+989121234567", "Sara").id
        ali = old.add_member("+989353334455", "Ali").id
        for at in ("2026-01-04T10:00:00.000000Z", EDITED):  # two edits of Sara's profile, none of Ali's
            old.write(lambda db, at=at: old._enqueue(db, "member_updated", {"member": {"id": sara}}, at))
    with Store(path, device_id="dev-1") as store:
        assert store.member(sara).profile_at == EDITED
        assert store.member(ali).profile_at is None  # as enrolled


def test_the_chains_profile_is_taken_only_when_made_after_the_one_held_here(tmp_path):
    with Store(tmp_path / "k.db", device_id="dev-1") as store:
        sara = store.add_member("+989121234567", "Sara", language="en").id
        store.update_profile(sara, last_name="Karimi", birthday="1995-03-21", language="ar")
        held = datetime.fromisoformat(store.member(sara).profile_at)

        older = ChainProfile(sara, "Sara", "Old", "1990-01-01", "fa", held - timedelta(seconds=1))
        assert take_chain_profile(store, older) is False
        assert take_chain_profile(store, ChainProfile(sara, "Sara", "Same", None, None, held)) is False  # a tie
        member = store.member(sara)
        assert (member.last_name, member.birthday, member.language) == ("Karimi", "1995-03-21", "ar")

        newer = ChainProfile(sara, "Sara", "Ahmadi", None, None, held + timedelta(minutes=1))
        assert take_chain_profile(store, newer) is True
        member = store.member(sara)  # no birthday or language in the chain's profile keeps the ones held
        assert (member.last_name, member.birthday, member.language, member.profile_at) == (
            "Ahmadi", "1995-03-21", "ar", iso(newer.at))
        assert take_chain_profile(store, newer) is False  # once
        assert store.outbox_pending()[-1]["kind"] == "member_updated"  # only the edit made here goes out
        with pytest.raises(UnknownMember):
            take_chain_profile(store, ChainProfile("nobody", "X", "", None, None, datetime.now(timezone.utc)))
