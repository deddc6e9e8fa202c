"""The store's side of the cloud's reversals (kiosk.rules.reversals): one adjust per reversal, acknowledged later.

A mixin of :class:`kiosk.store.database.Store`. Applying is idempotent per ref (the table's primary key and an
adjust id derived from the ref), so a reply received twice, or again after a restart, moves points once; the
kiosk acknowledges applied refs at its next exchange and the cloud stops listing them.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlite_utils

from kiosk.clock import iso
from kiosk.rules.ledger import LedgerKind
from kiosk.rules.reversals import (LATE_ENTRY, REPEAT_SURVEY, REPEAT_SURVEY_ENTRY, reversal_points,
                                   reversal_reason)
from kiosk.store.records import LedgerRow
from kiosk.store.spending import derived_id

_ENTRY = "SELECT member_id, points, draw_id FROM draw_entries WHERE entry_id = ?"
_CLAIM = {LATE_ENTRY: _ENTRY, REPEAT_SURVEY_ENTRY: _ENTRY,
          REPEAT_SURVEY: "SELECT member_id, reward_points, survey_id FROM survey_answers WHERE answer_id = ?"}


class ReversalsMixin:
    device_id: str
    _clock: Any
    write: Any
    query: Any
    _append: Any

    def apply_reversals(self, reversals: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Undo each claim the cloud refused (its points back, or its reward taken back); the new ones applied."""
        stamp = iso(self._clock())

        def tx(db: sqlite_utils.Database) -> list[dict[str, Any]]:
            done = []
            for item in reversals:
                ref, kind = item["ref"], item["kind"]
                if db.execute("SELECT 1 FROM engagement_reversals WHERE ref = ?", [ref]).fetchone():
                    continue
                claim = db.execute(_CLAIM[kind], [ref]).fetchone()
                if claim is None:
                    continue  # not a claim of this kiosk's (a wiped disk): nothing here to undo
                member_id, moved, subject = claim
                (balance,) = db.execute("SELECT points FROM balances WHERE member_id = ?", [member_id]).fetchone()
                points = reversal_points(kind, moved=moved, balance=balance)
                event_id = None
                if points:
                    event_id = derived_id("engagement-reversal", ref)
                    self._append(db, LedgerRow(
                        event_id=event_id, member_id=member_id, kind=LedgerKind.ADJUST, points=points, amount=0,
                        reason=reversal_reason(kind, subject), receipt_id=None, staff_id=None,
                        device_id=self.device_id, created_at=stamp))
                row = {"ref": ref, "kind": kind, "member_id": member_id, "event_id": event_id, "points": points,
                       "created_at": stamp, "acked_at": None}
                db["engagement_reversals"].insert(row)
                done.append(row)
            return done

        return self.write(tx)

    def reversals_to_ack(self) -> list[str]:
        return [r[0] for r in self.query("SELECT ref FROM engagement_reversals WHERE acked_at IS NULL ORDER BY ref")]

    def reversals_acked(self, refs: Iterable[str]) -> None:
        stamp = iso(self._clock())

        def tx(db: sqlite_utils.Database) -> None:
            for ref in refs:
                db.execute("UPDATE engagement_reversals SET acked_at = ? WHERE ref = ? AND acked_at IS NULL",
                           [stamp, ref])

        self.write(tx)
