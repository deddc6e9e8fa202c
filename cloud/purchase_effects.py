"""What the ingest keeps of a purchase beyond its ledger row, inside the batch's transaction: the campaigns that
applied to it (with the points each added) and the cashback it gave, one multi-row insert each per batch.

Called by cloud.store.CloudStore._apply_effects with the earn events just stored (a resend is a duplicate before
it gets here). The campaign results and weekly reports sum these tables in SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from cloud.db.schema import cashback_entries, event_campaigns
from kiosk import protocol


def apply(conn: Connection, branch: str, purchases: Sequence[dict[str, Any]]) -> None:
    applied, cashback = [], []
    for event in purchases:
        common = {"event_id": event["event_id"], "branch": branch, "member_id": event["member_id"],
                  "created_at": protocol.format_time(protocol.parse_time(event["created_at"]))}
        applied.extend({**common, "campaign_id": c["id"], "points": c["points"]} for c in event.get("campaigns", ()))
        if event.get("cashback"):
            cashback.append({**common, "amount": event["cashback"]})
    if applied:
        conn.execute(event_campaigns.insert(), applied)
    if cashback:
        conn.execute(cashback_entries.insert(), cashback)
