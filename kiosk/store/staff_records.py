"""What staff mode reads and changes about members beyond cards and points: today's activity at this kiosk and
a withdrawn consent to text messages.

A mixin of :class:`kiosk.store.database.Store`. A withdrawal is one transaction: the member row forgets its
consent and the outbox gets a ``consent_withdrawn`` event, so the cloud stops messaging the member too.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlite_utils

from kiosk.clock import iso
from kiosk.errors import UnknownMember


class StaffRecordsMixin:
    def activity_since(self, since: datetime, limit: int = 50) -> list[dict[str, Any]]:
        """This kiosk's ledger rows since ``since``, newest first, with the member's first name."""
        rows = self.query(
            "SELECT l.created_at, l.kind, l.points, l.staff_id, m.first_name FROM ledger l "
            "JOIN members m ON m.id = l.member_id WHERE l.created_at >= ? AND l.device_id = ? "
            "ORDER BY l.created_at DESC LIMIT ?", (iso(since), self.device_id, limit))
        return [dict(r) for r in rows]

    def withdraw_consent(self, member_id: str, *, staff_id: str | None = None) -> bool:
        """Forget the member's consent to text messages; False when there was none to withdraw."""
        now = iso(self._clock())

        def tx(db: sqlite_utils.Database) -> bool:
            row = db.execute("SELECT consent_version FROM members WHERE id = ?", [member_id]).fetchone()
            if row is None:
                raise UnknownMember(f"no member with id {member_id}")
            if row[0] is None:
                return False
            db.execute("UPDATE members SET consent_at = NULL, consent_version = NULL WHERE id = ?", [member_id])
            self._enqueue(db, "consent_withdrawn", {"member_id": member_id, "staff_id": staff_id}, now)
            return True

        return self.write(tx)
