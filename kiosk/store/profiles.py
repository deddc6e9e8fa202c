"""A member's profile as the chain holds it, taken into this kiosk's store when it was made later.

The cloud keeps the profile edited latest (by the edit's created_at) at any branch; a branch that imported the
member long ago takes it from the reconcile after a tap. The newest edit wins here too, so a stale cloud answer
never undoes an edit made here and not sent yet (its profile_at is later). Nothing is sent back: the chain
already has this profile.
"""
from __future__ import annotations

import sqlite_utils

from kiosk.chain_card import ChainProfile
from kiosk.clock import iso, parse_iso
from kiosk.errors import UnknownMember
from kiosk.store.database import Store


def take_chain_profile(store: Store, profile: ChainProfile) -> bool:
    """Replace the member's name, birthday and language with the chain's when the chain's edit was made after
    the profile held here; True when it did. Read first: most reconciles find nothing newer and write nothing."""
    rows = store.query("SELECT COALESCE(profile_at, created_at) AS at FROM members WHERE id = ?", (profile.member_id,))
    if not rows:
        raise UnknownMember(f"no member with id {profile.member_id} on this kiosk")
    at = iso(profile.at)
    if parse_iso(rows[0]["at"]) >= profile.at:
        return False

    def tx(db: sqlite_utils.Database) -> bool:
        # Still conditional: an edit made here since the read above is newer and stays (both times are iso()
        # text, which sorts as time does).
        # No birthday or language in the chain's profile means "not given" (or a day without a year the rules
        # cannot use), never "erase it": what is held here stays.
        return db.execute(
            "UPDATE members SET first_name = ?, last_name = ?, birthday = COALESCE(?, birthday), "
            "language = COALESCE(?, language), profile_at = ? WHERE id = ? AND COALESCE(profile_at, created_at) < ?",
            [profile.first_name, profile.last_name, profile.birthday, profile.language, at, profile.member_id, at],
        ).rowcount == 1

    return store.write(tx)
