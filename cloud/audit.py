"""The audit log: every change made from the console or `kiosk-cloud`, who, when, what, before and after."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from cloud.db import Database
from cloud.db.schema import audit_log


@dataclass(frozen=True)
class AuditEntry:
    audit_id: int
    at: str
    actor: str
    action: str
    target: str
    before: Any
    after: Any


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def record(conn: Connection, *, at: str, actor: str, action: str, target: str,
           before: Any = None, after: Any = None) -> None:
    """Write one entry inside the caller's transaction, so a change and its record commit together."""
    conn.execute(audit_log.insert().values(at=at, actor=actor, action=action, target=target,
                                           before=_dump(before), after=_dump(after)))


def recent(db: Database, limit: int = 200) -> list[AuditEntry]:
    with db.read() as conn:
        rows = conn.execute(select(audit_log).order_by(audit_log.c.audit_id.desc()).limit(limit)).all()
    return [AuditEntry(r.audit_id, r.at, r.actor, r.action, r.target,
                       None if r.before is None else json.loads(r.before),
                       None if r.after is None else json.loads(r.after)) for r in rows]
