"""The store's outbox: events waiting for the cloud, written in the same transaction as their change.

A mixin of :class:`kiosk.store.database.Store`, which supplies ``write``, ``query`` and ``device_id``.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Iterator

import sqlite_utils

from kiosk.clock import iso
from kiosk.store.records import OutboxItem, new_event_id


class OutboxMixin:
    def _enqueue(self, db: sqlite_utils.Database, kind: str, body: dict[str, Any], created_at: str,
                 *, event_id: str | None = None) -> None:
        event_id = event_id or new_event_id()
        payload = json.dumps({"event_id": event_id, "kind": kind, "device_id": self.device_id,
                              "created_at": created_at, **body}, separators=(",", ":"), sort_keys=True)
        db.execute(
            "INSERT INTO outbox (event_id, payload, attempts, next_attempt_at, sent_at, created_at) "
            "VALUES (?, ?, 0, ?, NULL, ?)",
            [event_id, payload, created_at, created_at],
        )

    def outbox_batch(self, limit: int, max_bytes: int, now: datetime) -> list[OutboxItem]:
        """Due, unsent outbox rows in creation order, bounded by count and total payload bytes."""
        rows = self.query(
            "SELECT event_id, payload, attempts FROM outbox WHERE sent_at IS NULL AND rejected_at IS NULL "
            "AND next_attempt_at <= ? "
            "ORDER BY created_at, rowid LIMIT ?",
            (iso(now), limit),
        )
        batch: list[OutboxItem] = []
        size = 0
        for r in rows:
            size += len(r["payload"].encode())
            if batch and size > max_bytes:
                break
            batch.append(OutboxItem(r["event_id"], r["payload"], r["attempts"]))
        return batch

    def outbox_delivered(self, event_ids: list[str], at: datetime) -> None:
        stamp = iso(at)

        def tx(db: sqlite_utils.Database) -> None:
            for chunk in _chunks(event_ids, 500):
                marks = ",".join("?" * len(chunk))
                db.execute(f"UPDATE outbox SET sent_at = ? WHERE event_id IN ({marks})", [stamp, *chunk])
                db.execute(f"UPDATE ledger SET cloud_state = 'sent' WHERE event_id IN ({marks})", chunk)

        self.write(tx)

    def outbox_retry_later(self, event_ids: list[str], next_attempt_at: datetime) -> None:
        stamp = iso(next_attempt_at)

        def tx(db: sqlite_utils.Database) -> None:
            for chunk in _chunks(event_ids, 500):
                marks = ",".join("?" * len(chunk))
                db.execute(
                    f"UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE event_id IN ({marks})",
                    [stamp, *chunk],
                )

        self.write(tx)

    def outbox_depth(self) -> int:
        return self.query("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND rejected_at IS NULL")[0][0]

    def outbox_backlog(self) -> tuple[int, str | None]:
        """Undelivered events and the creation time (ISO) of the oldest of them; (0, None) when none waits."""
        count, oldest = self.query(
            "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE sent_at IS NULL AND rejected_at IS NULL")[0]
        return count, oldest

    def outbox_rejected(self, rejections: dict[str, str], at: datetime) -> None:
        """Park events the cloud refused for good, with its reason; they are not retried."""
        stamp = iso(at)

        def tx(db: sqlite_utils.Database) -> None:
            for event_id, reason in rejections.items():
                db.execute("UPDATE outbox SET rejected_at = ?, last_error = ? WHERE event_id = ?",
                           [stamp, reason[:500], event_id])
                db.execute("UPDATE ledger SET cloud_state = 'rejected' WHERE event_id = ?", [event_id])

        self.write(tx)

    def outbox_requeue(self, event_ids: list[str] | None, reason: str, at: datetime) -> int:
        """Send parked events again (all of them for ``event_ids=None``), noting who asked and why; returns how
        many. For events parked on a cause since fixed (a cloud bug, a config the cloud lacked)."""
        if not reason.strip():
            raise ValueError("say why the events are requeued (--reason)")
        stamp = iso(at)
        note = f"requeued {stamp}: {reason.strip()}"[:500]
        counted: list[int] = []

        def tx(db: sqlite_utils.Database) -> None:
            if event_ids is None:
                ids = [r[0] for r in db.execute("SELECT event_id FROM outbox WHERE rejected_at IS NOT NULL")]
            else:
                ids = list(event_ids)
            done = 0
            for event_id in ids:
                cursor = db.execute("UPDATE outbox SET rejected_at = NULL, next_attempt_at = ?, last_error = ? "
                                    "WHERE event_id = ? AND rejected_at IS NOT NULL", [stamp, note, event_id])
                if cursor.rowcount:
                    db.execute("UPDATE ledger SET cloud_state = 'pending' WHERE event_id = ?", [event_id])
                    done += 1
            counted.append(done)

        self.write(tx)
        return counted[0]

    def outbox_parked(self, limit: int = 100) -> list[dict[str, Any]]:
        """Events the cloud refused, newest first, for staff to look at."""
        rows = self.query(
            "SELECT event_id, attempts, rejected_at, last_error, json_extract(payload, '$.kind') AS kind "
            "FROM outbox WHERE rejected_at IS NOT NULL ORDER BY rejected_at DESC, rowid DESC LIMIT ?",
            (limit,),
        )
        return [dict(r) for r in rows]

    def outbox_pending(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = self.query(
            "SELECT event_id, attempts, next_attempt_at, created_at, json_extract(payload, '$.kind') AS kind "
            "FROM outbox WHERE sent_at IS NULL AND rejected_at IS NULL ORDER BY created_at, rowid LIMIT ?",
            (limit,),
        )
        return [dict(r) for r in rows]


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
